/**
 * A {@link Transport} over Redis pub/sub: the processes that open the same channel name (a relay
 * cluster's members, for one Space) reach each other through one Redis server.
 *
 * ```ts
 * import { createSpace } from 'cabildo'
 * import { createRedisTransport } from 'cabildo/node'
 * const space = createSpace({ id: 'city' })
 * const transport = createRedisTransport({ url: 'redis://127.0.0.1:6379', channel: 'city' })
 * const engine = space.sync(transport, { peerId: 'relay-a', relay: true, eager: true })
 * engine.close() // says bye; closes the connections this transport made
 * ```
 *
 * Channels, with the bus's prefix `p` and this transport's channel name `c` (both percent-encoded
 * where they hold anything but letters, digits and `-_.!~*'()`): `p:c:bus` carries every peer's
 * `hello` (at connect, asking for answers, and again every `heartbeatMs`) and `bye`;
 * `p:c:to:<peer id>` carries what is addressed to one peer (`hello-back`, `data`). A peer heard
 * from by no frame for `timeoutMs` is announced as left; a peer that says hello under a new
 * incarnation (its Redis connection broke, or it restarted) is announced as left and back.
 * @module
 */
import { CabildoError } from '../../errors'
import { createListenerSet } from '../../transports/listener-set'
import type { PeerId, PeerInfo, Transport, TransportEvents } from '../../transports/transport'
import { helloFits } from '../../transports/websocket-frames'
import { createRedisBus, RedisBusStatus, type RedisBus, type RedisBusOptions } from './redis-bus'
import { decodeBusFrame, encodeBusFrame, type BusFrame } from './redis-frames'

/** Options of {@link createRedisTransport}: where to publish, and the timing of discovery. */
export interface RedisTransportOptions {
  /** The channel name: peers on the same name (and Redis, and prefix) reach each other. For a relay, the Space id. */
  readonly channel: string
  /**
   * A bus to share with the process's other Redis transports (recommended: one bus per process).
   * Otherwise give `url` (and optionally `prefix`): the transport makes its own bus and closes it
   * when it closes.
   */
  readonly bus?: RedisBus
  /** The Redis URL, when no `bus` is given. */
  readonly url?: string
  /** The channel prefix of the bus made from `url` (default `cabildo`). */
  readonly prefix?: RedisBusOptions['prefix']
  /** Milliseconds between heartbeats. Default 2,000. Every peer on a channel should use the same timing. */
  readonly heartbeatMs?: number
  /**
   * Milliseconds without a frame from a peer after which it is announced as left (counted in
   * heartbeats, rounded up, at least two). Default 10,000.
   */
  readonly timeoutMs?: number
  /** Larger messages are dropped (the sync engine splits its traffic below it). Default 16 MiB. */
  readonly maxMessageBytes?: number
}

/** A {@link Transport} over Redis pub/sub. */
export interface RedisTransport extends Transport {
  /** Always `redis`. */
  readonly kind: 'redis'
  /** The channel name. */
  readonly channel: string
  /** The largest message it carries. */
  readonly maxMessageBytes: number
  /** The peers it has announced (by `peer`, not yet by `peer-left`), in announcement order. */
  readonly peers: readonly PeerId[]
}

/** The default of {@link RedisTransportOptions.heartbeatMs}. */
export const DEFAULT_REDIS_HEARTBEAT_MS = 2_000
/** The default of {@link RedisTransportOptions.timeoutMs}. */
export const DEFAULT_REDIS_PEER_TIMEOUT_MS = 10_000
/** The default of {@link RedisTransportOptions.maxMessageBytes}. */
export const DEFAULT_REDIS_MAX_MESSAGE_BYTES = 16 * 1024 * 1024

/**
 * Creates a transport on `options.channel`. Nothing is subscribed until `connect`.
 *
 * What it promises beyond the {@link Transport} contract: while Redis stays connected, one
 * sender's messages to one receiver arrive in send order, none lost, none duplicated (one
 * publishing connection per process, and Redis delivers a connection's publications in order).
 * Pub/sub keeps nothing: what is published while a receiver's connection is down is lost for
 * it, which is why every peer leaves and comes back across a break.
 * @throws CabildoError `E_ARGUMENT` when the channel is empty, a timing or size is not a
 *   positive number, neither or both of `bus` and `url` are given, or the URL is not `redis:`/`rediss:`.
 */
