/**
 * One honest district of a simulation: a Space with its own key, clock (skewed), record keys
 * (seeded), storage (a {@link SimulatedDisk}) and sync engine on the shared memory network, and
 * the ability to die and come back from what its disk kept.
 * @module
 */
import { digest } from 'lib0/hash/sha256'
import { encodeUtf8 } from 'lib0/string'
import { CabildoError } from '../../errors'
import { identityFromKeyPair, type Identity } from '../../identity/identity'
import { keyPairFromSeed } from '../../identity/keys'
import type { MemoryNetwork } from '../../transports/memory-network'
import type { SeededRandom } from '../../transports/seeded-random'
import { openSpace, type Space, type SpaceOptions } from '../../sync/space'
import type { SyncEngine } from '../../sync/sync-engine'
import type { SimulatedDisk } from './simulated-disk'

/** The identity of a simulated participant, derived from the simulation's seed and a label: the same seed gives the same keys. */
export async function simulatedIdentity(seed: number, label: string): Promise<Identity> {
  return identityFromKeyPair(await keyPairFromSeed(digest(encodeUtf8(`cabildo/simulation/${seed}/${label}`))))
}

/** Record keys (16 base-62 characters) drawn from a seeded source, so that a schedule names the same records every run. */
export function seededRecordKeys(random: SeededRandom): () => string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
  return () => {
    let key = ''
    for (let i = 0; i < 16; i++) key += alphabet[random.int(0, alphabet.length - 1)]
    return key
  }
}

/** How a district is set up; fixed for the whole simulation. */
export interface DistrictSetup {
  /** Its peer id on the network, and its district code (`d0`, `d1`, ...). */
  readonly id: string
  /** Its key; it is also the root of its district code. */
  readonly identity: Identity
  /** What survives its crashes. */
  readonly disk: SimulatedDisk
  /** How far its wall clock is off, in milliseconds (times are data: they never decide anything). */
  readonly skewMs: number
  /** Whether its engine opens every shard it learns of (an archive), or only those its app reads. */
  readonly eager: boolean
  /** The Space options every district shares (id, district roots, lifecycle options). */
  readonly shared: Omit<SpaceOptions, 'identity' | 'now' | 'randomKey' | 'storage'>
  /** The simulated wall clock, in milliseconds since the epoch, before skew. */
  readonly clock: () => number
  /** The district's source of record keys. */
  readonly randomKey: () => string
}

/** A district's running incarnation and its history of crashes. */
export class SimDistrict {
  readonly setup: DistrictSetup
  readonly #network: MemoryNetwork
  #space: Space | undefined
  #engine: SyncEngine | undefined
  /** How many times it started (1 after the first start; +1 per crash). */
  incarnation = 0
  /** The Yjs client ids its dead incarnations wrote under: content a crash left without envelopes can only be theirs. */
  readonly deadClients = new Set<number>()
  /** Failures its engines reported in the background (`error` events), oldest first. */
  readonly errors: unknown[] = []

  constructor(setup: DistrictSetup, network: MemoryNetwork) {
    this.setup = setup
    this.#network = network
  }

  get id(): string {
    return this.setup.id
  }

  /** The Space of the current incarnation. */
  get space(): Space {
    if (this.#space === undefined) throw notStarted(this.id)
    return this.#space
  }

  /** The sync engine of the current incarnation. */
  get engine(): SyncEngine {
    if (this.#engine === undefined) throw notStarted(this.id)
    return this.#engine
  }

  /** Opens the Space on the disk's storage and starts syncing as `id` (no resync timer: the simulation drives resyncs). */
  async start(): Promise<void> {
    const { identity, disk, skewMs, clock, randomKey, shared, eager } = this.setup
    this.incarnation++
    this.#space = await openSpace({ ...shared, identity, now: () => new Date(clock() + skewMs), randomKey, storage: await disk.storage() })
    this.#engine = this.#space.sync(this.#network.transport(), { peerId: this.id, resyncEvery: 0, eager })
    this.#engine.on('error', ({ error }) => this.errors.push(error))
  }

  /**
   * The process dies now: the disk keeps what a crash keeps (decided synchronously, before
   * anything else runs), the engine drops off the network, and the dead Space is closed (its
   * last writes reach only the dead incarnation's storage). Then the district starts again.
   */
  async crashAndRestart(): Promise<void> {
    this.setup.disk.crash()
    const dead = this.#space
    for (const doc of dead?.openDocs().values() ?? []) this.deadClients.add(doc.clientID)
    this.#engine?.close()
    await dead?.close().catch(() => undefined)
    await this.start()
  }

  /** Stops for good at the end of the simulation. */
  async close(): Promise<void> {
    this.#engine?.close()
    await this.#space?.close().catch(() => undefined)
  }
}

function notStarted(id: string): CabildoError<'E_CLOSED'> {
  return new CabildoError('E_CLOSED', `district ${id} is not running`, { what: `district ${id}` })
}
