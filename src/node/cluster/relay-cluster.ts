/**
 * A relay process's membership in a cluster: one Redis bus for the process, and for each Space
 * it serves one Redis transport on which the members that serve that Space reach each other.
 * The relay runs one more sync engine per Space over that transport (`eager`, `relay`), exactly
 * as it does for a federation link, so what one member accepts reaches every member's clients.
 *
 * ```ts
 * const cluster = await joinRelayCluster({ url: 'redis://127.0.0.1:6379' }, { peerId: 'relay:did:key:z6Mk...', maxMessageBytes: 16 * 1024 * 1024 })
 * const link = cluster.link('city') // a RedisTransport on the channels cabildo:city:*
 * console.log(cluster.status(), cluster.members())
 * await cluster.close()
 * ```
 * @module
 */
import { randomBytes } from 'node:crypto'
import { CabildoError } from '../../errors'
import { createRedisBus, type RedisBus, type RedisBusStatus } from './redis-bus'
import { createRedisTransport, type RedisTransport } from './redis-transport'

/** How a relay joins a cluster (the `redis` option of `startRelay`). */
export interface RelayClusterOptions {
  /** The Redis server every member uses: `redis://[user:password@]host:port[/db]`, `rediss://` for TLS. */
  readonly url: string
  /** Prepended to every channel (default `cabildo`): clusters sharing one Redis need different prefixes. */
  readonly prefix?: string
  /**
   * This process's name among the members (default: 8 random hex characters, new at every
   * start). Members sharing the relay's key tell each other apart by it: it is appended to the
   * relay's peer id (`relay:<did>#<member>`).
   */
  readonly member?: string
  /** Milliseconds between heartbeats on each Space's channel (default 2,000). */
  readonly heartbeatMs?: number
  /** Milliseconds of silence after which a member is taken for gone (default 10,000). */
  readonly timeoutMs?: number
  /** How long the start waits for Redis, in milliseconds (default 10,000). */
  readonly connectTimeoutMs?: number
}

/** A relay's view of its cluster. */
export interface RelayCluster {
  /** This process's member name. */
  readonly member: string
  /** The bus all links share. */
  readonly bus: RedisBus
  /** The transport to the other members for one Space (not connected yet). */
  link(spaceId: string): RedisTransport
  /** Where the Redis connection stands. */
  status(): RedisBusStatus
  /** The other members this one hears from now, on any Space's channel. */
  members(): number
  /** Closes every link (they say bye) and the Redis connections. */
  close(): Promise<void>
}

/** What the relay gives its cluster. */
export interface RelayClusterContext {
  /** The largest message a link carries (the relay's `maxMessageBytes`). */
  readonly maxMessageBytes: number
}

const MEMBER_NAME = /^[A-Za-z0-9._~-]{1,64}$/

/**
 * Connects to Redis and resolves once connected.
 * @throws CabildoError `E_ARGUMENT` for a URL that is not `redis:`/`rediss:` or a member name
 *   outside `[A-Za-z0-9._~-]{1,64}`; `E_NETWORK` when `ioredis` is missing or Redis cannot be
 *   reached within `connectTimeoutMs`.
 */
export async function joinRelayCluster(options: RelayClusterOptions, context: RelayClusterContext): Promise<RelayCluster> {
  const member = options.member ?? randomBytes(4).toString('hex')
  if (!MEMBER_NAME.test(member)) throw new CabildoError('E_ARGUMENT', `a member name is 1 to 64 of [A-Za-z0-9._~-], got ${JSON.stringify(member)}`, { argument: 'redis.member', reason: 'not a member name' })
  const bus = createRedisBus({
    url: options.url,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
  })
  try {
    await bus.ready()
  } catch (error) {
    await bus.close()
    throw error
  }
  const links = new Set<RedisTransport>()
  return {
    member,
    bus,
    link(spaceId) {
      const link = createRedisTransport({
        bus,
        channel: spaceId,
        maxMessageBytes: context.maxMessageBytes,
        ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      })
      links.add(link)
      link.on('close', () => links.delete(link))
      return link
    },
    status: () => bus.status,
    members() {
      const peers = new Set<string>()
      for (const link of links) for (const peer of link.peers) peers.add(peer)
      return peers.size
    },
    close: () => bus.close(),
  }
}
