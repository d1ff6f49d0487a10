/**
 * A throwaway Redis server for tests: `redis-server` on 127.0.0.1, a free port, a temporary
 * directory, no persistence (`--save ''`, no AOF), stopped and removed on teardown. No mocks:
 * the tests talk to a real server, and can stop and restart it to simulate an outage.
 *
 * ```ts
 * const server = await startRedisServer()
 * const bus = createRedisBus({ url: server.url })
 * await server.stop()   // connections are cut, new ones refused
 * await server.start()  // same port, empty again (nothing was persisted)
 * await server.destroy()
 * ```
 *
 * The binary is looked up on PATH and in /usr/bin, /usr/local/bin (Debian's `redis-server`
 * package). Pub/sub output buffers are raised (`pubsub 256mb 64mb 60`) so that a subscriber busy
 * verifying signatures is not cut off by Redis's default 32 MB limit.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { launchOnFreePort, stopChild, track, waitForExit } from './server-process'

/** A running (or stopped) test server. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string
  /** The TCP port, kept across `stop()` and `start()`. */
  readonly port: number
  /** Whether the server is running. */
  readonly running: boolean
  /** Stops the server (SIGTERM) and waits for it to exit; clients see their connections close. */
  stop(): Promise<void>
  /** Starts it again on the same port; resolves once it answers PING. */
  start(): Promise<void>
  /** Stops the server and removes its directory. Idempotent. */
  destroy(): Promise<void>
}

/** The `redis-server` binary, or undefined. */
export function findRedisServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== ''), '/usr/bin', '/usr/local/bin']
  for (const dir of dirs) {
    const candidate = join(dir, 'redis-server')
    if (existsSync(candidate)) return candidate
  }
  return undefined
}

/** Whether a server on `port` answers PING with PONG. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    let reply = ''
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

/**
 * Starts `redis-server` on 127.0.0.1, on a free port, in a temporary directory, persisting nothing.
 * @throws if no `redis-server` is found (install Debian's `redis-server` package) or it does not answer within 10 s.
 */
export async function startRedisServer(): Promise<RedisServer> {
  const binary = findRedisServer()
  if (binary === undefined) throw new Error('redis-server not found on PATH, /usr/bin or /usr/local/bin: install the redis-server package')
  const dir = await mkdtemp(join(tmpdir(), 'cabildo-redis-'))
  let port = 0
  let child: ChildProcess | undefined
  let destroyed = false

  const launch = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--client-output-buffer-limit', 'pubsub 256mb 64mb 60', '--loglevel', 'warning']
    const started = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000)
    }
    started.stdout?.on('data', collect)
    started.stderr?.on('data', collect)
    started.on('error', () => undefined)
    track(started, 'SIGKILL')
    child = started
    const deadline = Date.now() + 10_000
    for (;;) {
      if (started.exitCode !== null || started.signalCode !== null) {
        child = undefined
        throw new Error(`redis-server exited during startup (${started.exitCode ?? started.signalCode}):\n${output}`)
      }
      if (await pings(port)) return
      if (Date.now() > deadline) {
        started.kill('SIGKILL')
        await waitForExit(started)
        child = undefined
        throw new Error(`redis-server did not answer within 10 s:\n${output}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  port = await launchOnFreePort(async (free) => {
    port = free
    await launch()
  }, () => rm(dir, { recursive: true, force: true }))

  const stop = async (): Promise<void> => {
    const running = child
    if (running === undefined) return
    child = undefined
    await stopChild(running, 'SIGTERM', 'SIGKILL', 10_000)
  }

  return {
    get url() {
      return `redis://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    get running() {
      return child !== undefined
    },
    stop,
    async start() {
      if (destroyed) throw new Error('This Redis server was destroyed')
      if (child === undefined) await launch()
    },
    async destroy() {
      if (destroyed) return
      destroyed = true
      await stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