export function createRedisTransport(options: RedisTransportOptions): RedisTransport {
  const { channel, heartbeatMs = DEFAULT_REDIS_HEARTBEAT_MS, timeoutMs = DEFAULT_REDIS_PEER_TIMEOUT_MS, maxMessageBytes = DEFAULT_REDIS_MAX_MESSAGE_BYTES } = options
  if (typeof channel !== 'string' || channel === '') throw new CabildoError('E_ARGUMENT', 'a Redis transport needs a channel name', { argument: 'channel', reason: 'empty' })
  for (const [argument, value] of [['heartbeatMs', heartbeatMs], ['timeoutMs', timeoutMs], ['maxMessageBytes', maxMessageBytes]] as const) {
    if (!(Number.isFinite(value) && value > 0)) throw new CabildoError('E_ARGUMENT', `${argument} must be a positive number, got ${value}`, { argument, reason: 'not a positive number' })
  }
  if ((options.bus === undefined) === (options.url === undefined)) {
    throw new CabildoError('E_ARGUMENT', 'give a Redis transport either a bus or a url', { argument: 'bus', reason: 'exactly one of bus and url is required' })
  }
  const own = options.bus === undefined
  const bus = options.bus ?? createRedisBus({ url: options.url as string, ...(options.prefix === undefined ? {} : { prefix: options.prefix }) })
  return new BusTransport(bus, own, channel, heartbeatMs, Math.max(2, Math.ceil(timeoutMs / heartbeatMs)), maxMessageBytes)
}

/** A channel name part: percent-encoded, so `:` only ever separates parts. */
function part(name: string): string {
  return encodeURIComponent(name)
}

/** A fresh incarnation: 64 random bits in hex. */
function newIncarnation(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8))
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

interface Announced {
  readonly incarnation: string
  /** Heartbeats passed since its last frame. */
  missed: number
}

class BusTransport implements RedisTransport {
  readonly kind = 'redis'
  readonly channel: string
  readonly maxMessageBytes: number
  readonly #bus: RedisBus
  readonly #ownBus: boolean
  readonly #heartbeatMs: number
  readonly #maxMissed: number
  readonly #busChannel: string
  readonly #listeners = createListenerSet<TransportEvents>()
  readonly #announced = new Map<PeerId, Announced>()
  /** Peers asked for a hello since the last heartbeat (a message from a peer not announced). */
  readonly #asked = new Set<PeerId>()
  readonly #onBus = (bytes: Uint8Array): void => this.#receive(bytes, false)
  readonly #onOwn = (bytes: Uint8Array): void => this.#receive(bytes, true)
  #self: PeerInfo | undefined
  #ownChannel = ''
  #incarnation = ''
  #timer: ReturnType<typeof setInterval> | undefined
  #unwatch: (() => void) | undefined
  #closed = false

  constructor(bus: RedisBus, ownBus: boolean, channel: string, heartbeatMs: number, maxMissed: number, maxMessageBytes: number) {
    this.#bus = bus
    this.#ownBus = ownBus
    this.channel = channel
    this.#heartbeatMs = heartbeatMs
    this.#maxMissed = maxMissed
    this.maxMessageBytes = maxMessageBytes
    this.#busChannel = `${bus.prefix}:${part(channel)}:bus`
  }

