/**
 * A participatory process as signed acts: which process record governs a process key, its
 * current phase, and the support threshold signed when the supports phase opens.
 *
 * ```ts
 * const governance = processGovernance('pb2026', entries, (district) => rosters.get(district)?.authorize ?? nobody)
 * governance?.phase     // 'supports', from the accepted `process.phase` acts
 * governance?.threshold // the threshold signed into the act that opened the supports phase
 * ```
 *
 * | act | who | payload |
 * | --- | --- | --- |
 * | `process.create` | district `staff`; binds the record's key to its creator, pins the process key and district | `{ process, nonce, key, district }` |
 * | `process.phase` proposing → supports | district `staff` | `{ process, from, to, terms: { supportThreshold }, note? }` |
 * | `process.phase` supports → evaluation → results | district `staff` | `{ process, from, to, note? }` |
 *
 * The process key is governed by the first authorized creation in the total order (clock,
 * author, hash); a later (or concurrent) creation for the same key governs nothing and is
 * reported as a `lost` conflict in its own view. The planned dates are data shown to people: the
 * phase that counts is the signed one, as a budget's vote opens by a signed act, not at a date.
 * @module
 */
import { z } from 'zod'
import type { Conflict, Rejected } from '../policy/merge-policy'
import { isFailedRecord, type Authorize, type PolicyEntry, type PolicyRecord } from '../policy/policy-record'
import { refuse, type Refusal } from '../policy/record-intake'
import { stateMachine, type AcceptedTransition, type TransitionGuard } from '../policy/state-machine'
import { compareRecords } from '../identity/record-order'
import { districtCode } from '../schema/common'
import { processKey, processPhaseOrder, type ProcessPhase, type ProcessPhaseEntry } from '../schema/process'
import { isBoundTo } from './bound-key'
import { screenEntries, type ScreenedEntries } from './screen-entries'
import { processShard } from './civic-collections'

/** Record types of process acts. */
export const ProcessAct = {
  /** Creation by district staff. Payload `{ process, nonce, key, district }`. */
  create: 'process.create',
  /** A phase change by district staff. Payload `{ process, from, to, terms?, note? }`. */
  phase: 'process.phase',
} as const

const recordRef = z.string().min(1).max(200)
const phase = z.enum(['proposing', 'supports', 'evaluation', 'results'])

/** The payload of a `process.create` act. */
export const processCreatePayload = z.strictObject({ process: recordRef, nonce: z.string().min(1).max(64), key: processKey, district: districtCode })
/** The payload of a `process.create` act. */
export type ProcessCreatePayload = z.infer<typeof processCreatePayload>

/** The terms signed when the supports phase opens: what proposals are counted against. */
export const processTerms = z.strictObject({ supportThreshold: z.number().int().min(1).max(1_000_000_000) })
/** The terms signed when the supports phase opens. */
export type ProcessTerms = z.infer<typeof processTerms>

/** The payload of a `process.phase` act; opening the supports phase also signs `terms`. */
export const processPhasePayload = z.strictObject({
  process: recordRef,
  from: phase,
  to: phase,
  note: z.string().max(4_000).optional(),
  terms: processTerms.optional(),
})
/** The payload of a `process.phase` act. */
export type ProcessPhasePayload = z.infer<typeof processPhasePayload>

/** Gives the role check of a district's roster (nobody holds a role in an unknown district). */
export type AuthorizeIn = (district: string) => Authorize

/** An authorized creation of a process record. */
export interface ProcessCreation {
  /** The process record's id. */
  readonly id: string
  /** The process key it pinned. */
  readonly key: string
  /** The district whose staff runs it. */
  readonly district: string
  /** The creator (district staff at the act's clock). */
  readonly creator: string
  /** Hash of the creation act. */
  readonly hash: string
  /** Lamport clock of the creation act. */
  readonly clock: number
}

/** The process that governs a process key, as proposals see it. */
export interface ProcessGovernance {
  /** The governing process record's id. */
  readonly id: string
  /** The process key. */
  readonly key: string
  /** The district whose staff runs it. */
  readonly district: string
  /** The signed current phase. */
  readonly phase: ProcessPhase
  /** The accepted phase acts, oldest first: a support counts when the phase at its clock was `supports`. */
  readonly history: readonly AcceptedTransition<ProcessPhase>[]
  /** The support threshold signed into the opening of the supports phase (`undefined` before it opened). */
  readonly threshold: number | undefined
}

