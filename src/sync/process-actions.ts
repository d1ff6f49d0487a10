/**
 * Signed acts on participatory processes: creation by district staff, `openSupports()`,
 * `startEvaluation()`, `publishResults()`, and `resolve()` for the authoritative view; and the
 * governance lookup proposals use to apply their process's phase and threshold.
 *
 * ```ts
 * const pb = await space.processes.create({ title: 'PB 2026', district: 'north', key: 'pb2026', supportThreshold: 300, phases: [] })
 * await pb.openSupports()   // district staff: signs the support threshold
 * await pb.startEvaluation() // supports made after this act are late
 * const { phase, threshold, planned, governing } = await pb.resolve()
 * ```
 * Every act is signed with the Space's identity and refused, before anything is stored, when
 * it would not count (`E_FORBIDDEN`, `E_INVALID`).
 * @module
 */
import { CabildoError } from '../errors'
import type { CreatePlan } from '../doc/collection'
import type { Entity } from '../doc/entity'
import { boundKey } from '../civic/bound-key'
import {
  creationDistricts,
  isProcessAct,
  processGovernance,
  ProcessAct,
  processTerms,
  resolveProcess,
  type AuthorizeIn,
  type ProcessGovernance,
  type ProcessView,
} from '../civic/process-phases'
import { processShard } from '../civic/civic-collections'
import type { Authorize, PolicyEntry, PolicyRecord } from '../policy/policy-record'
import type { Process, ProcessPhase } from '../schema/process'
import { asPolicyRecord, refusalError, type CreateContext } from './act-checks'
import type { SpaceActs } from './space-acts'

/** Options of a phase act. */
export interface ProcessActOptions {
  /** A note shown with the phase change. */
  readonly note?: string
}

/** The signed acts of a process entity. */
export interface ProcessActions {
  /**
   * Opens the supports phase (district `staff`): signs the record's current `supportThreshold`
   * as the threshold proposals of the process are counted against.
   * @throws CabildoError `E_FORBIDDEN`, `E_INVALID` (e.g. not in the proposing phase, or the record does not govern its key).
   */
  openSupports(options?: ProcessActOptions): Promise<ProcessView>
  /** Closes the supports phase and starts the evaluation (district `staff`). @throws CabildoError `E_FORBIDDEN`, `E_INVALID`. */
  startEvaluation(options?: ProcessActOptions): Promise<ProcessView>
  /** Moves from evaluation to results (district `staff`). @throws CabildoError `E_FORBIDDEN`, `E_INVALID`. */
  publishResults(options?: ProcessActOptions): Promise<ProcessView>
  /** The authoritative view: signed phase and threshold, planned dates, whether it governs its key, conflicts and rejected acts. */
  resolve(): Promise<ProcessView>
}

/** What a Space gets from {@link processBehaviour}. */
export interface ProcessServices {
  /** Signs the creation act (district staff only) and refuses a second process for a key. */
  readonly planCreate: (context: CreateContext) => Promise<CreatePlan>
  /** The signed acts of each process entity. */
  readonly extend: (entity: Entity<typeof Process>) => ProcessActions
  /** The process governing a process key, or `undefined` when none does (or its shard is unknown here). */
  readonly governance: (key: string) => Promise<ProcessGovernance | undefined>
}

const nobody: Authorize = () => false

/**
 * The process-related services of a Space.
 * @param isKnown - whether this replica knows shard `name` (so a lookup never creates one)
 */
