/**
 * The Space: a district's civic data, as typed collections over lazily opened shard documents.
 *
 * ```ts
 * import { createSpace } from 'cabildo'
 * const space = createSpace({ id: 'city-of-example' })
 * const ticket = await space.tickets.create({ service_code: 'pothole', district: 'north' })
 * ticket.update({ status: 'acknowledged' })
 * await space.close()
 * ```
 * @module
 */
import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { CabildoError } from '../errors'
import { Collection, type CollectionOptions } from '../doc/collection'
import { randomKey as defaultRandomKey } from '../doc/record-ids'
import { civicCollectionOptions, defaultShardRules, type CivicShardRules } from '../civic/civic-collections'
import type { Ballot, Budget, BudgetProject } from '../schema/budget'
import type { RecordInput, RecordType } from '../schema/record-type'
import type { Comment } from '../schema/comment'
import type { Process } from '../schema/process'
import type { Proposal } from '../schema/proposal'
import type { ServiceTicket } from '../schema/ticket'
import type { Identity } from '../identity/identity'
import type { Storage } from '../storage/storage'
import type { StorageFailure } from '../storage/attach-store'
import type { Roster } from '../identity/roster'
import type { SignedRecord } from '../identity/signed-record'
import type { TicketLifecycleOptions } from '../civic/ticket-lifecycle'
import type { ProposalLifecycleOptions } from '../civic/proposal-lifecycle'
import { MANIFEST_DOC, ShardSet } from './shard-set'
import { SpaceActs } from './space-acts'
import { ticketBehaviour, type TicketActions } from './ticket-actions'
import { proposalBehaviour, type ProposalActions } from './proposal-actions'
import { processBehaviour, type ProcessActions } from './process-actions'
import { commentBehaviour, type CommentActions } from './comment-actions'
import { targetDistricts } from './comment-targets'
import { budgetBehaviour, projectCostsFrom, type BudgetActions, type BudgetOptions } from './budget-actions'
import type { Transport } from '../transports/transport'
import { Presences } from './presences'
import { SignedDocs } from './signed-docs'
import { createSyncEngine, type SyncEngine, type SyncEngineOptions } from './sync-engine'

/** Options of {@link createSpace}. */
export interface SpaceOptions {
  /** The Space's id, shared by every replica of the same civic space (e.g. a city). */
  readonly id: string
  /** The clock used to fill time fields (default: the system clock). Times are data, never decide anything. */
  readonly now?: () => Date
  /** The source of fresh record keys (default: 16 random base-62 characters from the platform CSPRNG). */
  readonly randomKey?: () => string
  /** Replaces some of the default shard rules (one process, one budget, one month of tickets per shard). */
  readonly shards?: Partial<CivicShardRules>
  /**
   * Who this replica acts as. Policy-relevant acts (closing a ticket, casting a ballot, granting
   * a role) are signed with it; without one, the Space can read and edit plain fields only.
   */
  readonly identity?: Identity
  /**
   * District code → the `did:key` of the district's root key. A district's root grants and
   * revokes roles (`staff`, `moderator`, `agency:<code>`, ...) by signed records; every replica
   * must configure the same roots to resolve the same roles.
   */
  readonly districts?: Readonly<Record<string, string>>
  /** The ticket lifecycle's options (e.g. how long a requester may reopen). */
  readonly tickets?: TicketLifecycleOptions
  /**
   * The proposal lifecycle's options: the support threshold (a number, or a function of the
   * participatory process) and the role supporters need. Every replica must use the same. A
   * process record governing a process key replaces the threshold with the one its staff signed.
   */
  readonly proposals?: ProposalLifecycleOptions
  /** The budgets' options (who may vote when staff opens a vote without saying). */
  readonly budgets?: BudgetOptions
  /**
   * Where the Space keeps its documents (default: memory only). In Node, `openFileSpace` from
   * `cabildo/node` keeps them in a directory; in browsers, use `createIndexedDbStorage()`.
   */
  readonly storage?: Storage
  /** Compact a document's store once it holds this many records (default 500). */
  readonly compactEvery?: number
  /**
   * Sign a checkpoint of this replica's session of a document (one envelope merging its
   * envelopes so far, which peers catching up receive instead of each of them) once this many
   * envelopes were signed since the last one and what they cost beyond their updates reaches its
   * size and an eighth of those updates' size. Default 32; 0 turns automatic checkpoints off (`space.signedDocs.checkpoint(name)`
   * still makes one).
   */
  readonly checkpointEvery?: number
  /** Called with every storage failure (disk full, quota exceeded, ...); the Space stays usable in memory. */
  readonly onStorageError?: (error: StorageFailure) => void
  /**
   * The session nonce (16 bytes) of this replica's writer of a document, asked for each time the
   * document is created here (default: 16 bytes from the platform CSPRNG). The nonce decides the
   * document's Yjs client id (`sessionClientId(did, nonce)`), hence its bytes: tests and
   * simulations fix it to make runs byte-identical. **Never give one author the same nonce for
   * a document twice** (after a restart, in another tab, on another device): the two sessions
   * share one client id and one hash chain. Live side by side, each signs its own envelope #1,
   * #2, ...: a peer applies whichever it receives first and refuses the other
   * (`E_EQUIVOCATION`), so each device's edits reach only some peers. After a restart over the
   * stored content of the first, Yjs finds its client id in use and moves the document to a
   * random one: the new session's edits never join the envelope log and stay local
   * (`signedDoc.unsigned()` reports them). See docs/sync.md.
   */
  readonly sessionNonce?: (doc: string) => Uint8Array
}