/** The resolved state of one process record. */
export interface ProcessView {
  /** Whether this record governs its process key (its creation is the first authorized one). */
  readonly governing: boolean
  /** The creator, key and district its authorized creation pinned (`undefined` without one). */
  readonly creation: ProcessCreation | undefined
  /** The signed current phase (`proposing` until staff moves it). */
  readonly phase: ProcessPhase
  /** The support threshold signed when the supports phase opened. */
  readonly threshold: number | undefined
  /** The planned phases with their dates, as the record holds them: shown to people, deciding nothing. */
  readonly planned: readonly ProcessPhaseEntry[]
  /** The accepted phase acts, oldest first. */
  readonly history: readonly AcceptedTransition<ProcessPhase>[]
  /** Phase acts that lost a race, and this record's creation when another governs the key. */
  readonly conflicts: readonly Conflict[]
  /** Acts that do not count, with their codes: the creation first, then phase acts. */
  readonly rejected: readonly Rejected[]
}

const isAct = new Set<string>(Object.values(ProcessAct))

/** Whether a raw act-log value is a process act (of any process record; checked again after verification). */
export function isProcessAct(value: unknown): boolean {
  const v = value as { type?: unknown } | null
  return typeof v?.type === 'string' && isAct.has(v.type)
}

/** Whether an entry, verified or failed, names process record `id` in its payload. */
function namesRecord(entry: PolicyEntry, id: string): boolean {
  const payload = isFailedRecord(entry) ? entry.record.payload : entry.payload
  return (payload as { process?: unknown } | null | undefined)?.process === id
}

/** The districts named by the well-formed creation acts among `entries`: the rosters a caller must fetch. */
export function creationDistricts(entries: readonly PolicyEntry[]): string[] {
  const districts = new Set<string>()
  for (const entry of entries) {
    if (isFailedRecord(entry) || entry.type !== ProcessAct.create) continue
    const payload = processCreatePayload.safeParse(entry.payload)
    if (payload.success) districts.add(payload.data.district)
  }
  return [...districts].sort()
}

/** Why a creation act creates nothing, or `undefined` when it is an authorized creation. */
function creationProblem(record: PolicyRecord, authorizeIn: AuthorizeIn): Refusal | undefined {
  const parsed = processCreatePayload.safeParse(record.payload)
  if (!parsed.success) return refuse(record, 'E_INVALID', 'expected a payload { process, nonce, key, district }', 'payload')
  const { process, nonce, key, district } = parsed.data
  if (!process.startsWith(`${processShard(key)}/`)) return refuse(record, 'E_INVALID', `${process} is not in the shard of process ${key}`, 'shard')
  if (!isBoundTo(process, record.author, nonce)) return refuse(record, 'E_INVALID', `the nonce does not bind ${process} to its signer`, 'bound-key')
  if (!authorizeIn(district)(record.author, 'staff', record.clock)) {
    return refuse(record, 'E_FORBIDDEN', `${record.author} lacks role 'staff' in ${district} at clock ${record.clock}`)
  }
  return undefined
}

function creationOf(record: PolicyRecord): ProcessCreation {
  const { process, key, district } = record.payload as ProcessCreatePayload
  return { id: process, key, district, creator: record.author, hash: record.hash, clock: record.clock }
}

/** The authorized creation that governs process `key`: the first in the total order, if any. */
export function governingCreation(key: string, entries: readonly PolicyEntry[], authorizeIn: AuthorizeIn): ProcessCreation | undefined {
  let best: PolicyRecord | undefined
  for (const entry of entries) {
    if (isFailedRecord(entry) || entry.type !== ProcessAct.create) continue
    if ((entry.payload as { key?: unknown } | null)?.key !== key || creationProblem(entry, authorizeIn)) continue
    if (!best || compareRecords(entry, best) < 0) best = entry
  }
  return best && creationOf(best)
}

const payloadGuard: TransitionGuard<ProcessPhase> = (record) =>
  processPhasePayload.safeParse(record.payload).success ? { ok: true } : { ok: false, rule: 'payload', reason: 'malformed phase payload' }

const termsGuard: TransitionGuard<ProcessPhase> = (record, state, history) => {
  const checked = payloadGuard(record, state, history)
  if (!checked.ok) return checked
  return (record.payload as ProcessPhasePayload).terms === undefined
    ? { ok: false, rule: 'terms', reason: 'opening the supports phase signs its terms (the support threshold)' }
    : { ok: true }
}

