/**
 * A {@link Transport} over a `BroadcastChannel`: the tabs, iframes and workers of one origin that
 * open the same channel name reach each other, with no server.
 *
 * ```ts
 * import { createBroadcastChannelTransport, openSpace } from 'cabildo'
 * const space = await openSpace({ id: 'city-of-example' })
 * const engine = space.sync(createBroadcastChannelTransport({ channel: 'city-of-example' }), { peerId: crypto.randomUUID() })
 * addEventListener('pagehide', () => engine.close()) // says bye: the other tabs see this one leave at once
 * ```
 *
 * Discovery: a peer that connects broadcasts a `hello` asking for answers; every peer on the
 * channel announces it and answers with a `hello-back` addressed to it. A peer that closes
 * broadcasts `bye`. A closed tab says nothing, so each peer also repeats its `hello` every
 * `heartbeatMs` as a heartbeat, and a peer heard from neither by a heartbeat nor by any other
 * frame for `timeoutMs` is announced as left. Heard again, it is announced again.
 *
 * Every frame reaches every peer on the channel; a `data` frame names its addressee, and the others
 * drop it. Frames are plain objects tagged `cabildo: 1`; anything else on the channel is ignored.
 * @module
 */
import { CabildoError } from '../errors'
import { createListenerSet } from './listener-set'
import type { PeerId, PeerInfo, Transport, TransportEvents } from './transport'

/** The part of the `BroadcastChannel` API the transport uses (the browser's, Node's, or a stand-in). */
export interface BroadcastChannelLike {
  /** Sends a structured-cloneable value to every other channel object of the same name. */
  postMessage(message: unknown): void
  /** Called with each message another channel object of the same name posted. */
  onmessage: ((event: MessageEvent) => void) | null
  /** Stops receiving; later posts are dropped. */
  close(): void
}

/** A constructor of channels, such as `globalThis.BroadcastChannel`. */
export type BroadcastChannelConstructor = new (name: string) => BroadcastChannelLike

/** Options of {@link createBroadcastChannelTransport}. */
export interface BroadcastChannelTransportOptions {
  /** The channel name: peers that open the same name (on the same origin) reach each other. */
  readonly channel: string
  /** The channel constructor. Default: `globalThis.BroadcastChannel` (browsers, Deno, Node 18+). */
  readonly BroadcastChannel?: BroadcastChannelConstructor
  /** Milliseconds between heartbeats. Default 1 000. Every peer on a channel should use the same timing. */
  readonly heartbeatMs?: number
  /**
   * Milliseconds without a frame from a peer after which it is announced as left. Counted in this
   * peer's heartbeats (rounded up, at least two), so a silent peer leaves between
   * `timeoutMs - heartbeatMs` and `timeoutMs` after its last frame. Default 5 000.
   */
  readonly timeoutMs?: number
}

/** A {@link Transport} over a `BroadcastChannel`. */
export interface BroadcastChannelTransport extends Transport {
  /** Always `broadcast-channel`. */
  readonly kind: 'broadcast-channel'
  /** The channel name. */
  readonly channel: string
  /** The peers it has announced (by `peer`, not yet by `peer-left`), in announcement order. */
  readonly peers: readonly PeerId[]
}

/** The default of {@link BroadcastChannelTransportOptions.heartbeatMs}. */
export const DEFAULT_HEARTBEAT_MS = 1_000
/** The default of {@link BroadcastChannelTransportOptions.timeoutMs}. */
export const DEFAULT_PEER_TIMEOUT_MS = 5_000

/** The tag of every frame: frames of another protocol (or a later version) on the channel are ignored. */
const TAG = 1

type Frame =
  /** Announces `from`; `ask` asks every peer (or only `to`, if set) to answer with a `hello-back`. */
  | { readonly cabildo: typeof TAG; readonly type: 'hello'; readonly from: PeerInfo; readonly ask: boolean; readonly to?: PeerId }
  | { readonly cabildo: typeof TAG; readonly type: 'hello-back'; readonly from: PeerInfo; readonly to: PeerId }
  | { readonly cabildo: typeof TAG; readonly type: 'bye'; readonly from: PeerId }
  | { readonly cabildo: typeof TAG; readonly type: 'data'; readonly from: PeerId; readonly to: PeerId; readonly bytes: Uint8Array }

/**
 * Creates a transport over the channel `options.channel`. Nothing is opened until `connect`.
 *
 * What it promises beyond the {@link Transport} contract: one sender's messages to one receiver
 * arrive in send order, and none is lost while both are connected (a `BroadcastChannel` delivers
 * every message, in order, to every other open channel object of its name). It has no message
 * size limit of its own.
 * @throws CabildoError `E_ARGUMENT` when the channel name is empty, a timing is not a positive
 *   number, or no `BroadcastChannel` exists on this platform and none is given.
 */
