/**
 * The Spaces a relay serves: for each, the Space (in memory, in a directory, or in a shared
 * storage), the server transport its clients connect to, the sync engine over it (`eager`,
 * `relay`), one federation link per peer relay (a WebSocket transport to
 * `<peer url>/<space id>` with a second engine on the same Space), and in a cluster one link to
 * the other members (a Redis transport, with one more engine).
 *
 * A Space with a store that no connection holds (see {@link RelaySpaces.acquire}) for
 * `idleCloseMs` is flushed and closed, and opens again from its store on the next connection.
 *
 * ```ts
 * const spaces = new RelaySpaces({ dataDir: './data', peerId: 'relay:did:key:z6Mk...', peers: [], meter: createMetricsRecorder() })
 * const city = await spaces.open('city')
 * city.transport.accept(socket, { identity: 'north', access: 'read-write' })
 * await spaces.close()
 * ```
 * @module
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { WebSocket } from 'ws'
import { CabildoError } from '../../errors'
import type { StorageFailure } from '../../storage/attach-store'
import type { Storage } from '../../storage/storage'
import { createSpace, openSpace, type Space } from '../../sync/space'
import type { SyncEngine } from '../../sync/sync-engine'
import type { Transport } from '../../transports/transport'
import { createWebSocketTransport, type WebSocketConstructor, type WebSocketTransport } from '../../transports/websocket-transport'
import { createEnvelopeLogStorage } from '../cluster/envelope-log-storage'
import { createPrefixedStorage, keyPrefixes } from '../cluster/prefixed-storage'
import { openFileSpace } from '../file-space'
import { createFlushRetry, type FlushRetry } from './flush-retry'
import { readOnlyGate } from './read-only-gate'
import type { MetricsRecorder } from './relay-metrics'
import { defaultConnectionLimits, maxPayloadFor, type ConnectionLimits } from './connection-limits'
import { createWebSocketServerTransport, type WebSocketServerTransport } from './ws-server-transport'

/** A relay this one federates with. */
export interface RelayPeer {
  /** Its URL (`ws://host:port`); Spaces are reached at `<url>/<space id>`. */
  readonly url: string
  /** The token it expects, if it has auth. */
  readonly token?: string
}

/** Which Space ids a relay accepts: they name directories, so they are kept to a safe alphabet. */
export const RELAY_SPACE_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/

/** One Space a relay serves. */
export interface RelaySpace {
  /** The Space id. */
  readonly id: string
  /** The relay's replica of the Space (no identity: the relay never authors). */
  readonly space: Space
  /** The transport its cabildo clients connect to. */
  readonly transport: WebSocketServerTransport
  /** The engine syncing the Space with its clients (`eager`, `relay`). */
  readonly engine: SyncEngine
  /** The links to the peer relays, one per peer. */
  readonly federation: readonly WebSocketTransport[]
  /** The link to the other members of the relay's cluster (a Redis transport), when clustered. */
  readonly cluster: Transport | undefined
}

/** Options of {@link RelaySpaces}. */
export interface RelaySpacesOptions {
  /** Where Spaces are kept (`<dataDir>/spaces/<id>`); absent: in memory. */
  readonly dataDir?: string | undefined
  /**
   * Where Spaces are kept instead of `dataDir`: one storage for every Space, each under the key
   * prefix `<space id>/` (e.g. one PostgreSQL table shared by a cluster's members). Only the
   * envelope logs are stored; documents are rebuilt from them when they open.
   */
  readonly storage?: Storage | undefined
  /** Told of every storage failure of a Space; the Space keeps what failed and flushes it again until it succeeds. */
  readonly onStorageError?: ((spaceId: string, failure: StorageFailure) => void) | undefined
  /** Makes the link to the other members of the relay's cluster for a Space; absent: no cluster. */
  readonly cluster?: ((spaceId: string) => Transport) | undefined
  /** The relay's peer id, on its server transports and its federation links. */
  readonly peerId: string
  /** Relays to federate with. */
  readonly peers: readonly RelayPeer[]
  /** Connection limits of the server transports (and the largest message of federation links). */
  readonly limits?: Partial<ConnectionLimits>
  /** Where to count. */
  readonly meter: MetricsRecorder
  /** Most Spaces open at once. */
  readonly maxSpaces?: number
  /** Milliseconds between heads exchanges of the relay's engines (see the sync engine's `resyncEvery`). */
  readonly resyncEvery?: number
  /**
   * Milliseconds a Space stays open with no connection before it is flushed and closed; 0 (the
   * default): never. Only Spaces with a store (`dataDir` or `storage`) close, and none while the
   * relay has peers or a cluster (their links hold every Space open).
   */
  readonly idleCloseMs?: number
  /** Spaces that never close when idle (e.g. those the relay opens at start on request). */
  readonly keepOpen?: readonly string[]
}