/** The phases of process record `id`: its accepted `process.phase` acts, authorized by staff of the creation's district. */
function resolvePhases(id: string, creation: ProcessCreation | undefined, entries: readonly PolicyEntry[], authorizeIn: AuthorizeIn) {
  const authorize: Authorize = creation ? authorizeIn(creation.district) : () => false
  // A phase act must come after the creation it moves (it could not have seen the record before).
  const after = (guard: TransitionGuard<ProcessPhase>): TransitionGuard<ProcessPhase> => (record, state, history) =>
    creation && record.clock <= creation.clock
      ? { ok: false, rule: 'before-creation', reason: `clock ${record.clock} is not after the creation at clock ${creation.clock}` }
      : guard(record, state, history)
  const machine = stateMachine<ProcessPhase>({
    states: processPhaseOrder,
    initial: 'proposing',
    authorize,
    transitions: [
      { from: 'proposing', to: 'supports', role: 'staff', guard: after(termsGuard) },
      { from: 'supports', to: 'evaluation', role: 'staff', guard: after(payloadGuard) },
      { from: 'evaluation', to: 'results', role: 'staff', guard: after(payloadGuard) },
    ],
  })
  const mine = entries.filter((e) => namesRecord(e, id) && (isFailedRecord(e) || e.type === ProcessAct.phase))
  const resolution = machine.resolve(mine)
  const opening = resolution.view.history.find((t) => t.to === 'supports')
  const threshold = (opening?.payload as ProcessPhasePayload | undefined)?.terms?.supportThreshold
  return { ...resolution, threshold }
}

/**
 * The process that governs process `key`, from the verified acts of its shard (`process.<key>`),
 * or `undefined` when no authorized creation exists (proposals then keep the Space's rules). Pure.
 * Failed entries are ignored here: {@link resolveProcess} reports them.
 */
export function processGovernance(key: string, entries: readonly PolicyEntry[], authorizeIn: AuthorizeIn): ProcessGovernance | undefined {
  const verified = entries.filter((e) => !isFailedRecord(e))
  const creation = governingCreation(key, verified, authorizeIn)
  if (!creation) return undefined
  const phases = resolvePhases(creation.id, creation, verified, authorizeIn)
  return { id: creation.id, key, district: creation.district, phase: phases.view.state, history: phases.view.history, threshold: phases.threshold }
}

/**
 * Resolves one process record from the verified acts of its shard and its planned phases. Pure:
 * the same acts give the same view everywhere.
 * @param record - the record's id and its plain planned phases
 * @param entries - the process acts of the shard, verified (failed ones included, to be reported)
 */
export function resolveProcess(
  record: { readonly id: string; readonly phases?: readonly ProcessPhaseEntry[] | undefined },
  entries: readonly PolicyEntry[],
  authorizeIn: AuthorizeIn,
): ProcessView {
  const creations = entries.filter((e): e is PolicyRecord => !isFailedRecord(e) && e.type === ProcessAct.create && namesRecord(e, record.id))
  const own = creations.sort(compareRecords).find((e) => creationProblem(e, authorizeIn) === undefined)
  const creation = own && creationOf(own)
  const creationRefusals = own ? [] : creations.map((e) => creationProblem(e, authorizeIn)?.rejected).filter((r): r is Rejected => r !== undefined)
  const governor = creation && governingCreation(creation.key, entries, authorizeIn)
  const governing = governor !== undefined && governor.id === record.id
  const lost: Conflict[] =
    creation && governor && !governing
      ? [{ kind: 'lost', path: [], hashes: [creation.hash], winner: governor.hash, reason: `process ${creation.key} is governed by ${governor.id}, created first` }]
      : []
  const phases = resolvePhases(record.id, creation, entries, authorizeIn)
  return {
    governing,
    creation,
    phase: phases.view.state,
    threshold: phases.threshold,
    planned: record.phases ?? [],
    history: phases.view.history,
    conflicts: [...lost, ...phases.conflicts],
    rejected: [...creationRefusals, ...phases.rejected],
  }
}

/** The phase after the accepted phase acts with a clock LOWER than `clock` (what an act at `clock` had seen). */
export function phaseBefore(history: readonly AcceptedTransition<ProcessPhase>[], clock: number): ProcessPhase {
  let current: ProcessPhase = 'proposing'
  for (const t of history) {
    if (t.clock >= clock) break
    current = t.to
  }
  return current
}

/**
 * Splits a proposal's support acts (supports and withdrawals of support) by the phase of its
 * governing process at each act's clock: only acts made while the phase was `supports` pass.
 * An act with the same clock as the opening could not have seen it (`E_INVALID`); one with the
 * same clock as the close is concurrent with it and passes, as a ballot concurrent with a vote's
 * close counts. Before the opening: `E_INVALID`; after the close: `E_LATE`; both with rule
 * `process-phase`. Without a governing process every act passes. Failed entries always pass, so
 * the supports policy reports them.
 */
export function screenSupportWindow(entries: readonly PolicyEntry[], process: ProcessGovernance | undefined): ScreenedEntries {
  if (!process) return { passed: [...entries], refused: [] }
  return screenEntries(entries, (record) => {
    const phase = phaseBefore(process.history, record.clock)
    if (phase === 'supports') return undefined
    const reason = `process ${process.key} was in its ${phase} phase at clock ${record.clock}`
    return refuse(record, phase === 'proposing' ? 'E_INVALID' : 'E_LATE', reason, 'process-phase')
  })
}