export function createBroadcastChannelTransport(options: BroadcastChannelTransportOptions): BroadcastChannelTransport {
  const { channel, heartbeatMs = DEFAULT_HEARTBEAT_MS, timeoutMs = DEFAULT_PEER_TIMEOUT_MS } = options
  if (typeof channel !== 'string' || channel === '') {
    throw new CabildoError('E_ARGUMENT', 'a BroadcastChannel transport needs a channel name', { argument: 'channel', reason: 'empty' })
  }
  for (const [argument, value] of [['heartbeatMs', heartbeatMs], ['timeoutMs', timeoutMs]] as const) {
    if (!(Number.isFinite(value) && value > 0)) {
      throw new CabildoError('E_ARGUMENT', `${argument} must be a positive number, got ${value}`, { argument, reason: 'not a positive number' })
    }
  }
  const Channel = options.BroadcastChannel ?? (globalThis as { BroadcastChannel?: BroadcastChannelConstructor }).BroadcastChannel
  if (Channel === undefined) {
    throw new CabildoError('E_ARGUMENT', 'BroadcastChannel is not available on this platform: pass options.BroadcastChannel', {
      argument: 'BroadcastChannel',
      reason: 'not available',
    })
  }
  return new ChannelTransport(channel, Channel, heartbeatMs, Math.max(2, Math.ceil(timeoutMs / heartbeatMs)))
}

class ChannelTransport implements BroadcastChannelTransport {
  readonly kind = 'broadcast-channel'
  readonly channel: string
  readonly #Channel: BroadcastChannelConstructor
  readonly #heartbeatMs: number
  /** How many heartbeats may pass without a frame from a peer before it is announced as left. */
  readonly #maxMissed: number
  readonly #listeners = createListenerSet<TransportEvents>()
  /** Announced peers → heartbeats passed since their last frame. */
  readonly #announced = new Map<PeerId, number>()
  #self: PeerInfo | undefined
  #port: BroadcastChannelLike | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  #closed = false

  constructor(channel: string, Channel: BroadcastChannelConstructor, heartbeatMs: number, maxMissed: number) {
    this.channel = channel
    this.#Channel = Channel
    this.#heartbeatMs = heartbeatMs
    this.#maxMissed = maxMissed
  }

