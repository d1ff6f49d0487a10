/**
 * A process's connection to Redis pub/sub, shared by all its Redis transports (one per Space):
 * one connection publishes, one subscribes, and every message is handed to the transports
 * listening on its channel. `ioredis` (an optional peer dependency) is imported only when a bus
 * is created, so `cabildo/node` loads without it.
 *
 * ```ts
 * import { createRedisBus, createRedisTransport } from 'cabildo/node'
 * const bus = createRedisBus({ url: 'redis://127.0.0.1:6379' })
 * await bus.ready() // E_NETWORK if Redis cannot be reached in time
 * const transport = createRedisTransport({ bus, channel: 'city' })
 * const off = bus.onStatus(({ status }) => console.log('redis', status)) // 'down' while Redis is away, 'ready' again after
 * await bus.close()
 * ```
 *
 * Pub/sub holds nothing: a message published while a subscriber is away is lost for it. So
 * while either connection is down the bus reports `down` and its transports announce every
 * peer as gone; once both are back it subscribes again to every channel, reports `ready`, and
 * the transports say hello anew, which makes the sync engines above exchange heads and fetch
 * what was missed (from the other processes, which keep it in their stores, not from Redis).
 * @module
 */
import type { Redis, RedisOptions } from 'ioredis'
import { CabildoError } from '../../errors'
import { createListenerSet } from '../../transports/listener-set'

/** Where a bus stands. */
export const RedisBusStatus = {
  /** Connecting for the first time. */
  connecting: 'connecting',
  /** Both connections are up and every channel is subscribed. */
  ready: 'ready',
  /** A connection broke; ioredis reconnects with backoff. */
  down: 'down',
  /** `close()` was called. */
  closed: 'closed',
} as const

/** One of {@link RedisBusStatus}'s values. */
export type RedisBusStatus = (typeof RedisBusStatus)[keyof typeof RedisBusStatus]

/** A change of a bus's status. */
export interface RedisBusStatusChange {
  readonly status: RedisBusStatus
  /** Why a connection is down (an error code such as `ECONNREFUSED`, or `closed`). */
  readonly reason?: string
}

/** Options of {@link createRedisBus}. */
export interface RedisBusOptions {
  /** The server: `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  readonly url: string
  /** Prepended to every channel name (default `cabildo`), so several applications can share one Redis. */
  readonly prefix?: string
  /** How long `ready()` waits for the first connection, in milliseconds (default 10,000). */
  readonly connectTimeoutMs?: number
}

/** What a bus tells the transports that listen on it. */
export interface RedisBusWatcher {
  /** Both connections are (again) up and every channel is subscribed: say hello. */
  up(): void
  /** A connection broke: what is published now may be lost, so every peer is gone. */
  down(): void
  /** The bus closed. */
  closed(): void
}

/** A process's Redis pub/sub connections. Create one with {@link createRedisBus}. */
export interface RedisBus {
  /** Where the bus stands. */
  readonly status: RedisBusStatus
  /** The channel prefix. */
  readonly prefix: string
  /** Subscribes to status changes; returns the function that unsubscribes. */
  onStatus(listener: (change: RedisBusStatusChange) => void): () => void
  /**
   * Resolves once the bus was ready once.
   * @throws CabildoError `E_NETWORK` (operation `redis connect`) when `ioredis` cannot be loaded
   *   (cause `ERR_MODULE_NOT_FOUND`), or Redis was not reached within `connectTimeoutMs` (cause:
   *   the last connection error's code, e.g. `ECONNREFUSED`); `E_CLOSED` after `close()`.
   */
  ready(): Promise<void>
  /**
   * Delivers every message published on `channel` (a full name) to `handler`, now if the bus is
   * ready (resolving once Redis confirmed the subscription) and after every reconnection. The
   * promise rejects when the bus breaks or closes first (the next `up` covers it).
   */
  listen(channel: string, handler: (bytes: Uint8Array) => void): Promise<void>
  /** Stops delivering `channel` to `handler`. */
  unlisten(channel: string, handler: (bytes: Uint8Array) => void): void
  /** Publishes `bytes` on `channel` (a full name) if the bus is ready; dropped otherwise. Never throws. */
  publish(channel: string, bytes: Uint8Array): void
  /** Tells `watcher` of every change; returns the function that stops it. */
  watch(watcher: RedisBusWatcher): () => void
  /** Closes every transport on the bus (they say bye), then both connections. Idempotent. */
  close(): Promise<void>
}

/**
 * Creates a bus and starts connecting in the background (see {@link RedisBus.ready}).
 * @throws CabildoError `E_ARGUMENT` when the URL is not `redis:` or `rediss:`, or the prefix is empty.
 */
