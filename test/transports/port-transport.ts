// The example transport of docs/transports.md ("Writing a transport"), kept identical to it: it
// proves that the acceptance suite certifies a real asynchronous transport, not only the memory network.
import { CabildoError } from '../../src/errors'
import { createListenerSet } from '../../src/transports/listener-set'
import type { PeerId, PeerInfo, Transport, TransportEvents } from '../../src/transports/transport'

type Frame = { type: 'hello'; peer: PeerInfo } | { type: 'data'; bytes: Uint8Array } | { type: 'bye' }

/** A transport between the two ends of a MessageChannel. Keeps order; never loses a message while both ends are open. */
export class PortTransport implements Transport {
  readonly kind = 'message-port'
  readonly #port: MessagePort
  readonly #listeners = createListenerSet<TransportEvents>()
  #self: PeerInfo | undefined
  #remote: PeerInfo | undefined
  #closed = false

  constructor(port: MessagePort) {
    this.#port = port
  }

  connect(self: PeerInfo): void {
    if (this.#closed) throw new CabildoError('E_CLOSED', 'this transport is closed', { what: 'transport' })
    if (this.#self !== undefined) throw new CabildoError('E_ARGUMENT', 'already connected', { argument: 'self', reason: 'already connected' })
    if (self.peerId === '') throw new CabildoError('E_ARGUMENT', 'empty peer id', { argument: 'self.peerId', reason: 'empty' })
    this.#self = self
    // Setting onmessage starts the port: a hello the other end sent earlier is waiting in it.
    this.#port.onmessage = (event: MessageEvent<Frame>) => this.#receive(event.data)
    this.#post({ type: 'hello', peer: self })
  }

  send(to: PeerId, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new CabildoError('E_ARGUMENT', 'send takes a Uint8Array', { argument: 'bytes', reason: 'not a Uint8Array' })
    if (this.#closed || this.#remote?.peerId !== to) return // unknown peer, before connect, after close: dropped
    this.#post({ type: 'data', bytes }) // postMessage clones the bytes before it returns
  }

  on<E extends keyof TransportEvents>(event: E, listener: (payload: TransportEvents[E]) => void): () => void {
    return this.#listeners.on(event, listener)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#self !== undefined) this.#post({ type: 'bye' })
    this.#port.close()
    this.#leave()
    this.#listeners.emit('close', {})
    this.#listeners.clear()
  }

  #post(frame: Frame): void {
    this.#port.postMessage(frame)
  }

  #receive(frame: Frame): void {
    if (this.#closed) return
    if (frame.type === 'hello' && this.#remote === undefined) {
      this.#remote = frame.peer
      this.#listeners.emit('peer', frame.peer)
    } else if (frame.type === 'data' && this.#remote !== undefined) {
      this.#listeners.emit('message', { from: this.#remote.peerId, bytes: frame.bytes })
    } else if (frame.type === 'bye') {
      this.#leave()
    }
  }

  #leave(): void {
    const remote = this.#remote
    if (remote === undefined) return
    this.#remote = undefined
    this.#listeners.emit('peer-left', { peerId: remote.peerId })
  }
}