  get peers(): readonly PeerId[] {
    return [...this.#announced.keys()]
  }

  connect(self: PeerInfo): void {
    if (this.#closed) throw new CabildoError('E_CLOSED', 'this BroadcastChannel transport is closed: create another', { what: 'transport' })
    if (this.#self !== undefined) {
      throw new CabildoError('E_ARGUMENT', `this BroadcastChannel transport is already connected as ${this.#self.peerId}`, { argument: 'self', reason: 'already connected' })
    }
    if (typeof self.peerId !== 'string' || self.peerId === '') {
      throw new CabildoError('E_ARGUMENT', 'a peer id must be a non-empty string', { argument: 'self.peerId', reason: 'empty' }, { path: ['peerId'] })
    }
    const info: PeerInfo = self.metadata === undefined ? { peerId: self.peerId } : { peerId: self.peerId, metadata: { ...self.metadata } }
    const port = new this.#Channel(this.channel)
    port.onmessage = (event) => this.#receive(event.data)
    this.#self = info
    this.#port = port
    this.#post({ cabildo: TAG, type: 'hello', from: info, ask: true })
    this.#timer = setInterval(() => this.#beat(), this.#heartbeatMs)
    // Never keep a Node process alive for heartbeats alone.
    ;(this.#timer as { unref?: () => void }).unref?.()
  }

  send(to: PeerId, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) {
      throw new CabildoError('E_ARGUMENT', 'send takes a Uint8Array', { argument: 'bytes', reason: 'not a Uint8Array' })
    }
    const self = this.#self
    if (self === undefined || this.#closed || !this.#announced.has(to)) return
    // postMessage clones the array before it returns, but with its whole buffer: a view into a
    // larger (or shared) buffer is copied alone first, so nothing else of the sender's memory leaves.
    const whole = bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    this.#post({ cabildo: TAG, type: 'data', from: self.peerId, to, bytes: whole ? bytes : bytes.slice() })
  }

  on<E extends keyof TransportEvents>(event: E, listener: (payload: TransportEvents[E]) => void): () => void {
    if (this.#closed) return () => {}
    return this.#listeners.on(event, listener)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    if (this.#self !== undefined) this.#post({ cabildo: TAG, type: 'bye', from: this.#self.peerId })
    this.#port?.close()
    for (const peerId of [...this.#announced.keys()]) {
      this.#announced.delete(peerId)
      this.#listeners.emit('peer-left', { peerId })
    }
    this.#listeners.emit('close', {})
    this.#listeners.clear()
  }

  #post(frame: Frame): void {
    try {
      this.#port?.postMessage(frame)
    } catch {
      // A channel the platform closed under us (a page being discarded) throws: like any network
      // trouble, that drops the frame and never reaches the caller.
    }
  }

  /** Sends the heartbeat and announces as left every peer silent for too many heartbeats. */
  #beat(): void {
    const self = this.#self
    if (this.#closed || self === undefined) return
    this.#post({ cabildo: TAG, type: 'hello', from: self, ask: false })
    for (const [peerId, missed] of [...this.#announced]) {
      if (missed + 1 >= this.#maxMissed) this.#leave(peerId)
      else this.#announced.set(peerId, missed + 1)
    }
  }

  #receive(data: unknown): void {
    const self = this.#self
    if (this.#closed || self === undefined) return
    const frame = readFrame(data)
    if (frame === undefined || (frame.type === 'bye' || frame.type === 'data' ? frame.from : frame.from.peerId) === self.peerId) return
    switch (frame.type) {
      case 'hello':
        if (frame.to !== undefined && frame.to !== self.peerId) return
        this.#heard(frame.from)
        if (frame.ask) this.#post({ cabildo: TAG, type: 'hello-back', from: self, to: frame.from.peerId })
        return
      case 'hello-back':
        if (frame.to === self.peerId) this.#heard(frame.from)
        return
      case 'bye':
        this.#leave(frame.from)
        return
      case 'data':
        if (frame.to !== self.peerId) return
        if (this.#announced.has(frame.from)) {
          this.#announced.set(frame.from, 0)
          this.#listeners.emit('message', { from: frame.from, bytes: frame.bytes })
        } else {
          // A peer we timed out is alive after all (a throttled background tab): its message is
          // lost, but asking it alone for a hello announces it again without waiting for its heartbeat.
          this.#post({ cabildo: TAG, type: 'hello', from: self, ask: true, to: frame.from })
        }
    }
  }

  /** A peer's hello arrived: it is alive; announce it if it is new. */
  #heard(peer: PeerInfo): void {
    const known = this.#announced.has(peer.peerId)
    this.#announced.set(peer.peerId, 0)
    if (!known) this.#listeners.emit('peer', peer)
  }

  #leave(peerId: PeerId): void {
    if (this.#announced.delete(peerId)) this.#listeners.emit('peer-left', { peerId })
  }
}

/** Reads a frame off the channel; `undefined` for anything that is not a well-formed cabildo frame. */
function readFrame(data: unknown): Frame | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const frame = data as Record<string, unknown>
  if (frame['cabildo'] !== TAG) return undefined
  switch (frame['type']) {
    case 'hello': {
      const from = readPeerInfo(frame['from'])
      const to = frame['to']
      if (from === undefined || typeof frame['ask'] !== 'boolean' || (to !== undefined && !isPeerId(to))) return undefined
      return { cabildo: TAG, type: 'hello', from, ask: frame['ask'], ...(to === undefined ? {} : { to }) }
    }
    case 'hello-back': {
      const from = readPeerInfo(frame['from'])
      const to = frame['to']
      return from !== undefined && isPeerId(to) ? { cabildo: TAG, type: 'hello-back', from, to } : undefined
    }
    case 'bye':
      return isPeerId(frame['from']) ? { cabildo: TAG, type: 'bye', from: frame['from'] } : undefined
    case 'data': {
      const { from, to, bytes } = frame
      return isPeerId(from) && isPeerId(to) && bytes instanceof Uint8Array ? { cabildo: TAG, type: 'data', from, to, bytes } : undefined
    }
    default:
      return undefined
  }
}

function isPeerId(value: unknown): value is PeerId {
  return typeof value === 'string' && value !== ''
}

/** A peer's self-description as it came over the channel, rebuilt as plain frozen data; `undefined` if malformed. */
function readPeerInfo(value: unknown): PeerInfo | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { peerId, metadata } = value as { peerId?: unknown; metadata?: unknown }
  if (!isPeerId(peerId)) return undefined
  if (metadata === undefined) return Object.freeze({ peerId })
  if (typeof metadata !== 'object' || metadata === null) return undefined
  const entries = Object.entries(metadata)
  if (!entries.every(([, v]) => typeof v === 'string')) return undefined
  return Object.freeze({ peerId, metadata: Object.freeze(Object.fromEntries(entries) as Record<string, string>) })
}
