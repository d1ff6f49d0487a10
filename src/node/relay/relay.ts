/**
 * The relay: one Node process that keeps Spaces and forwards their signed envelopes between
 * clients that cannot reach each other, over cabildo's WebSocket protocol (and, with a plain
 * handler, plain y-websocket). It is never trusted with authorship: every envelope passes the
 * Space's ingress guard here as on every replica.
 *
 * ```ts
 * import { createSpace, createWebSocketTransport } from 'cabildo'
 * import { startRelay } from 'cabildo/node'
 * const relay = await startRelay({ port: 1234, dataDir: './relay-data' })
 * const space = createSpace({ id: 'city' })
 * space.sync(createWebSocketTransport({ url: `${relay.url}/city` }), { peerId: 'north' })
 * ```
 *
 * Routes: `GET /health`, `GET /metrics` (`?gc=1`: after a full garbage collection, when node
 * runs with `--expose-gc`); a WebSocket upgrade with the subprotocol `cabildo.v1`
 * on `/<space id>` joins that Space; one without a subprotocol on `/<space id>/<shard>` goes to
 * the plain handler. Auth runs before the upgrade. See docs/relay.md.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { CabildoError } from '../../errors'
import { createIdentity, loadOrCreateIdentity, type Identity } from '../../identity/identity'
import type { StorageFailure } from '../../storage/attach-store'
import type { Storage } from '../../storage/storage'
import type { Space } from '../../sync/space'
import { WEBSOCKET_SUBPROTOCOL } from '../../transports/websocket-frames'
import { joinRelayCluster, type RelayCluster, type RelayClusterOptions } from '../cluster/relay-cluster'
import { fileIdentityStore } from '../file-identity-store'
import { createPostgresStorage, type PostgresStorageOptions } from '../postgres-storage'
import { closeServer, listen, refuseUpgrade, wantsCabildoProtocol, wsUrl } from './http-server'
import type { PlainRoomHandler } from './plain-handler'
import { readTokenFile, tokenAuthenticator, type RelayAdmission, type RelayAuthenticate, type RelayTarget, type TokenFile } from './relay-auth'
import { createMetricsRecorder, type MetricsRecorder, type RelayMetrics } from './relay-metrics'
import { RelaySpaces, type RelayPeer, type RelaySpaceLease } from './relay-spaces'
import { checkConnectionLimits, defaultConnectionLimits, maxPayloadFor, type ConnectionLimits } from './connection-limits'

/** A relay's limits: each connection's, and the relay's own. */
export interface RelayLimits extends ConnectionLimits {
  /** Most live WebSocket connections; more are refused with 503. Default 10,000. */
  readonly maxConnections: number
  /** Most Spaces open at once; a connection for one more is refused with 503. Default 1,000. */
  readonly maxSpaces: number
}

/** Default {@link RelayLimits}. */
export const defaultRelayLimits: RelayLimits = { ...defaultConnectionLimits, maxConnections: 10_000, maxSpaces: 1_000 }