  get peers(): readonly PeerId[] {
    return [...this.#announced.keys()]
  }

  connect(self: PeerInfo): void {
    if (this.#closed) throw new CabildoError('E_CLOSED', 'this Redis transport is closed: create another', { what: 'transport' })
    if (this.#self !== undefined) throw new CabildoError('E_ARGUMENT', `this Redis transport is already connected as ${this.#self.peerId}`, { argument: 'self', reason: 'already connected' })
    if (typeof self.peerId !== 'string' || self.peerId === '') {
      throw new CabildoError('E_ARGUMENT', 'a peer id must be a non-empty string', { argument: 'self.peerId', reason: 'empty' }, { path: ['peerId'] })
    }
    if (!helloFits(self)) throw new CabildoError('E_ARGUMENT', 'the peer id or metadata is too long for a hello', { argument: 'self', reason: 'too long' })
    this.#self = self.metadata === undefined ? { peerId: self.peerId } : { peerId: self.peerId, metadata: { ...self.metadata } }
    this.#ownChannel = this.#channelOf(self.peerId)
    this.#incarnation = newIncarnation()
    this.#unwatch = this.#bus.watch({
      up: () => this.#up(),
      down: () => this.#leaveAll(),
      closed: () => this.#end('the Redis bus closed'),
    })
    // Listen first, then say hello: answers come to our own channel.
    const listening = Promise.all([this.#bus.listen(this.#busChannel, this.#onBus), this.#bus.listen(this.#ownChannel, this.#onOwn)])
    if (this.#bus.status === RedisBusStatus.ready) void listening.then(() => this.#hello(true), () => undefined)
    else listening.catch(() => undefined) // the bus subscribes these once it is up, then calls `up`
    this.#timer = setInterval(() => this.#beat(), this.#heartbeatMs)
    // Never keep a Node process alive for heartbeats alone.
    this.#timer.unref()
  }

  send(to: PeerId, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new CabildoError('E_ARGUMENT', 'send takes a Uint8Array', { argument: 'bytes', reason: 'not a Uint8Array' })
    const self = this.#self
    if (self === undefined || this.#closed || !this.#announced.has(to) || bytes.length > this.maxMessageBytes) return
    this.#bus.publish(this.#channelOf(to), encodeBusFrame({ type: 'data', from: self.peerId, bytes }))
  }

  on<E extends keyof TransportEvents>(event: E, listener: (payload: TransportEvents[E]) => void): () => void {
    if (this.#closed) return () => {}
    return this.#listeners.on(event, listener)
  }

  close(): void {
    this.#end(undefined)
  }

  #end(reason: string | undefined): void {
    if (this.#closed) return
    const self = this.#self
    if (self !== undefined) this.#bus.publish(this.#busChannel, encodeBusFrame({ type: 'bye', peerId: self.peerId, incarnation: this.#incarnation }))
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#unwatch?.()
    if (self !== undefined) {
      this.#bus.unlisten(this.#busChannel, this.#onBus)
      this.#bus.unlisten(this.#ownChannel, this.#onOwn)
    }
    this.#leaveAll()
    this.#listeners.emit('close', reason === undefined ? {} : { reason })
    this.#listeners.clear()
    if (this.#ownBus) void this.#bus.close()
  }

  #channelOf(peerId: PeerId): string {
    return `${this.#bus.prefix}:${part(this.channel)}:to:${part(peerId)}`
  }

  /** The bus is (again) up: we may have missed anything, so come back as a new incarnation. */
  #up(): void {
    if (this.#closed) return
    this.#incarnation = newIncarnation()
    this.#hello(true)
  }

  #hello(ask: boolean, to?: PeerId): void {
    const self = this.#self
    if (self === undefined || this.#closed) return
    this.#bus.publish(to === undefined ? this.#busChannel : this.#channelOf(to), encodeBusFrame({ type: 'hello', peer: self, incarnation: this.#incarnation, ask }))
  }

  /** Sends the heartbeat and announces as left every peer silent for too many heartbeats. */
  #beat(): void {
    if (this.#closed || this.#bus.status !== RedisBusStatus.ready) return
    this.#asked.clear()
    this.#hello(false)
    for (const [peerId, peer] of [...this.#announced]) {
      if (peer.missed + 1 >= this.#maxMissed) this.#leave(peerId)
      else peer.missed++
    }
  }

  #receive(bytes: Uint8Array, own: boolean): void {
    const self = this.#self
    if (this.#closed || self === undefined) return
    const frame = decodeBusFrame(bytes)
    if (frame === undefined) return // not ours, or garbage: anything can be published on a channel
    const from = frame.type === 'data' ? frame.from : frame.type === 'bye' ? frame.peerId : frame.peer.peerId
    if (from === self.peerId) return
    this.#handle(frame, own)
  }

  #handle(frame: BusFrame, own: boolean): void {
    const self = this.#self as PeerInfo
    switch (frame.type) {
      case 'hello':
        // Answer before announcing: the listeners of `peer` send at once, and the asker must
        // know us (by this answer) before our first message reaches it.
        if (frame.ask) this.#bus.publish(this.#channelOf(frame.peer.peerId), encodeBusFrame({ type: 'hello-back', peer: self, incarnation: this.#incarnation }))
        this.#heard(frame.peer, frame.incarnation)
        return
      case 'hello-back':
        if (own) this.#heard(frame.peer, frame.incarnation)
        return
      case 'bye':
        if (!own && this.#announced.get(frame.peerId)?.incarnation === frame.incarnation) this.#leave(frame.peerId)
        return
      case 'data': {
        if (!own) return
        const peer = this.#announced.get(frame.from)
        if (peer !== undefined) {
          peer.missed = 0
          this.#listeners.emit('message', { from: frame.from, bytes: frame.bytes })
        } else if (!this.#asked.has(frame.from)) {
          // A peer we timed out is alive after all: its message is lost, but asking it alone for
          // a hello announces it again without waiting for its heartbeat.
          this.#asked.add(frame.from)
          this.#hello(true, frame.from)
        }
      }
    }
  }

  /** A peer's hello arrived: announce it if it is new, again if it came back as a new incarnation. */
  #heard(peer: PeerInfo, incarnation: string): void {
    const known = this.#announced.get(peer.peerId)
    if (known !== undefined && known.incarnation === incarnation) {
      known.missed = 0
      return
    }
    if (known !== undefined) this.#leave(peer.peerId)
    this.#announced.set(peer.peerId, { incarnation, missed: 0 })
    this.#listeners.emit('peer', peer)
  }

  #leave(peerId: PeerId): void {
    if (this.#announced.delete(peerId)) this.#listeners.emit('peer-left', { peerId })
  }

  #leaveAll(): void {
    for (const peerId of [...this.#announced.keys()]) this.#leave(peerId)
  }
}