export function createRedisBus(options: RedisBusOptions): RedisBus {
  let protocol = ''
  try {
    protocol = new URL(options.url).protocol
  } catch {
    // reported below
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new CabildoError('E_ARGUMENT', `a Redis URL must be redis: or rediss:, got ${JSON.stringify(options.url)}`, { argument: 'url', reason: 'not a redis: or rediss: URL' })
  }
  const prefix = options.prefix ?? 'cabildo'
  if (typeof prefix !== 'string' || prefix === '') throw new CabildoError('E_ARGUMENT', 'the channel prefix must be a non-empty string', { argument: 'prefix', reason: 'empty' })
  return new Bus(options.url, prefix, options.connectTimeoutMs ?? 10_000)
}

/** Reconnection backoff of both connections: 100 ms, doubling up to 2 s, for ever. */
function retryStrategy(times: number): number {
  return Math.min(100 * 2 ** Math.min(times - 1, 5), 2_000)
}

class Bus implements RedisBus {
  readonly prefix: string
  readonly #url: string
  readonly #statusListeners = createListenerSet<{ status: RedisBusStatusChange }>()
  readonly #watchers = new Set<RedisBusWatcher>()
  /** The last publication sent: QUIT waits for it, since auto-pipelined publications leave on the next tick. */
  #lastPublish: Promise<unknown> = Promise.resolve()
  readonly #handlers = new Map<string, Set<(bytes: Uint8Array) => void>>()
  readonly #ready: Promise<void>
  #status: RedisBusStatus = RedisBusStatus.connecting
  #pub: Redis | undefined
  #sub: Redis | undefined
  #pubUp = false
  #subUp = false
  /** Bumped at every break, so a resubscription that finishes after a later break is not taken for an `up`. */
  #generation = 0
  #lastError: string | undefined
  #closing: Promise<void> | undefined

  constructor(url: string, prefix: string, connectTimeoutMs: number) {
    this.#url = url
    this.prefix = prefix
    this.#ready = this.#start(connectTimeoutMs)
    this.#ready.catch(() => undefined) // the caller of ready() hears it
  }

  get status(): RedisBusStatus {
    return this.#status
  }

  onStatus(listener: (change: RedisBusStatusChange) => void): () => void {
    return this.#statusListeners.on('status', listener)
  }