/** Options of {@link startRelay}. */
export interface RelayOptions {
  /** The interface to listen on. Default `127.0.0.1`. */
  readonly host?: string
  /** The port; 0 (the default) picks a free one. */
  readonly port?: number
  /**
   * Where the relay keeps its Spaces (`<dataDir>/spaces/<id>`, each with `openFileSpace`) and its
   * key (`<dataDir>/relay.jwk.json`). Absent: everything in memory, gone at `close()`.
   */
  readonly dataDir?: string
  /** The relay's identity. Default: loaded from (or created in) `dataDir`, else a new one. */
  readonly identity?: Identity
  /** Token → identity name (or `{ identity, access }`): connections without a listed token are refused with 401. */
  readonly tokens?: TokenFile
  /** A JSON file holding such a table (read once, at start). */
  readonly tokenFile?: string
  /** A general auth hook (instead of tokens); see {@link RelayAuthenticate}. */
  readonly authenticate?: RelayAuthenticate
  /** Relays to federate with (`ws://host:port`): every Space open here is synced with `<url>/<space id>` there. */
  readonly peers?: ReadonlyArray<string | RelayPeer>
  /** Space ids to open at start, and never close when idle (Spaces also open when their first client connects, and those in `dataDir` open at start). */
  readonly spaces?: readonly string[]
  /**
   * Milliseconds a Space stays open with no connection (cabildo or plain) before it is flushed
   * and closed; it opens again from its store on the next connection. Default 60,000; 0: never.
   * Spaces close only when they have a store (`dataDir`, `storage`, `postgres`: in memory,
   * closing would lose them), are not in `spaces`, and the relay has no `peers` and no `redis`
   * cluster (whose links hold every Space open).
   */
  readonly idleCloseMs?: number
  /** Replaces some of the {@link defaultRelayLimits}. */
  readonly limits?: Partial<RelayLimits>
  /**
   * Serves plain y-websocket clients on `/<space id>/<shard>`: a handler, or a function that
   * builds one from the relay's identity (e.g. to vouch for what plain clients write). Without
   * one, plain upgrades are refused with 404.
   */
  readonly plain?: PlainRoomHandler | ((relay: { readonly identity: Identity }) => PlainRoomHandler)
  /** Milliseconds between heads exchanges of the relay's sync engines (default 30,000; 0: never). */
  readonly resyncEvery?: number
  /**
   * Makes the relay a member of a cluster: relay processes given the same Redis serve the same
   * Spaces behind any load balancer, each forwarding what its clients send to the others' (see
   * docs/relay.md, Clusters). A `redis://` URL, or options.
   */
  readonly redis?: string | RelayClusterOptions
  /**
   * Keeps every Space in this storage, each under the key prefix `<space id>/` (then `dataDir`
   * only keeps the relay's key). The caller closes it after the relay.
   */
  readonly storage?: Storage
  /**
   * Keeps every Space in PostgreSQL (a connection string, or the options of
   * `createPostgresStorage`), as `storage` does; the relay makes the storage and closes it.
   */
  readonly postgres?: string | PostgresStorageOptions
  /** Told of every storage failure of a Space; the Space keeps what failed in memory, and the relay stores it again until the storage is back. */
  readonly onStorageError?: (failure: StorageFailure, spaceId: string) => void
}

