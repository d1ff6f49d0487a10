/**
 * Signed acts in a Space: the Lamport clock, signing with the Space's identity, the act logs of
 * its shards, and the district rosters that say who holds which role.
 * @module
 */
import type * as Y from 'yjs'
import { CabildoError } from '../errors'
import { actLogOf, appendAct, maxActClock, readActs, verifyActs } from '../civic/act-log'
import type { Identity } from '../identity/identity'
import { grantRole, resolveRoster, revokeRole, type Roster } from '../identity/roster'
import type { SignedRecord } from '../identity/signed-record'
import { defaultVerifier, type Verifier } from '../identity/verifier'
import type { Authorize, PolicyEntry } from '../policy/policy-record'
import { MANIFEST_DOC, type ShardSet } from './shard-set'

/** Options of {@link SpaceActs}. */
export interface SpaceActsOptions {
  readonly spaceId: string
  readonly shards: ShardSet
  readonly identity: Identity | undefined
  /** District code → the did of the district's root key, the trust anchor of its roster. */
  readonly districts: Readonly<Record<string, string>>
  readonly verifier?: Verifier
}

const nobody: Authorize = () => false

/** The payload fields that name the record an act is about (the index of {@link SpaceActs.readAbout}), in lookup order. */
export const SUBJECT_FIELDS = ['ticket'] as const

/** Adds an act-log entry to a subject index (entries about no record are not indexed). */
function indexAct(index: Map<string, Set<string>>, key: string, value: unknown): void {
  const payload = (value as { payload?: unknown } | null | undefined)?.payload
  if (typeof payload !== 'object' || payload === null) return
  for (const field of SUBJECT_FIELDS) {
    const subject = (payload as Record<string, unknown>)[field]
    if (typeof subject !== 'string') continue
    let keys = index.get(subject)
    if (!keys) index.set(subject, (keys = new Set()))
    keys.add(key)
    return
  }
}

/** The signed-act services of one Space. */
export class SpaceActs {
  readonly #options: SpaceActsOptions
  readonly #verifier: Verifier
  /** Resolved rosters by district, dropped whenever the manifest's act log changes. */
  readonly #rosters = new Map<string, Promise<Roster | undefined>>()
  /** Per document: subject → keys of the acts about it (see {@link SUBJECT_FIELDS}). */
  readonly #subjects = new WeakMap<Y.Doc, Map<string, Set<string>>>()
  #maxClock = 0