export function processBehaviour(acts: SpaceActs, isKnown: (name: string) => boolean): ProcessServices {
  /** The role checks of every district named by a creation among `entries`, fetched once. */
  const authorizersFor = async (entries: readonly PolicyEntry[]): Promise<AuthorizeIn> => {
    const districts = creationDistricts(entries)
    const rosters = new Map(await Promise.all(districts.map(async (d) => [d, await acts.authorizer(d)] as const)))
    return (district) => rosters.get(district) ?? nobody
  }

  const resolveEntity = async (entity: Entity<typeof Process>, extra?: PolicyRecord): Promise<ProcessView> => {
    const read = await acts.read(entity.shard, isProcessAct)
    const entries = extra ? [...read, extra] : read
    return resolveProcess({ id: entity.id, phases: entity.get().value.phases }, entries, await authorizersFor(entries))
  }

  const planCreate = async ({ shard, fields }: CreateContext): Promise<CreatePlan> => {
    if (!acts.hasIdentity()) return {}
    const identity = acts.identity(ProcessAct.create)
    const nonce = acts.randomKey()
    const key = boundKey(identity.did, nonce)
    const id = `${shard}/${key}`
    const record = await acts.sign(shard, ProcessAct.create, { process: id, nonce, key: fields['key'], district: fields['district'] })
    const preview = asPolicyRecord(record)
    // An unknown shard holds no process yet: reading it would open (create) it for a create that may be refused.
    const entries = [...(isKnown(shard) ? await acts.read(shard, isProcessAct) : []), preview]
    const view = resolveProcess({ id }, entries, await authorizersFor(entries))
    const refused = view.rejected.find((r) => r.hash === preview.hash)
    if (refused) throw refusalError(refused, `Cannot create process ${String(fields['key'])}`, identity.did, ProcessAct.create)
    if (!view.governing) {
      throw new CabildoError('E_INVALID', `Process ${String(fields['key'])} already exists`, { reason: view.conflicts[0]?.reason ?? 'another process governs this key', rule: 'duplicate' })
    }
    return { key, alsoWrite: (doc) => acts.append(doc, record) }
  }

  const phase = async (entity: Entity<typeof Process>, to: ProcessPhase, extra: Record<string, unknown>): Promise<ProcessView> => {
    const before = await resolveEntity(entity)
    const action = `process.${to}`
    if (!before.governing) {
      throw new CabildoError('E_INVALID', `Process ${entity.id} governs no process key`, { reason: 'it has no authorized creation, or another process was created first', rule: 'not-governing' })
    }
    const record = await acts.sign(entity.shard, ProcessAct.phase, { process: entity.id, from: before.phase, to, ...extra })
    const preview = asPolicyRecord(record)
    // Resolve with the new act before storing it: an act that would not count is never written.
    const after = await resolveEntity(entity, preview)
    const refused = after.rejected.find((r) => r.hash === preview.hash)
    if (refused) throw refusalError(refused, `Cannot move process ${entity.id} from ${before.phase} to ${to}`, record.author, action)
    if (after.phase !== to) throw new CabildoError('E_INVALID', `Process ${entity.id} did not move to ${to}`, { reason: 'a concurrent phase change won' })
    const doc = await acts.docOf(entity.shard)
    acts.append(doc, record)
    return after
  }

  const openSupports = async (entity: Entity<typeof Process>, opts: ProcessActOptions): Promise<ProcessView> => {
    const terms = processTerms.safeParse({ supportThreshold: entity.get().value.supportThreshold })
    if (!terms.success) {
      throw new CabildoError('E_INVALID', `Cannot open the supports of process ${entity.id}: it has no valid supportThreshold`, { reason: 'supportThreshold must be an integer >= 1', rule: 'terms' })
    }
    return phase(entity, 'supports', { terms: terms.data, ...(opts.note === undefined ? {} : { note: opts.note }) })
  }

  const note = (opts: ProcessActOptions = {}): Record<string, unknown> => (opts.note === undefined ? {} : { note: opts.note })

  return {
    planCreate,
    extend: (entity) => ({
      openSupports: (o = {}) => openSupports(entity, o),
      startEvaluation: (o) => phase(entity, 'evaluation', note(o)),
      publishResults: (o) => phase(entity, 'results', note(o)),
      resolve: () => resolveEntity(entity),
    }),
    governance: async (key) => {
      const shard = processShard(key)
      if (!isKnown(shard)) return undefined
      const entries = await acts.read(shard, isProcessAct)
      return processGovernance(key, entries, await authorizersFor(entries))
    },
  }
}
