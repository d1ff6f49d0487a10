/**
 * A TCP load balancer for tests, as clients meet a relay cluster in production: every
 * connection goes to the next target in turn; a target that refuses the connection (a killed
 * relay process) is skipped. Clients reconnect to one URL, and land on a live member.
 *
 * ```ts
 * const balancer = await startTcpBalancer([4001, 4002, 4003])
 * // ws://127.0.0.1:${balancer.port}/city reaches one of the three relays
 * await balancer.close()
 * ```
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

/** A running balancer. */
export interface TcpBalancer {
  /** The port it listens on (127.0.0.1). */
  readonly port: number
  /** `ws://127.0.0.1:<port>`. */
  readonly url: string
  /** The ports it forwards to, in turn. */
  targets: number[]
  /** Stops listening and cuts every connection. */
  close(): Promise<void>
}

/** Starts a balancer on 127.0.0.1 (a free port) in front of `targets`. */
export async function startTcpBalancer(targets: number[]): Promise<TcpBalancer> {
  const sockets = new Set<Socket>()
  let next = 0
  const balancer = { targets: [...targets] }

  /** Connects to the next target that accepts, trying each once. */
  const upstream = (tried: number): Promise<Socket | undefined> => {
    if (tried >= balancer.targets.length) return Promise.resolve(undefined)
    const port = balancer.targets[next++ % balancer.targets.length] as number
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port })
      socket.once('connect', () => resolve(socket))
      socket.once('error', () => {
        socket.destroy()
        resolve(upstream(tried + 1))
      })
    })
  }

  const server: Server = createServer((client) => {
    sockets.add(client)
    client.pause()
    client.on('error', () => client.destroy())
    client.once('close', () => sockets.delete(client))
    void upstream(0).then((target) => {
      if (target === undefined || client.destroyed) {
        target?.destroy()
        client.destroy()
        return
      }
      sockets.add(target)
      target.on('error', () => target.destroy())
      target.once('close', () => {
        sockets.delete(target)
        client.destroy()
      })
      client.once('close', () => target.destroy())
      client.pipe(target)
      target.pipe(client)
      client.resume()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    get targets() {
      return balancer.targets
    },
    set targets(ports: number[]) {
      balancer.targets = [...ports]
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