  /** @param options - the Space's id, shards, identity and district roots */
  constructor(options: SpaceActsOptions) {
    this.#options = options
    this.#verifier = options.verifier ?? defaultVerifier
    this.#track(options.shards.manifest)
    actLogOf(options.shards.manifest).observe(() => this.#rosters.clear())
    options.shards.onOpen((_name, doc) => this.#track(doc))
  }

  /**
   * Keeps the Lamport clock above every act this replica has seen, in every open document, and
   * indexes each document's acts by subject so that reading one record's acts does not scan the log.
   */
  #track(doc: Y.Doc): void {
    this.#maxClock = Math.max(this.#maxClock, maxActClock(doc))
    const index = new Map<string, Set<string>>()
    this.#subjects.set(doc, index)
    for (const [key, value] of actLogOf(doc).entries()) indexAct(index, key, value)
    actLogOf(doc).observe((event) => {
      for (const key of event.keysChanged) {
        const value = actLogOf(doc).get(key)
        indexAct(index, key, value)
        const clock = (value as { clock?: unknown } | undefined)?.clock
        if (typeof clock === 'number' && Number.isSafeInteger(clock) && clock > this.#maxClock) this.#maxClock = clock
      }
    })
  }

  /** The id records of shard `name` are signed for: the Space id and the shard, so an act cannot be replayed elsewhere. */
  docId(name: string): string {
    return `${this.#options.spaceId}/${name}`
  }

  /** The identity acts are signed with. @throws CabildoError `E_FORBIDDEN` when the Space has none. */
  identity(action: string): Identity {
    const identity = this.#options.identity
    if (!identity) {
      throw new CabildoError('E_FORBIDDEN', `${action} is a signed act: create the Space with an identity`, {
        actor: 'anonymous',
        action,
        reason: 'no identity',
      })
    }
    return identity
  }

  /** Whether the Space signs acts with an identity. */
  hasIdentity(): boolean {
    return this.#options.identity !== undefined
  }

  /** The origin of the Space's local transactions. */
  get localOrigin(): object {
    return this.#options.shards.localOrigin
  }

  /** A fresh random key (for nonces). */
  randomKey(): string {
    return this.#options.shards.randomKey()
  }

  /** Opens a shard document. */
  docOf(name: string): Promise<Y.Doc> {
    return this.#options.shards.open(name)
  }

  /** The clock of the next act: one more than any act seen so far. */
  nextClock(): number {
    return this.#maxClock + 1
  }

  /**
   * Signs an act for shard `name` with the Space's identity (not yet stored).
   * @throws CabildoError `E_FORBIDDEN` without an identity; see `signRecord`.
   */
  async sign<P>(name: string, type: string, payload: P, at?: string): Promise<SignedRecord<P>> {
    const identity = this.identity(type)
    const clock = this.nextClock()
    const record = await identity.sign({ type, doc: this.docId(name), clock, payload, ...(at === undefined ? {} : { at }) })
    this.#maxClock = Math.max(this.#maxClock, clock)
    return record
  }

  /** Stores a signed act in a document's act log (in the Space's local origin). */
  append(doc: Y.Doc, record: SignedRecord): string {
    return appendAct(doc, record, this.#options.shards.localOrigin)
  }

  /** The verified acts of shard `name` that pass `filter` (failed ones included, for reporting). */
  async read(name: string, filter?: (value: unknown) => boolean): Promise<PolicyEntry[]> {
    const doc = await this.#options.shards.open(name)
    return readActs(doc, this.docId(name), filter, this.#verifier)
  }

  /**
   * The verified acts of shard `name` about one record (`payload.<field>` equal to `subject`, see
   * {@link SUBJECT_FIELDS}) that pass `filter`: what {@link SpaceActs.read} returns with a filter
   * on the subject, found through the index instead of a scan of the whole log.
   */
  async readAbout(name: string, subject: string, filter: (value: unknown) => boolean): Promise<PolicyEntry[]> {
    const doc = await this.#options.shards.open(name)
    const index = this.#subjects.get(doc)
    if (!index) return readActs(doc, this.docId(name), filter, this.#verifier) // a document opened elsewhere: scan its log
    const log = actLogOf(doc)
    const pairs: Array<readonly [string, unknown]> = []
    for (const key of index.get(subject) ?? []) {
      const value = log.get(key)
      if (value !== undefined && filter(value)) pairs.push([key, value])
    }
    return verifyActs(pairs, this.docId(name), this.#verifier)
  }

  /** Verifies some `[key, value]` entries of shard `name`'s act log (e.g. those a transaction just added). */
  verify(name: string, pairs: ReadonlyArray<readonly [string, unknown]>): Promise<PolicyEntry[]> {
    return verifyActs(pairs, this.docId(name), this.#verifier)
  }

  /** The district codes with a configured root. */
  districts(): string[] {
    return Object.keys(this.#options.districts).sort()
  }

  /**
   * The resolved roster of a district, or `undefined` when the district has no configured root.
   * The same Roster object is returned until the manifest's act log changes, so callers may use
   * its identity as a version.
   */
  roster(district: string): Promise<Roster | undefined> {
    let roster = this.#rosters.get(district)
    if (!roster) {
      roster = this.#resolveRoster(district)
      this.#rosters.set(district, roster)
      roster.catch(() => {
        if (this.#rosters.get(district) === roster) this.#rosters.delete(district)
      })
    }
    return roster
  }

  async #resolveRoster(district: string): Promise<Roster | undefined> {
    const root = this.#options.districts[district]
    if (!root) return undefined
    const values = [...actLogOf(this.#options.shards.manifest).values()].filter((v) => (v as { author?: unknown } | null)?.author === root)
    const { verified } = await this.#verifier.filter(values, { doc: this.docId(MANIFEST_DOC) })
    return resolveRoster(root, verified)
  }

  /** The role check of a district's roster (nobody holds a role in a district without a root). */
  async authorizer(district: string): Promise<Authorize> {
    const roster = await this.roster(district)
    return roster ? (author, role, clock) => roster.hasRole(author, role, clock) : nobody
  }

  /**
   * Grants or revokes a role in the roster of the district whose root is this Space's identity.
   * @throws CabildoError `E_FORBIDDEN` when the identity is no district's root.
   */
  async changeRole(kind: 'grant' | 'revoke', subject: string, role: string): Promise<SignedRecord> {
    const identity = this.identity(`roster.${kind}`)
    if (!Object.values(this.#options.districts).includes(identity.did)) {
      throw new CabildoError('E_FORBIDDEN', 'Only a district root may change its roster', { actor: identity.did, action: `roster.${kind}`, reason: 'not a district root' })
    }
    const change = { doc: this.docId(MANIFEST_DOC), clock: this.nextClock(), subject, role }
    const record = await (kind === 'grant' ? grantRole(identity, change) : revokeRole(identity, change))
    this.#maxClock = Math.max(this.#maxClock, change.clock)
    this.append(this.#options.shards.manifest, record)
    return record
  }
}