/** A running relay. */
export interface Relay {
  /** `ws://host:port`: clients connect to `<url>/<space id>`. */
  readonly url: string
  /** The port it listens on. */
  readonly port: number
  /** The relay's identity (it names the relay to its peers, and signs what the plain handler vouches for). */
  readonly identity: Identity
  /** The peer id the relay announces to its clients and to its peer relays. */
  readonly peerId: string
  /** A snapshot of the counters (the same JSON as `GET /metrics`). */
  metrics(): RelayMetrics
  /** The ids of the open Spaces, sorted. */
  spaces(): string[]
  /** The relay's replica of an open Space. */
  space(id: string): Space | undefined
  /** Stops listening, closes every connection (1001) and federation link, flushes and closes every Space. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts a relay and resolves once it listens and its initial Spaces are open.
 * @throws CabildoError `E_ARGUMENT` for conflicting auth options, a peer URL that is not `ws:` or
 *   `wss:`, an initial Space id the relay cannot serve, or an invalid limit; `E_NETWORK` when the
 *   address cannot be used; `E_STORAGE` / `E_PARSE` when `dataDir` or `tokenFile` cannot be used.
 */
export async function startRelay(options: RelayOptions = {}): Promise<Relay> {
  const idleCloseMs = options.idleCloseMs ?? DEFAULT_IDLE_CLOSE_MS
  if (!(Number.isFinite(idleCloseMs) && idleCloseMs >= 0)) throw new CabildoError('E_ARGUMENT', `idleCloseMs must be a number of milliseconds, 0 or more, got ${idleCloseMs}`, { argument: 'idleCloseMs', reason: 'not a duration' })
  const auths = [options.tokens, options.tokenFile, options.authenticate].filter((auth) => auth !== undefined)
  if (auths.length > 1) throw new CabildoError('E_ARGUMENT', 'give one of tokens, tokenFile and authenticate', { argument: 'authenticate', reason: 'more than one auth option' })
  const authenticate =
    options.authenticate ??
    (options.tokenFile !== undefined ? tokenAuthenticator(await readTokenFile(options.tokenFile)) : options.tokens !== undefined ? tokenAuthenticator(options.tokens) : undefined)
  const peers = (options.peers ?? []).map((peer) => checkPeer(typeof peer === 'string' ? { url: peer } : peer))
  const limits = checkConnectionLimits<RelayLimits>({ ...defaultRelayLimits, ...options.limits })
  const identity =
    options.identity ?? (options.dataDir !== undefined ? await loadOrCreateIdentity(fileIdentityStore(join(options.dataDir, 'relay.jwk.json'))) : await createIdentity())
  if (options.storage !== undefined && options.postgres !== undefined) throw new CabildoError('E_ARGUMENT', 'give one of storage and postgres', { argument: 'postgres', reason: 'more than one storage option' })
  const owned = options.postgres === undefined ? undefined : createPostgresStorage(options.postgres)
  const storage = options.storage ?? owned
  let cluster: RelayCluster | undefined
  try {
    await owned?.ready() // fails here, with E_STORAGE, on a wrong address or privilege
    if (options.redis !== undefined) cluster = await joinRelayCluster(typeof options.redis === 'string' ? { url: options.redis } : options.redis, { maxMessageBytes: limits.maxMessageBytes })
  } catch (error) {
    await owned?.close()
    throw error
  }
  const plain = typeof options.plain === 'function' ? options.plain({ identity }) : options.plain
  const relay = new RelayServer({ options, idleCloseMs, limits, identity, authenticate, plain, peers, storage, ownedStorage: owned, cluster })
  try {
    await relay.start(options.host ?? '127.0.0.1', options.port ?? 0)
  } catch (error) {
    await relay.close()
    throw error
  }
  return relay
}

function checkPeer(peer: RelayPeer): RelayPeer {
  let protocol: string
  try {
    protocol = new URL(peer.url).protocol
  } catch {
    protocol = ''
  }
  if (protocol !== 'ws:' && protocol !== 'wss:') throw new CabildoError('E_ARGUMENT', `a peer relay URL must be ws: or wss:, got ${JSON.stringify(peer.url)}`, { argument: 'peers', reason: 'not a ws: or wss: URL' })
  return peer
}

interface RelayParts {
  readonly options: RelayOptions
  readonly idleCloseMs: number
  readonly limits: RelayLimits
  readonly identity: Identity
  readonly authenticate: RelayAuthenticate | undefined
  readonly plain: PlainRoomHandler | undefined
  readonly peers: readonly RelayPeer[]
  /** Where the Spaces are kept, when not in `dataDir`. */
  readonly storage: Storage | undefined
  /** The storage the relay made (closed with it). */
  readonly ownedStorage: { close(): Promise<void> } | undefined
  readonly cluster: RelayCluster | undefined
}

/** How long a Space with no connection stays open, by default. */
const DEFAULT_IDLE_CLOSE_MS = 60_000

/** How long closing clients get to answer the close handshake before their sockets are cut. */
const CLOSE_GRACE_MS = 1_000

class RelayServer implements Relay {
  readonly identity: Identity
  readonly peerId: string
  readonly #parts: RelayParts
  readonly #metrics: MetricsRecorder = createMetricsRecorder()
  readonly #spaces: RelaySpaces
  readonly #http: Server
  readonly #upgrades: WebSocketServer
  readonly #sockets = new Set<WebSocket>()
  /** Plain rooms (`<space id>/<shard>`) → live connections. */
  readonly #rooms = new Map<string, number>()
  #plainConnections = 0
  #pendingUpgrades = 0
  #url = ''
  #port = 0
  #closing: Promise<void> | undefined