/** A connection's hold on an open Space: the Space does not close when idle until every hold is released. */
export interface RelaySpaceLease {
  /** The open Space. */
  readonly space: RelaySpace
  /** Lets the Space close when idle again (once no other lease holds it). Idempotent. */
  release(): void
}

/** The Spaces of a relay, opened on demand. */
export class RelaySpaces {
  readonly #options: RelaySpacesOptions
  readonly #opening = new Map<string, Promise<RelaySpace>>()
  readonly #open = new Map<string, RelaySpace>()
  readonly #retries = new Map<string, FlushRetry>()
  /** Space id → leases held (absent: none). */
  readonly #leases = new Map<string, number>()
  readonly #idleTimers = new Map<string, ReturnType<typeof setTimeout>>()
  /** Spaces closing because idle: resolve to the Space when it was kept open after all (its store failed), else to undefined. */
  readonly #closingIdle = new Map<string, Promise<RelaySpace | undefined>>()
  readonly #keepOpen: ReadonlySet<string>
  readonly #FederationSocket: WebSocketConstructor
  #closed = false

  /** @param options - see {@link RelaySpacesOptions} */
  constructor(options: RelaySpacesOptions) {
    this.#options = options
    this.#keepOpen = new Set(options.keepOpen)
    const maxPayload = maxPayloadFor({ maxMessageBytes: this.#maxMessageBytes() })
    // Federation links refuse oversized frames unread too.
    this.#FederationSocket = class extends WebSocket {
      constructor(url: string, protocols: string[]) {
        super(url, protocols, { maxPayload })
      }
    }
  }

  /** The ids of the open Spaces, sorted. */
  ids(): string[] {
    return [...this.#open.keys()].sort()
  }

  /** An open Space. */
  get(id: string): RelaySpace | undefined {
    return this.#open.get(id)
  }

  /** Federation links whose handshake is done. */
  federationLinks(): number {
    let links = 0
    for (const { federation } of this.#open.values()) for (const link of federation) if (link.status === 'open') links++
    return links
  }

  /** The ids of the Spaces kept under `dataDir`, or in `storage` if it can list its keys (none in memory). */
  async stored(): Promise<string[]> {
    const storage = this.#options.storage
    if (storage !== undefined) return (await keyPrefixes(storage, '/')).filter((id) => RELAY_SPACE_ID.test(id))
    const dataDir = this.#options.dataDir
    if (dataDir === undefined) return []
    try {
      const entries = await readdir(join(dataDir, 'spaces'), { withFileTypes: true })
      return entries.filter((entry) => entry.isDirectory() && RELAY_SPACE_ID.test(entry.name)).map((entry) => entry.name).sort()
    } catch {
      return []
    }
  }

  /**
   * Opens a Space (once; concurrent calls share the opening) and starts its engines.
   * @throws CabildoError `E_ARGUMENT` for an id outside {@link RELAY_SPACE_ID} or past `maxSpaces`;
   *   `E_CLOSED` once closing; `E_STORAGE` when its directory cannot be used.
   */
  open(id: string): Promise<RelaySpace> {
    const known = this.#opening.get(id)
    if (known !== undefined) return known
    if (this.#closed) return Promise.reject(new CabildoError('E_CLOSED', 'the relay is closing', { what: 'relay' }))
    if (!RELAY_SPACE_ID.test(id)) return Promise.reject(new CabildoError('E_ARGUMENT', `not a Space id this relay serves: ${JSON.stringify(id)}`, { argument: 'spaceId', reason: 'outside [A-Za-z0-9._~-], 128 characters' }))
    const maxSpaces = this.#options.maxSpaces ?? Number.POSITIVE_INFINITY
    if (this.#opening.size >= maxSpaces) return Promise.reject(new CabildoError('E_ARGUMENT', `the relay serves at most ${maxSpaces} Spaces`, { argument: 'spaceId', reason: 'too many Spaces' }))
    // A Space closing because idle opens again once it closed: never two opens of one store.
    const closing = this.#closingIdle.get(id)
    const opening = closing === undefined ? this.#start(id) : closing.then((kept) => kept ?? this.#start(id))
    this.#opening.set(id, opening)
    opening.catch(() => this.#opening.delete(id)) // a later connection tries again
    return opening
  }

  /**
   * Opens a Space (as {@link RelaySpaces.open}) for a connection, and keeps it from closing when
   * idle until the lease is released (when the connection ends).
   * @throws what {@link RelaySpaces.open} throws (the lease is then released).
   */
  async acquire(id: string): Promise<RelaySpaceLease> {
    this.#leases.set(id, (this.#leases.get(id) ?? 0) + 1)
    this.#disarm(id)
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      const left = (this.#leases.get(id) ?? 1) - 1
      if (left > 0) return void this.#leases.set(id, left)
      this.#leases.delete(id)
      this.#arm(id)
    }
    try {
      return { space: await this.open(id), release }
    } catch (error) {
      release()
      throw error
    }
  }

  /** Stops accepting Spaces, closes every federation link and stops every engine (its connections get 1001); the Spaces stay open. */
  async close(): Promise<void> {
    this.#closed = true
    for (const id of [...this.#idleTimers.keys()]) this.#disarm(id)
    await Promise.allSettled(this.#closingIdle.values())
    const spaces = await Promise.allSettled(this.#opening.values())
    for (const result of spaces) {
      if (result.status !== 'fulfilled') continue
      for (const link of result.value.federation) link.close()
      result.value.cluster?.close()
      result.value.engine.close()
    }
  }

  /** Closes every Space (flushing it to disk); call after the connections are gone. */
  async closeSpaces(): Promise<void> {
    const spaces = await Promise.allSettled(this.#opening.values())
    await Promise.allSettled(spaces.map((result) => (result.status === 'fulfilled' ? result.value.space.close() : undefined)))
    for (const retry of this.#retries.values()) retry.stop()
    this.#open.clear()
  }

  /** Whether this relay's Spaces close when idle: only with a store, and without links to other relays that would hold them open. */
  #closesIdle(): boolean {
    const { idleCloseMs = 0, dataDir, storage, peers, cluster } = this.#options
    return idleCloseMs > 0 && (dataDir !== undefined || storage !== undefined) && peers.length === 0 && cluster === undefined
  }

  /** Starts the idle countdown of an open Space that no lease holds. */
  #arm(id: string): void {
    if (this.#closed || !this.#closesIdle() || this.#keepOpen.has(id) || this.#leases.has(id) || !this.#open.has(id)) return
    this.#disarm(id)
    const timer = setTimeout(() => {
      this.#idleTimers.delete(id)
      this.#closeIdle(id)
    }, this.#options.idleCloseMs)
    timer.unref()
    this.#idleTimers.set(id, timer)
  }

  #disarm(id: string): void {
    const timer = this.#idleTimers.get(id)
    if (timer === undefined) return
    clearTimeout(timer)
    this.#idleTimers.delete(id)
  }

  #closeIdle(id: string): void {
    const relaySpace = this.#open.get(id)
    if (relaySpace === undefined || this.#closed || this.#leases.has(id)) return
    // Forgotten at once: a connection arriving from now on waits for the close, then opens the Space again.
    this.#open.delete(id)
    this.#opening.delete(id)
    const closing = this.#shutIdle(relaySpace)
    this.#closingIdle.set(id, closing)
    void closing.finally(() => {
      if (this.#closingIdle.get(id) === closing) this.#closingIdle.delete(id)
    })
  }

  async #shutIdle(relaySpace: RelaySpace): Promise<RelaySpace | undefined> {
    const { id, space, engine } = relaySpace
    try {
      await space.flush()
    } catch {
      // The store is failing: what it lacks lives only here, so the Space stays open (its flush retry runs on).
      this.#open.set(id, relaySpace)
      if (!this.#opening.has(id)) this.#opening.set(id, Promise.resolve(relaySpace))
      this.#arm(id)
      return relaySpace
    }
    engine.close()
    this.#retries.get(id)?.stop()
    this.#retries.delete(id)
    await space.close().catch(() => undefined)
    this.#options.meter.closedIdle()
    return undefined
  }

  async #start(id: string): Promise<RelaySpace> {
    const { dataDir, storage, meter, peerId } = this.#options
    // What a storage failure left in memory is flushed again until the storage is back.
    const opened: { space?: Space } = {}
    const retry = createFlushRetry(() => opened.space?.flush() ?? Promise.resolve())
    const onStorageError = (failure: StorageFailure): void => {
      retry.failed()
      this.#options.onStorageError?.(id, failure)
    }
    const space =
      storage !== undefined
        ? await openSpace({ id, storage: createEnvelopeLogStorage(createPrefixedStorage(storage, `${id}/`)), onStorageError })
        : dataDir === undefined
          ? createSpace({ id })
          : await openFileSpace({ id, directory: join(dataDir, 'spaces', id), onStorageError })
    opened.space = space
    this.#retries.set(id, retry)
    if (this.#closed) {
      await space.close()
      throw new CabildoError('E_CLOSED', 'the relay is closing', { what: 'relay' })
    }
    // Presence is forwarded only for documents whose presence exists here: make it exist for
    // every document the relay opens, without a state of the relay's own.
    const track = (name: string): void => {
      space.presence(name).then((presence) => presence.setLocalState(null), () => undefined)
    }
    space.signedDocs.on('open', (signed) => track(signed.name))
    for (const signed of space.signedDocs.list()) track(signed.name)
    const resync = this.#options.resyncEvery === undefined ? {} : { resyncEvery: this.#options.resyncEvery }
    const transport = createWebSocketServerTransport({ meter, ...(this.#options.limits === undefined ? {} : { limits: this.#options.limits }) })
    const engine = space.sync(readOnlyGate(transport, () => meter.refused('read-only')), { eager: true, relay: true, ...resync })
    engine.on('rejected', ({ code }) => meter.rejected(code))
    // A peer the engine ignores (too many strikes) has nothing more to say: free its connection.
    engine.on('malformed', ({ peerId: offender, ignored }) => ignored && transport.disconnect(offender, 'strikes'))
    transport.connect({ peerId, metadata: { role: 'relay', space: id } })
    const federation = this.#options.peers.map((peer) => {
      const link = createWebSocketTransport({
        url: `${peer.url.replace(/\/+$/, '')}/${encodeURIComponent(id)}`,
        WebSocket: this.#FederationSocket,
        maxMessageBytes: this.#maxMessageBytes(),
        ...(peer.token === undefined ? {} : { token: peer.token }),
      })
      const linkEngine = space.sync(link, { eager: true, relay: true, ...resync })
      linkEngine.on('rejected', ({ code }) => meter.rejected(code))
      link.connect({ peerId, metadata: { role: 'relay', space: id } })
      return link
    })
    // The other members of the cluster, on a bus where each reaches each: one more engine, as for federation.
    const cluster = this.#options.cluster?.(id)
    if (cluster !== undefined) {
      // Members all reach each other on the bus: forward to them what clients and federation bring, never what another member sent.
      const clusterEngine = space.sync(cluster, { eager: true, relay: 'from-other-transports', ...resync })
      clusterEngine.on('rejected', ({ code }) => meter.rejected(code))
      cluster.connect({ peerId, metadata: { role: 'relay', space: id } })
    }
    const relaySpace: RelaySpace = { id, space, transport, engine, federation, cluster }
    this.#open.set(id, relaySpace)
    this.#arm(id)
    return relaySpace
  }

  #maxMessageBytes(): number {
    return this.#options.limits?.maxMessageBytes ?? defaultConnectionLimits.maxMessageBytes
  }
}
