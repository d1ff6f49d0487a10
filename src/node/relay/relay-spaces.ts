/**
 * The Spaces a relay serves: for each, the Space (in memory, in a directory, or in a shared
 * storage), the server transport its clients connect to, the sync engine over it (`eager`,
 * `relay`), one federation link per peer relay (a WebSocket transport to
 * `<peer url>/<space id>` with a second engine on the same Space), and in a cluster one link to
 * the other members (a Redis transport, with one more engine).
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
}

/** The Spaces of a relay, opened on demand. */
export class RelaySpaces {
  readonly #options: RelaySpacesOptions
  readonly #opening = new Map<string, Promise<RelaySpace>>()
  readonly #open = new Map<string, RelaySpace>()
  readonly #retries = new Set<FlushRetry>()
  readonly #FederationSocket: WebSocketConstructor
  #closed = false

  /** @param options - see {@link RelaySpacesOptions} */
  constructor(options: RelaySpacesOptions) {
    this.#options = options
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
    const opening = this.#start(id)
    this.#opening.set(id, opening)
    opening.catch(() => this.#opening.delete(id)) // a later connection tries again
    return opening
  }

  /** Stops accepting Spaces, closes every federation link and stops every engine (its connections get 1001); the Spaces stay open. */
  async close(): Promise<void> {
    this.#closed = true
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
    for (const retry of this.#retries) retry.stop()
    this.#open.clear()
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
    this.#retries.add(retry)
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
    return relaySpace
  }

  #maxMessageBytes(): number {
    return this.#options.limits?.maxMessageBytes ?? defaultConnectionLimits.maxMessageBytes
  }
}