/** A district's civic data: typed collections over shard documents. Create one with {@link createSpace}. */
export class Space {
  /** The Space's id. */
  readonly id: string
  /** Proposals, sharded by participatory process. */
  readonly proposals: Collection<typeof Proposal, 'createdAt', ProposalActions>
  /** Participatory processes (phases, dates, support threshold), each in the shard of its proposals (`process.<key>`). */
  readonly processes: Collection<typeof Process, never, ProcessActions>
  /** Participatory budgets, one shard each. */
  readonly budgets: Collection<typeof Budget, never, BudgetActions>
  /** Budget projects, in their budget's shard. */
  readonly projects: Collection<typeof BudgetProject>
  /** Plain, unsigned ballots in their budget's shard (e.g. drafts); the counted ballots are the signed `budget.castBallot` acts. */
  readonly ballots: Collection<typeof Ballot>
  /** Service tickets, sharded by month of `requested_datetime`. */
  readonly tickets: Collection<typeof ServiceTicket, 'requested_datetime', TicketActions>
  /** Comments, in the shard of the record they comment on; moderators hide them by signed acts. */
  readonly comments: Collection<typeof Comment, 'createdAt', CommentActions>
  /**
   * Every open document's signed history (writer, guard, envelope log): what sync engines
   * exchange. Local transactions are signed only when the Space has an identity.
   */
  readonly signedDocs: SignedDocs
  /** Presence per document (see {@link Space.presence}): what sync engines share besides documents. */
  readonly presences = new Presences()
  readonly #shards: ShardSet
  readonly #acts: SpaceActs
  readonly #custom: Array<Collection<RecordType, never>> = []

