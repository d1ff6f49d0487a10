/**
 * The plumbing of an HTTP server that upgrades to WebSockets: listening on a host and port,
 * refusing an upgrade with an HTTP status before any WebSocket exists, and closing.
 *
 * ```ts
 * const server = createServer()
 * const port = await listen(server, '127.0.0.1', 0)
 * server.on('upgrade', (request, socket) => refuseUpgrade(socket, 401, 'a valid token is required'))
 * await closeServer(server)
 * ```
 * @module
 */
import type { IncomingMessage, Server } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { CabildoError } from '../../errors'
import { WEBSOCKET_SUBPROTOCOL } from '../../transports/websocket-frames'

/**
 * Starts `server` listening; resolves with the port (the free one chosen for port 0).
 * @throws CabildoError `E_NETWORK` when the address cannot be used (e.g. the port is taken).
 */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error & { code?: string }): void => {
      reject(new CabildoError('E_NETWORK', `cannot listen on ${host}:${port}: ${error.message}`, { operation: 'listen', address: `${host}:${port}`, ...(error.code ? { cause: error.code } : {}) }, { cause: error }))
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      const address = server.address()
      resolve(typeof address === 'object' && address !== null ? address.port : port)
    })
  })
}

/** Answers an upgrade request with an HTTP error and closes the connection: no WebSocket is created. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return
  const body = `${message}\n`
  socket.on('error', () => undefined)
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
  // Do not wait for the client to read: a refused client gets no more of our time.
  setTimeout(() => socket.destroy(), 1_000).unref()
}

/** Stops accepting connections, closes idle and open HTTP connections, and resolves once the server is closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve()
      return
    }
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

/** The `ws://` URL of a server listening on `host` and `port`. */
export function wsUrl(host: string, port: number): string {
  return `ws://${host.includes(':') ? `[${host}]` : host}:${port}`
}

/** Whether an upgrade request asks for cabildo's subprotocol. */
export function wantsCabildoProtocol(request: IncomingMessage): boolean {
  const header = request.headers['sec-websocket-protocol']
  if (typeof header !== 'string') return false
  return header.split(',').some((protocol) => protocol.trim() === WEBSOCKET_SUBPROTOCOL)
}