  ready(): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(new CabildoError('E_CLOSED', 'the Redis bus is closed', { what: 'redis bus' }))
    return this.#ready
  }

  listen(channel: string, handler: (bytes: Uint8Array) => void): Promise<void> {
    let handlers = this.#handlers.get(channel)
    const first = handlers === undefined
    if (handlers === undefined) this.#handlers.set(channel, (handlers = new Set()))
    handlers.add(handler)
    if (this.#status !== RedisBusStatus.ready) return Promise.reject(new CabildoError('E_NETWORK', 'Redis is not connected', { operation: 'redis subscribe', cause: 'down' }))
    // A channel already subscribed is live at once.
    if (!first || this.#sub === undefined) return Promise.resolve()
    return this.#sub.subscribe(channel).then(() => undefined)
  }

  unlisten(channel: string, handler: (bytes: Uint8Array) => void): void {
    const handlers = this.#handlers.get(channel)
    if (handlers === undefined || !handlers.delete(handler) || handlers.size > 0) return
    this.#handlers.delete(channel)
    if (this.#status === RedisBusStatus.ready) this.#sub?.unsubscribe(channel).catch(() => undefined)
  }

  publish(channel: string, bytes: Uint8Array): void {
    if (this.#status !== RedisBusStatus.ready || this.#pub === undefined) return
    // A failure is a connection breaking under us: the `down` that follows tells the transports.
    this.#lastPublish = this.#pub.publish(channel, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).catch(() => undefined)
  }

  watch(watcher: RedisBusWatcher): () => void {
    this.#watchers.add(watcher)
    return () => void this.#watchers.delete(watcher)
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    for (const watcher of [...this.#watchers]) watcher.closed() // transports publish their byes now
    this.#watchers.clear()
    this.#setStatus(RedisBusStatus.closed)
    this.#statusListeners.clear()
    await this.#lastPublish
    const connections = [this.#pub, this.#sub].filter((connection) => connection !== undefined)
    // QUIT follows the byes on the publishing connection; a connection that is down is cut.
    await Promise.all(connections.map((connection) => (connection.status === 'ready' ? connection.quit().then(() => undefined, () => connection.disconnect()) : connection.disconnect())))
  }

  async #start(connectTimeoutMs: number): Promise<void> {
    let RedisClass: typeof Redis
    try {
      const module = await import('ioredis')
      // ioredis is CommonJS: its class is a named export under ESM and on `default` otherwise.
      RedisClass = module.Redis ?? (module.default as unknown as { Redis: typeof Redis }).Redis
    } catch (error) {
      throw new CabildoError('E_NETWORK', 'ioredis is not installed: npm install ioredis', { operation: 'redis connect', cause: errorCode(error) ?? 'ERR_MODULE_NOT_FOUND' }, { cause: error })
    }
    if (this.#closing !== undefined) throw new CabildoError('E_CLOSED', 'the Redis bus is closed', { what: 'redis bus' })
    const options: RedisOptions = {
      // Nothing is queued while Redis is away: a publish then is dropped, like any message in flight.
      enableOfflineQueue: false,
      // The bus subscribes again itself, and says `up` only once Redis confirmed it.
      autoResubscribe: false,
      maxRetriesPerRequest: null,
      // Publications made in one turn of the event loop leave in one write.
      enableAutoPipelining: true,
      retryStrategy,
    }
    const pub = new RedisClass(this.#url, { ...options, connectionName: 'cabildo-pub' })
    const sub = new RedisClass(this.#url, { ...options, connectionName: 'cabildo-sub' })
    this.#pub = pub
    this.#sub = sub
    for (const [connection, side] of [[pub, 'pub'], [sub, 'sub']] as const) {
      connection.on('error', (error: unknown) => {
        this.#lastError = errorCode(error) ?? 'error'
      })
      connection.on('ready', () => {
        if (side === 'pub') this.#pubUp = true
        else this.#subUp = true
        void this.#maybeUp()
      })
      connection.on('close', () => {
        if (side === 'pub') this.#pubUp = false
        else this.#subUp = false
        this.#broke()
      })
    }
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#deliver(channel.toString('utf8'), message))

    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new CabildoError('E_NETWORK', `Redis at ${redactedUrl(this.#url)} could not be reached within ${connectTimeoutMs} ms`, {
          operation: 'redis connect',
          address: redactedUrl(this.#url),
          cause: this.#lastError ?? 'ETIMEDOUT',
        }))
      }, connectTimeoutMs)
    })
    const up = new Promise<void>((resolve, reject) => {
      const off = this.onStatus(({ status }) => {
        if (status === RedisBusStatus.ready) resolve()
        else if (status === RedisBusStatus.closed) reject(new CabildoError('E_CLOSED', 'the Redis bus is closed', { what: 'redis bus' }))
        else return
        off()
      })
    })
    try {
      await Promise.race([up, timedOut])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Once both connections are up: subscribe to every channel, then tell the transports. */
  async #maybeUp(): Promise<void> {
    const sub = this.#sub
    if (!this.#pubUp || !this.#subUp || sub === undefined || this.#status === RedisBusStatus.ready || this.#closing !== undefined) return
    const generation = this.#generation
    const channels = [...this.#handlers.keys()]
    try {
      if (channels.length > 0) await sub.subscribe(...channels)
    } catch {
      return // it broke again: the next `ready` tries again
    }
    // Read again after the await: it may have broken, closed or come up meanwhile.
    if (generation !== this.#generation || !this.#pubUp || !this.#subUp || this.#closing !== undefined || this.status === RedisBusStatus.ready) return
    // Channels listened to while subscribing.
    const late = [...this.#handlers.keys()].filter((channel) => !channels.includes(channel))
    if (late.length > 0) await sub.subscribe(...late).catch(() => undefined)
    this.#setStatus(RedisBusStatus.ready)
    for (const watcher of [...this.#watchers]) watcher.up()
  }

  #broke(): void {
    this.#generation++
    if (this.#closing !== undefined || this.#status !== RedisBusStatus.ready) return
    this.#setStatus(RedisBusStatus.down, this.#lastError ?? 'closed')
    for (const watcher of [...this.#watchers]) watcher.down()
  }

  #deliver(channel: string, message: Buffer): void {
    const handlers = this.#handlers.get(channel)
    if (handlers === undefined || this.#status !== RedisBusStatus.ready) return
    const bytes = new Uint8Array(message.buffer, message.byteOffset, message.byteLength)
    for (const handler of [...handlers]) handler(bytes)
  }

  #setStatus(status: RedisBusStatus, reason?: string): void {
    if (this.#status === status) return
    this.#status = status
    this.#statusListeners.emit('status', reason === undefined ? { status } : { status, reason })
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/** The URL without its password, for messages. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'redis'
  }
}
