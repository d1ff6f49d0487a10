/**
 * One peer's end of a memory network: the {@link Transport} that `network.transport()` returns.
 * It keeps the event grammar (which peers are announced) and hands everything else to its network.
 * @module
 */
import { CabildoError } from '../errors'
import { createListenerSet } from './listener-set'
import type { PeerId, PeerInfo, Transport, TransportEvents } from './transport'

/** A {@link Transport} on a memory network. */
export interface MemoryTransport extends Transport {
  /** Always `memory`. */
  readonly kind: 'memory'
  /** The id it connected as; `undefined` before `connect`. */
  readonly peerId: PeerId | undefined
  /** The peers it has announced (by `peer`, not yet by `peer-left`), in announcement order. */
  readonly peers: readonly PeerId[]
  /** Whether it is closed. */
  readonly closed: boolean
}

/** What a {@link MemoryTransportEnd} needs of its network. */
export interface MemoryHub {
  /** The limit of every transport on the network. */
  readonly maxMessageBytes: number | undefined
  /** Puts a connecting transport on the network. Throws `E_ARGUMENT` / `E_CLOSED` to refuse it. */
  attach(end: MemoryTransportEnd, self: PeerInfo): void
  /** Takes a closing transport off the network (connected or not). */
  detach(end: MemoryTransportEnd): void
  /** Carries bytes (already copied) from a connected transport. */
  send(from: MemoryTransportEnd, to: PeerId, bytes: Uint8Array): void
}

/** The implementation of {@link MemoryTransport}; its extra methods are for the network only. */
export class MemoryTransportEnd implements MemoryTransport {
  readonly kind = 'memory'
  readonly #hub: MemoryHub
  readonly #listeners = createListenerSet<TransportEvents>()
  readonly #announced = new Map<PeerId, PeerInfo>()
  #self: PeerInfo | undefined
  #closed = false

  /** @param hub - the network it belongs to */
  constructor(hub: MemoryHub) {
    this.#hub = hub
  }

  get maxMessageBytes(): number | undefined {
    return this.#hub.maxMessageBytes
  }

  get peerId(): PeerId | undefined {
    return this.#self?.peerId
  }

  get peers(): readonly PeerId[] {
    return [...this.#announced.keys()]
  }

  get closed(): boolean {
    return this.#closed
  }

  connect(self: PeerInfo): void {
    if (this.#closed) throw new CabildoError('E_CLOSED', 'this memory transport is closed: create another', { what: 'transport' })
    if (this.#self !== undefined) {
      throw new CabildoError('E_ARGUMENT', `this memory transport is already connected as ${this.#self.peerId}`, { argument: 'self', reason: 'already connected' })
    }
    if (typeof self.peerId !== 'string' || self.peerId === '') {
      throw new CabildoError('E_ARGUMENT', 'a peer id must be a non-empty string', { argument: 'self.peerId', reason: 'empty' }, { path: ['peerId'] })
    }
    const info: PeerInfo = Object.freeze(
      self.metadata === undefined ? { peerId: self.peerId } : { peerId: self.peerId, metadata: Object.freeze({ ...self.metadata }) },
    )
    this.#hub.attach(this, info)
    this.#self = info
  }

  send(to: PeerId, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) {
      throw new CabildoError('E_ARGUMENT', 'send takes a Uint8Array', { argument: 'bytes', reason: 'not a Uint8Array' })
    }
    if (this.#self === undefined || this.#closed) return
    // `new Uint8Array(view)` always copies into a fresh buffer (unlike Buffer#slice, which shares).
    this.#hub.send(this, to, new Uint8Array(bytes))
  }

  on<E extends keyof TransportEvents>(event: E, listener: (payload: TransportEvents[E]) => void): () => void {
    if (this.#closed) return () => {}
    return this.#listeners.on(event, listener)
  }

  close(): void {
    this.shutdown(undefined)
  }

  /** Whether `peerId` is announced (so it may send here and be sent to). */
  knows(peerId: PeerId): boolean {
    return this.#announced.has(peerId)
  }

  /** Announces a peer, unless it already is or this transport is closed. */
  announce(peer: PeerInfo): void {
    if (this.#closed || this.#announced.has(peer.peerId)) return
    this.#announced.set(peer.peerId, peer)
    this.#listeners.emit('peer', peer)
  }

  /** Emits `peer-left` for an announced peer; does nothing otherwise. */
  forget(peerId: PeerId): void {
    if (this.#closed || !this.#announced.delete(peerId)) return
    this.#listeners.emit('peer-left', { peerId })
  }

  /** Emits a message from an announced peer. The network checked `knows(from)` first. */
  deliver(from: PeerId, bytes: Uint8Array): void {
    this.#listeners.emit('message', { from, bytes })
  }

  /** Closes with a reason (the network's own close passes one). */
  shutdown(reason: string | undefined): void {
    if (this.#closed) return
    this.#closed = true
    this.#hub.detach(this)
    for (const peerId of [...this.#announced.keys()]) {
      this.#announced.delete(peerId)
      this.#listeners.emit('peer-left', { peerId })
    }
    this.#listeners.emit('close', reason === undefined ? {} : { reason })
    this.#listeners.clear()
  }
}
