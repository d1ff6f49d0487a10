/**
 * The transport plug-in point: a {@link Transport} is a dumb pipe that carries opaque bytes
 * between peers. It knows nothing of documents, shards or envelopes; the sync engine above it
 * multiplexes every shard over whatever transports a Space is given.
 *
 * ```ts
 * import { createMemoryNetwork } from 'cabildo'
 * const transport = createMemoryNetwork({ seed: 7 }).transport()
 * const offPeer = transport.on('peer', ({ peerId }) => transport.send(peerId, new Uint8Array([1])))
 * const offMessage = transport.on('message', ({ from, bytes }) => console.log(from, bytes))
 * transport.connect({ peerId: 'district-a' })
 * ```
 *
 * Writing a transport means implementing this one interface and passing `runTransportTests`
 * (from `cabildo/testing`); see docs/transports.md.
 * @module
 */

/** The id a peer gives itself when it connects: a non-empty string, unique among connected peers. */
export type PeerId = string

/** Who a peer is, as it presents itself to the others. */
export interface PeerInfo {
  /** The peer's id. Transports never vouch for it: authorship is proven by signatures above. */
  readonly peerId: PeerId
  /**
   * Small string facts the peer advertises (e.g. an app name, a protocol version). Carried as
   * given to `connect` and delivered with the `peer` event; never interpreted by the transport.
   */
  readonly metadata?: Readonly<Record<string, string>>
}

/** The payload of the `peer-left` event. */
export interface PeerLeft {
  /** The peer that is no longer reachable. */
  readonly peerId: PeerId
}

/** The payload of the `message` event: bytes one peer sent to this one. */
export interface TransportMessage {
  /** The sending peer, always one announced by `peer` and not yet by `peer-left`. */
  readonly from: PeerId
  /**
   * The bytes, exactly as sent, in an array the transport never touches again (the sender's later
   * changes to its own array are not seen). Every listener of one delivery gets the same array:
   * listeners must not modify it.
   */
  readonly bytes: Uint8Array
}

/** The payload of the `close` event. */
export interface TransportClosed {
  /** Why the transport closed when it closed on its own (e.g. the relay went away); absent after `close()`. */
  readonly reason?: string
}

/**
 * The events of a {@link Transport}, by name. For each remote peer they follow one grammar:
 * `peer`, then any number of `message`s from it, then `peer-left`; and again if it comes back.
 * `close` is the last event a transport emits.
 */
export interface TransportEvents {
  /** A peer became reachable. Emitted at most once until the matching `peer-left`. */
  peer: PeerInfo
  /** A peer announced by `peer` is no longer reachable (it closed, the link broke, a partition). */
  'peer-left': PeerLeft
  /** Bytes arrived from a peer. */
  message: TransportMessage
  /** The transport closed. Emitted once, after `peer-left` for every peer still announced. */
  close: TransportClosed
}

/**
 * A pipe between this peer and others.
 *
 * Guarantees every transport gives (checked by `runTransportTests`):
 * - bytes arrive unmodified, at the addressed peer only, with the sender's peer id;
 * - bytes are copied: what the sender does to its array after `send` is never seen by receivers;
 * - `send` never throws for a network reason (unknown peer, unreachable peer, before `connect`, after
 *   `close`): such messages are silently dropped;
 * - listeners are isolated: one that throws does not stop the others, and its error is reported
 *   with `globalThis.reportError` when that exists (else rethrown on a microtask);
 * - events follow the grammar of {@link TransportEvents}; nothing is emitted after `close`.
 *
 * What a transport does NOT promise unless its documentation says so: delivery (messages may be
 * lost, e.g. when a link breaks), at-most-once delivery (they may be duplicated), and order (they
 * may be reordered). The sync engine above tolerates all three.
 */
export interface Transport {
  /** What kind of pipe this is, for logs and reports (`memory`, `broadcast-channel`, `websocket`, ...). */
  readonly kind: string

  /**
   * Optional: the largest message, in bytes, this transport carries. Larger messages are dropped,
   * so the sync engine splits its traffic below this size. Absent when there is no practical limit.
   */
  readonly maxMessageBytes?: number

  /**
   * Starts the transport as `self`. Peers are then discovered and announced by `peer` events,
   * possibly later (subscribe before connecting so as to miss none). Called once per transport.
   * @throws `E_ARGUMENT` if `self.peerId` is empty or the transport is already connected;
   *   `E_CLOSED` after `close()` (a closed transport is not reopened: create another).
   */
  connect(self: PeerInfo): void

  /**
   * Sends `bytes` to the peer `to`, fire and forget. The bytes are copied before this returns.
   * Messages to an unknown or unreachable peer, before `connect` or after `close`, are dropped
   * without an error; a delivered message may still be lost later, duplicated or reordered unless
   * the transport documents otherwise.
   * @throws `E_ARGUMENT` only for a programming error (`bytes` is not a `Uint8Array`).
   */
  send(to: PeerId, bytes: Uint8Array): void

  /**
   * Subscribes to an event (allowed before `connect`). Returns the function that unsubscribes:
   * once it has returned, the listener is never called again (calling it twice is harmless).
   */
  on<E extends keyof TransportEvents>(event: E, listener: (payload: TransportEvents[E]) => void): () => void

  /**
   * Leaves the network: emits `peer-left` for every announced peer, then `close` (with no
   * reason), synchronously; remote peers see `peer-left`. Idempotent: later calls do nothing.
   */
  close(): void
}
