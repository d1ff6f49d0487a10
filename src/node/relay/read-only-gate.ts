/**
 * Keeps read-only connections from writing: a {@link Transport} over a relay's server transport
 * that drops every message of a `read` connection except the sync messages that only read
 * (`hello`, `heads`, `want`). Envelopes from such a connection never reach the sync engine, so
 * nothing it signs is stored or forwarded; it still receives everything.
 *
 * ```ts
 * const gate = readOnlyGate(createWebSocketServerTransport(), () => metrics.refused('read-only'))
 * space.sync(gate, { peerId: 'relay', eager: true, relay: true })
 * ```
 * @module
 */
import { decodeSyncMessage } from '../../sync/sync-protocol'
import type { PeerId, PeerInfo, Transport, TransportEvents } from '../../transports/transport'
import type { WebSocketServerTransport } from './ws-server-transport'

/** Whether a read-only connection may pass these bytes: only a well-formed sync message that carries no envelopes. */
export function readOnlyMayPass(bytes: Uint8Array): boolean {
  const decoded = decodeSyncMessage(bytes)
  return decoded.ok && decoded.message.type !== 'envelopes'
}

/** Wraps `transport`; `onDrop` is called for every message dropped. */
export function readOnlyGate(transport: WebSocketServerTransport, onDrop: () => void): Transport {
  return {
    kind: transport.kind,
    maxMessageBytes: transport.maxMessageBytes,
    connect: (self: PeerInfo) => transport.connect(self),
    send: (to: PeerId, bytes: Uint8Array) => transport.send(to, bytes),
    close: () => transport.close(),
    on<E extends keyof TransportEvents>(event: E, listener: (payload: TransportEvents[E]) => void): () => void {
      if (event !== 'message') return transport.on(event, listener)
      return transport.on('message', (message) => {
        if (transport.accessOf(message.from)?.access === 'read' && !readOnlyMayPass(message.bytes)) {
          onDrop()
          return
        }
        ;(listener as (payload: TransportEvents['message']) => void)(message)
      })
    },
  }
}