  constructor(parts: RelayParts) {
    this.#parts = parts
    this.identity = parts.identity
    // Members of a cluster may share the relay's key: the member name tells them apart.
    this.peerId = parts.cluster === undefined ? `relay:${parts.identity.did}` : `relay:${parts.identity.did}#${parts.cluster.member}`
    const { limits, cluster } = parts
    const onStorageError = parts.options.onStorageError
    this.#spaces = new RelaySpaces({
      dataDir: parts.storage === undefined ? parts.options.dataDir : undefined,
      storage: parts.storage,
      onStorageError: (spaceId, failure) => {
        this.#metrics.storageFailure(CabildoError.is(failure, 'E_STORAGE') ? (failure.details.cause ?? 'unknown') : 'closed')
        onStorageError?.(failure, spaceId)
      },
      cluster: cluster === undefined ? undefined : (spaceId) => cluster.link(spaceId),
      peerId: this.peerId,
      peers: parts.peers,
      limits,
      meter: this.#metrics,
      maxSpaces: limits.maxSpaces,
      idleCloseMs: parts.idleCloseMs,
      keepOpen: parts.options.spaces ?? [],
      ...(parts.options.resyncEvery === undefined ? {} : { resyncEvery: parts.options.resyncEvery }),
    })
    // An oversized frame is refused from its header (1009), never buffered whole.
    this.#upgrades = new WebSocketServer({
      noServer: true,
      maxPayload: maxPayloadFor(limits),
      handleProtocols: (protocols) => (protocols.has(WEBSOCKET_SUBPROTOCOL) ? WEBSOCKET_SUBPROTOCOL : false),
    })
    this.#http = createServer((request, response) => this.#serveHttp(request, response))
    this.#http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined) // a reset during auth must not surface as an uncaught error
      void this.#upgrade(request, socket, head).catch(() => this.#refuse(socket, 500, 'internal error'))
    })
    this.#http.on('clientError', (_error, socket) => socket.destroy())
  }

  get url(): string {
    return this.#url
  }

  get port(): number {
    return this.#port
  }

  async start(host: string, port: number): Promise<void> {
    this.#port = await listen(this.#http, host, port)
    this.#url = wsUrl(host, this.#port)
    const initial = new Set([...(this.#parts.options.spaces ?? []), ...(await this.#spaces.stored())])
    await Promise.all([...initial].map((id) => this.#spaces.open(id)))
  }

  metrics(): RelayMetrics {
    return {
      connections: this.#sockets.size,
      plainConnections: this.#plainConnections,
      spaces: this.#spaces.ids().length,
      rooms: this.#rooms.size,
      federationLinks: this.#spaces.federationLinks(),
      ...this.#metrics.counts(),
      memory: process.memoryUsage(),
      ...(this.#parts.cluster === undefined ? {} : { cluster: { redis: this.#parts.cluster.status(), member: this.#parts.cluster.member, members: this.#parts.cluster.members() } }),
    }
  }

  spaces(): string[] {
    return this.#spaces.ids()
  }

  space(id: string): Space | undefined {
    return this.#spaces.get(id)?.space
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    if (this.#http.listening) this.#http.close()
    this.#http.closeAllConnections()
    await this.#spaces.close() // engines stop: cabildo connections get 1001, federation links close
    await this.#parts.plain?.close().catch(() => undefined)
    for (const socket of this.#sockets) socket.close(1001, 'going away')
    await this.#drain()
    await this.#spaces.closeSpaces()
    await this.#parts.cluster?.close()
    await this.#parts.ownedStorage?.close()
    this.#upgrades.close()
    await closeServer(this.#http)
  }

  /** Waits for every socket to finish its close handshake, cutting those that take longer than the grace. */
  async #drain(): Promise<void> {
    const open = [...this.#sockets]
    let timer: ReturnType<typeof setTimeout> | undefined
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS)
    })
    await Promise.race([Promise.all(open.map((socket) => new Promise<void>((resolve) => (socket.readyState === socket.CLOSED ? resolve() : socket.once('close', () => resolve()))))), grace])
    clearTimeout(timer)
    for (const socket of this.#sockets) socket.terminate()
  }

  #serveHttp(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://relay')
    const path = url.pathname
    const send = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(`${JSON.stringify(body)}\n`)
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') send(405, { error: 'method not allowed' })
    else if (path === '/health') send(200, { ok: true })
    else if (path === '/metrics') {
      // Only where the operator exposed it (node --expose-gc): memory measured after a full collection.
      if (url.searchParams.get('gc') === '1') (globalThis as { gc?: () => void }).gc?.()
      send(200, this.metrics())
    } else send(404, { error: 'not found' })
  }

  #refuse(socket: Duplex, status: number, message: string): void {
    if (socket.destroyed) return
    this.#metrics.refusedUpgrade(status)
    refuseUpgrade(socket, status, message)
  }

  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const route = parseRoute(request.url)
    if (route === undefined) return this.#refuse(socket, 404, 'connect to /<space id> (cabildo.v1) or /<space id>/<shard> (plain y-websocket)')
    const cabildo = wantsCabildoProtocol(request)
    if (cabildo !== (route.shard === undefined)) {
      return this.#refuse(socket, 400, cabildo ? `${WEBSOCKET_SUBPROTOCOL} connects to /<space id>` : `/<space id> needs the subprotocol ${WEBSOCKET_SUBPROTOCOL}`)
    }
    const plain = this.#parts.plain
    if (!cabildo && plain === undefined) return this.#refuse(socket, 404, 'this relay does not serve plain y-websocket')
    if (this.#closing !== undefined) return this.#refuse(socket, 503, 'the relay is closing')
    if (this.#sockets.size + this.#pendingUpgrades >= this.#parts.limits.maxConnections) return this.#refuse(socket, 503, 'too many connections')
    this.#pendingUpgrades++
    let admission: RelayAdmission | null
    let lease: RelaySpaceLease
    try {
      const target: RelayTarget = { spaceId: route.spaceId, shard: route.shard, protocol: cabildo ? 'cabildo' : 'plain' }
      const authenticate = this.#parts.authenticate
      try {
        admission = authenticate === undefined ? null : await authenticate(request, target)
      } catch {
        return this.#refuse(socket, 500, 'the auth hook failed')
      }
      if (authenticate !== undefined && admission === null) return this.#refuse(socket, 401, 'a valid token is required')
      try {
        lease = await this.#spaces.acquire(route.spaceId)
      } catch (error) {
        const status = CabildoError.is(error, 'E_ARGUMENT') && error.details.reason !== 'too many Spaces' ? 404 : 503
        return this.#refuse(socket, status, `cannot serve this Space: ${error instanceof Error ? error.message : String(error)}`)
      }
    } finally {
      this.#pendingUpgrades--
    }
    // The connection holds its Space open (see idleCloseMs) until its socket closes.
    if (socket.destroyed) return lease.release()
    socket.once('close', () => lease.release())
    if (this.#closing !== undefined) return this.#refuse(socket, 503, 'the relay is closing')
    const opened = lease.space
    this.#upgrades.handleUpgrade(request, socket, head, (webSocket) => {
      this.#track(webSocket)
      const access = { identity: admission?.identity, access: admission?.access ?? 'read-write' } as const
      if (cabildo) {
        opened.transport.accept(webSocket, access)
        return
      }
      this.#handPlain(webSocket, { spaceId: route.spaceId, shard: route.shard as string, ...access }, opened.space, plain as PlainRoomHandler)
    })
  }

  #track(socket: WebSocket): void {
    this.#sockets.add(socket)
    socket.on('error', () => undefined) // the transport or the plain handler handles errors; none may go uncaught
    socket.once('close', () => this.#sockets.delete(socket))
  }

  #handPlain(socket: WebSocket, connection: { spaceId: string; shard: string; identity: string | undefined; access: 'read' | 'read-write' }, space: Space, plain: PlainRoomHandler): void {
    const room = `${connection.spaceId}/${connection.shard}`
    this.#plainConnections++
    this.#rooms.set(room, (this.#rooms.get(room) ?? 0) + 1)
    socket.once('close', () => {
      this.#plainConnections--
      const left = (this.#rooms.get(room) ?? 1) - 1
      if (left === 0) this.#rooms.delete(room)
      else this.#rooms.set(room, left)
    })
    try {
      plain.handle({ socket, ...connection }, space)
    } catch {
      socket.close(1011, 'internal error')
    }
  }
}

/** `/<space id>` or `/<space id>/<shard>`, URL-decoded; undefined for anything else. */
function parseRoute(url: string | undefined): { spaceId: string; shard: string | undefined } | undefined {
  let segments: string[]
  try {
    const path = new URL(url ?? '/', 'http://relay').pathname.replace(/\/$/, '')
    segments = path.split('/').slice(1).map((segment) => decodeURIComponent(segment))
  } catch {
    return undefined
  }
  const [spaceId, ...rest] = segments
  if (spaceId === undefined || spaceId === '' || rest.some((segment) => segment === '')) return undefined
  return { spaceId, shard: rest.length === 0 ? undefined : rest.join('/') }
}