  /** @internal Use {@link createSpace}. */
  constructor(options: SpaceOptions) {
    if (typeof options.id !== 'string' || options.id.length === 0) {
      throw new CabildoError('E_ARGUMENT', 'A Space needs a non-empty id', { argument: 'id', reason: 'empty' })
    }
    this.id = options.id
    this.signedDocs = new SignedDocs({
      spaceId: options.id,
      ...(options.identity === undefined ? {} : { signer: options.identity.keyPair }),
      ...(options.storage === undefined ? {} : { storage: options.storage }),
      ...(options.compactEvery === undefined ? {} : { compactEvery: options.compactEvery }),
      ...(options.onStorageError === undefined ? {} : { onStorageError: options.onStorageError }),
      ...(options.checkpointEvery === undefined ? {} : { checkpointEvery: options.checkpointEvery }),
      ...(options.sessionNonce === undefined ? {} : { sessionNonce: options.sessionNonce }),
    })
    this.#shards = new ShardSet({
      prepare: (name, doc) => this.signedDocs.attach(name, doc),
      now: options.now ?? (() => new Date()),
      randomKey: options.randomKey ?? defaultRandomKey,
      ...(options.storage === undefined ? {} : { storage: options.storage }),
      ...(options.compactEvery === undefined ? {} : { compactEvery: options.compactEvery }),
      ...(options.onStorageError === undefined ? {} : { onStorageError: options.onStorageError }),
    })
    this.#acts = new SpaceActs({ spaceId: options.id, shards: this.#shards, identity: options.identity, districts: options.districts ?? {} })
    const collections = civicCollectionOptions({ ...defaultShardRules, ...options.shards })
    const known = (name: string): boolean => this.#shards.has(name) || this.#shards.openShards().has(name)
    const processes = processBehaviour(this.#acts, known)
    this.processes = new Collection(this.#shards, { ...collections.processes, planCreate: processes.planCreate, extend: processes.extend })
    const proposalContext = { governance: processes.governance, proposals: () => this.proposals }
    this.proposals = new Collection(this.#shards, { ...collections.proposals, ...proposalBehaviour(this.#acts, options.proposals, proposalContext) })
    const costs = projectCostsFrom(() => this.projects)
    this.budgets = new Collection(this.#shards, { ...collections.budgets, ...budgetBehaviour(this.#acts, options.budgets ?? {}, costs) })
    this.projects = new Collection(this.#shards, collections.projects)
    this.ballots = new Collection(this.#shards, collections.ballots)
    this.tickets = new Collection(this.#shards, { ...collections.tickets, ...ticketBehaviour(this.#acts, options.tickets) })
    const districtOf = targetDistricts(this.#acts, () => this)
    this.comments = new Collection(this.#shards, { ...collections.comments, ...commentBehaviour(this.#acts, districtOf) })
  }

  /**
   * A collection of your own record type over this Space's shards: for app-specific records, or
   * for another version of a built-in type (give the built-in `mapName`, e.g. `tickets`, and
   * both see the same records; fields one version does not know are kept by the other).
   */
  collection<R extends RecordType, D extends keyof RecordInput<R> = never>(options: CollectionOptions<R, D>): Collection<R, D> {
    const collection = new Collection(this.#shards, options)
    this.#custom.push(collection as unknown as Collection<RecordType, never>)
    return collection
  }

  /** The identity this replica signs acts with, if any. */
  get identity(): Identity | undefined {
    return this.#acts.hasIdentity() ? this.#acts.identity('identity') : undefined
  }

  /** The resolved roster of a district (`undefined` when no root is configured for it). */
  roster(district: string): Promise<Roster | undefined> {
    return this.#acts.roster(district)
  }

  /**
   * Grants a role to a key, signed by this Space's identity, which must be a district root.
   * Roles: `staff`, `moderator`, `agency:<code>`, `voter:<budget id>`, or your own.
   * @throws CabildoError `E_FORBIDDEN` when the identity is no district root.
   */
  grantRole(subject: string, role: string): Promise<SignedRecord> {
    return this.#acts.changeRole('grant', subject, role)
  }

  /**
   * Revokes a role. Acts of the subject with a higher Lamport clock than the revocation stop
   * counting; acts it made before, or concurrently without having seen it, still count.
   * @throws CabildoError `E_FORBIDDEN` when the identity is no district root.
   */
  revokeRole(subject: string, role: string): Promise<SignedRecord> {
    return this.#acts.changeRole('revoke', subject, role)
  }

  /** The origin of this Space's local transactions (remote updates carry other origins). */
  get localOrigin(): object {
    return this.#shards.localOrigin
  }

  /**
   * Opens a document of the Space by name: a shard (`tickets.2026-11`) or the manifest (`_manifest`).
   * @throws CabildoError `E_CLOSED` after {@link Space.close}; `E_ARGUMENT` for an invalid name.
   */
  doc(name: string): Promise<Y.Doc> {
    return this.#shards.open(name)
  }

  /** Names of every shard known to this replica (created here or learnt from a synced manifest), sorted. */
  shardNames(): string[] {
    return this.#shards.all()
  }

  /** The documents open now, by name, the manifest (`_manifest`) first. */
  openDocs(): ReadonlyMap<string, Y.Doc> {
    return new Map<string, Y.Doc>([[MANIFEST_DOC, this.#shards.manifest], ...this.#shards.openShards()])
  }

  /** Calls `listener` for each shard opened from now on. Returns the unsubscribe function. */
  onDocOpen(listener: (name: string, doc: Y.Doc) => void): () => void {
    return this.#shards.onOpen(listener)
  }

  /**
   * Syncs this Space with the peers of `transport` (see `createSyncEngine`); call it once per
   * transport. The engine stops when the Space closes.
   * @throws CabildoError `E_CLOSED` after {@link Space.close}; `E_ARGUMENT` for invalid options.
   */
  sync(transport: Transport, options: Omit<SyncEngineOptions, 'space' | 'transport'> = {}): SyncEngine {
    return createSyncEngine({ ...options, space: this, transport })
  }

  /**
   * The presence of a document (a y-protocols `Awareness` on it, created the first time): set
   * this replica's state with `setLocalState` / `setLocalStateField`, read everyone's with
   * `getStates()`. Sync engines share it with the peers that sync the document. Presence is
   * ephemeral and unsigned: a peer can claim any name in it, so never base a decision on it.
   * @throws CabildoError `E_CLOSED` when the Space is closed.
   */
  async presence(name: string): Promise<Awareness> {
    const doc = await this.doc(name)
    return this.presences.of(name, doc)
  }

  /** Whether the Space was closed. */
  get closed(): boolean {
    return this.#shards.closed
  }

  /**
   * Resolves once the Space's manifest is loaded from storage (at once without storage). Every
   * async call waits for it; {@link openSpace} returns a Space that is ready.
   * @throws CabildoError `E_STORAGE` when the manifest cannot be loaded (nothing is written over it).
   */
  ready(): Promise<void> {
    return this.#shards.ready
  }

  /**
   * Resolves once every edit made so far is durable in storage (at once without storage).
   * @throws CabildoError `E_STORAGE` when some edit still could not be stored (it is kept and retried).
   */
  flush(): Promise<void> {
    return this.#shards.flush()
  }

  /**
   * Flushes and releases every document, store and observer. Idempotent; later calls to the
   * Space throw `E_CLOSED`.
   * @throws CabildoError `E_STORAGE` when the last edits could not be stored.
   */
  async close(): Promise<void> {
    const builtIn = [this.proposals, this.processes, this.budgets, this.projects, this.ballots, this.tickets, this.comments]
    for (const collection of [...builtIn, ...this.#custom]) collection.dispose()
    this.signedDocs.close() // sync engines stop first
    this.presences.close()
    await this.#shards.close()
  }
}

/**
 * Creates a Space: typed civic collections whose shards open on demand. With storage, the
 * Space loads in the background and every async call waits for it; see {@link openSpace}.
 * @throws CabildoError `E_ARGUMENT` when `id` is empty.
 */
export function createSpace(options: SpaceOptions): Space {
  return new Space(options)
}

/**
 * Creates a Space and waits until its stored state is loaded.
 * @throws CabildoError `E_ARGUMENT` when `id` is empty, `E_STORAGE` when the storage cannot be loaded.
 */
export async function openSpace(options: SpaceOptions): Promise<Space> {
  const space = new Space(options)
  try {
    await space.ready()
  } catch (error) {
    await space.close().catch(() => undefined)
    throw error
  }
  return space
}
