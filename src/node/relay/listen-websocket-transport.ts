/**
 * A server transport on its own HTTP server: for tests, and for a hub with one Space that needs
 * no relay routing.
 *
 * ```ts
 * import { listenWebSocketTransport } from 'cabildo/node'
 * const server = await listenWebSocketTransport({ host: '127.0.0.1', port: 0 })
 * server.transport.on('peer', ({ peerId }) => console.log(`${peerId} connected to ${server.url}`))
 * server.transport.connect({ peerId: 'hub' })
 * await server.close()
 * ```
 * @module
 */
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'
import { WEBSOCKET_SUBPROTOCOL } from '../../transports/websocket-frames'
import { maxPayloadFor } from './connection-limits'
import { closeServer, listen, refuseUpgrade, wantsCabildoProtocol, wsUrl } from './http-server'
import { createWebSocketServerTransport, type WebSocketServerTransport, type WebSocketServerTransportOptions } from './ws-server-transport'

/** Options of {@link listenWebSocketTransport}. */
export interface ListenWebSocketTransportOptions extends WebSocketServerTransportOptions {
  /** The interface to listen on. Default `127.0.0.1`. */
  readonly host?: string
  /** The port; 0 (the default) picks a free one. */
  readonly port?: number
}

/** A server transport listening on its own HTTP server. */
export interface ListeningWebSocketTransport {
  /** The transport: connect it (or give it to a sync engine), as any transport. */
  readonly transport: WebSocketServerTransport
  /** The URL clients connect to (any path; the subprotocol `cabildo.v1` is required). */
  readonly url: string
  /** The port it listens on. */
  readonly port: number
  /** Closes the transport, every connection and the server. */
  close(): Promise<void>
}

/**
 * Starts an HTTP server whose WebSocket upgrades with the subprotocol `cabildo.v1` become
 * connections of one server transport; other upgrades are refused with 400.
 * @throws CabildoError `E_NETWORK` when the address cannot be used; `E_ARGUMENT` for an invalid limit.
 */
export async function listenWebSocketTransport(options: ListenWebSocketTransportOptions = {}): Promise<ListeningWebSocketTransport> {
  const { host = '127.0.0.1', port = 0, ...transportOptions } = options
  const transport = createWebSocketServerTransport(transportOptions)
  const maxPayload = maxPayloadFor(transport)
  const sockets = new WebSocketServer({ noServer: true, maxPayload, handleProtocols: (protocols) => (protocols.has(WEBSOCKET_SUBPROTOCOL) ? WEBSOCKET_SUBPROTOCOL : false) })
  const server = createServer((_request, response) => {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
  })
  server.on('upgrade', (request, socket, head) => {
    if (!wantsCabildoProtocol(request)) {
      refuseUpgrade(socket, 400, `the subprotocol ${WEBSOCKET_SUBPROTOCOL} is required`)
      return
    }
    sockets.handleUpgrade(request, socket, head, (webSocket) => transport.accept(webSocket))
  })
  const bound = await listen(server, host, port)
  return {
    transport,
    url: wsUrl(host, bound),
    port: bound,
    async close() {
      transport.close()
      for (const client of sockets.clients) client.terminate()
      sockets.close()
      await closeServer(server)
    },
  }
}
