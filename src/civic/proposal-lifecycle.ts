/**
 * The lifecycle of a citizen proposal as signed acts, its published revision, and its supports.
 *
 * ```ts
 * const view = resolveProposal({ id, title, body }, entries, roster.authorize, { supportThreshold: 300 })
 * view.status              // from the verified transitions
 * view.bodyMatchesOfficial // false once the body was edited after publication
 * view.qualified           // 300 distinct supporters or more
 * ```
 *
 * | transition | who |
 * | --- | --- |
 * | draft → published | the author, signing the published revision: the title and the SHA-256 of the body |
 * | draft, published, under_review → withdrawn | the author |
 * | published → under_review | a `moderator` of the proposal's district |
 * | under_review → accepted, rejected | a `moderator` of the proposal's district |
 * | an amendment accepted or rejected (`proposal.amendment`) | the author (see `proposal-amendments.ts`) |
 *
 * The author is whoever signed the proposal's `proposal.create` act with a nonce that binds the
 * proposal's key to their did (see `boundKey`); the unsigned `authors` set is shown to people
 * but never authorizes anything. The creation act also pins the proposal's district and process,
 * so editing those plain fields later moves neither the moderation nor the support threshold.
 *
 * The live body stays collaborative text; publishing signs a snapshot of it (its hash), so the
 * official text is tamper-evident: anyone holding the published text can check it against the
 * signed hash, and the view says whether the current body still matches it.
 *
 * When an authorized process record governs the proposal's process (see `processGovernance`),
 * its signed phases decide supports: a support or a withdrawal of support counts only when the
 * process was in the `supports` phase at its clock (before: `E_INVALID`, after: `E_LATE`, rule
 * `process-phase`), so the count at the close of the phase is final, and the threshold is the one
 * staff signed when opening the phase. Without a governing process, the Space's options apply.
 * @module
 */
import { encodeUtf8 } from 'lib0/string'
import { z } from 'zod'
import { sha256Hex } from '../encoding/canonical'
import { compareRecords } from '../identity/record-order'
import type { Conflict, Rejected } from '../policy/merge-policy'
import { isFailedRecord, type Authorize, type PolicyEntry, type PolicyRecord } from '../policy/policy-record'
import { stateMachine, type AcceptedTransition, type TransitionGuard } from '../policy/state-machine'
import type { Supporter } from '../policy/unique-supporters'
import { districtCode } from '../schema/common'
import type { ProcessPhase } from '../schema/process'
import { ProposalStatus } from '../schema/proposal'
import { actType } from './act-log'
import { boundCreation, isBoundTo } from './bound-key'
import { resolveAmendments, AmendmentAct, type AmendmentView, type SignedAmendment } from './proposal-amendments'
import { isSupportType, resolveSupports, SupportAct } from './proposal-supports'
import { screenSupportWindow, type ProcessGovernance } from './process-phases'

/** Record types of proposal acts. */
export const ProposalAct = {
  /** Creation: binds the proposal to its author. Payload `{ proposal, nonce, district, process, amends? }`. */
  create: 'proposal.create',
  /** A lifecycle transition. Payload `{ proposal, from, to, note?, title?, bodyHash? }`. */
  transition: 'proposal.transition',
  /** The author's decision on an amendment. Payload `{ proposal, amendment, decision, note? }`. */
  amendment: AmendmentAct.decide,
  ...SupportAct,
} as const

const recordRef = z.string().min(1).max(200)
const status = z.enum(['draft', 'published', 'under_review', 'accepted', 'rejected', 'withdrawn'])

/** The payload of a `proposal.create` act. */
export const proposalCreatePayload = z.strictObject({
  proposal: recordRef,
  nonce: z.string().min(1).max(64),
  district: districtCode,
  process: z.string().min(1).max(64),
  /** The parent, when the proposal is an amendment. */
  amends: recordRef.optional(),
})
/** The payload of a `proposal.create` act. */
export type ProposalCreatePayload = z.infer<typeof proposalCreatePayload>

/** The payload of a `proposal.transition` act; a publication also carries `title` and `bodyHash`. */
export const proposalTransitionPayload = z.strictObject({
  proposal: recordRef,
  from: status,
  to: status,
  note: z.string().max(4_000).optional(),
  /** The title at publication. */
  title: z.string().min(1).max(300).optional(),
  /** Lowercase hex SHA-256 of the UTF-8 body at publication ({@link proposalBodyHash}). */
  bodyHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
})
/** The payload of a `proposal.transition` act. */
export type ProposalTransitionPayload = z.infer<typeof proposalTransitionPayload>

/**
 * The hash a publication signs: lowercase hex SHA-256 of the body's UTF-8 bytes, exactly as
 * typed (no Unicode normalization, no trimming), so any change to the text changes it.
 */
export function proposalBodyHash(body: string): string {
  return sha256Hex(encodeUtf8(body))
}

/** Options of the proposal lifecycle (every replica must use the same). */
export interface ProposalLifecycleOptions {
  /**
   * Supporters a proposal needs to qualify, an integer >= 1, or a function of its participatory
   * process. Without one, proposals collect supports but never qualify. Not used for proposals
   * whose process is governed by a process record: its signed threshold applies instead.
   */
  readonly supportThreshold?: number | ((process: string) => number)
  /** A role supporters need in the proposal's district (e.g. `resident`); anyone may support when absent. */
  readonly supportRole?: string
}

/** Who created a proposal, and the district and process its creation act pinned. */
export interface ProposalOrigin {
  /** The author: the creation act's signer. */
  readonly author: string
  /** The district whose moderators evaluate it. */
  readonly district: string
  /** The participatory process whose threshold applies. */
  readonly process: string
  /** The parent it amends, when it is an amendment. */
  readonly amends: string | undefined
}

/** The signed published revision of a proposal. */
export interface OfficialRevision {
  /** Hash of the publishing act. */
  readonly hash: string
  /** Who published (the author). */
  readonly author: string
  /** Lamport clock of the publication. */
  readonly clock: number
  /** The title at publication. */
  readonly title: string
  /** SHA-256 of the body at publication. */
  readonly bodyHash: string
}

/** The resolved state of a proposal. */
export interface ProposalView {
  /** The authoritative status: the result of the accepted signed transitions. */
  readonly status: ProposalStatus
  /** The author (a did), when a valid creation act exists. */
  readonly author: string | undefined
  /** The published revision, once published. */
  readonly officialRevision: OfficialRevision | undefined
  /** Whether the current body hashes to the official revision's (`undefined` before publication). */
  readonly bodyMatchesOfficial: boolean | undefined
  /** Whether the current title is the official revision's (`undefined` before publication). */
  readonly titleMatchesOfficial: boolean | undefined
  /** Current supporters, sorted by key. */
  readonly supporters: readonly Supporter[]
  /** The support threshold that applies, if any. */
  readonly threshold: number | undefined
  /** Whether the current supporters reach the threshold. */
  readonly qualified: boolean
  /** The support at which the count first reached the threshold (`null` if never). */
  readonly qualifiedAt: { readonly hash: string; readonly clock: number } | null
  /** The signed phase of the process governing the proposal's process key (`undefined` when none governs). */
  readonly processPhase: ProcessPhase | undefined
  /** The parent this proposal amends, as its creation act signed it. */
  readonly amends: string | undefined
  /** The signed amendments of this proposal with the author's decisions, sorted by id. */
  readonly amendments: readonly AmendmentView[]
  /** The accepted transitions, oldest first. */
  readonly history: readonly AcceptedTransition<ProposalStatus>[]
  /** Transitions that lost a race, supports replaced by the same key's later support, second decisions on an amendment. */
  readonly conflicts: readonly Conflict[]
  /** Acts that do not count, with their codes: lifecycle acts first, then supports, then amendment decisions. */
  readonly rejected: readonly Rejected[]
}

/** What the resolver reads from the proposal record: its id and current (unsigned) fields. */
export interface ProposalFields {
  readonly id: string
  readonly title?: string | undefined
  readonly body?: string | undefined
  /** Used only when no creation act pins the process. */
  readonly process?: string | undefined
}

const isAct = new Set<string>(Object.values(ProposalAct))

/**
 * Whether a raw act-log value is an act about the proposal `id`, or the creation of one of its
 * amendments (checked again after verification).
 */
export function isProposalAct(id: string): (value: unknown) => boolean {
  return (value) => {
    const v = value as { type?: unknown; payload?: { proposal?: unknown; amends?: unknown } } | null
    if (typeof v?.type !== 'string' || !isAct.has(v.type)) return false
    return v.payload?.proposal === id || (v.type === ProposalAct.create && v.payload?.amends === id)
  }
}

/** The author, district and process of proposal `id`, from its bound creation act. */
export function proposalOrigin(id: string, entries: readonly PolicyEntry[]): ProposalOrigin | undefined {
  const creation = boundCreation(id, entries, ProposalAct.create, (p) => proposalCreatePayload.safeParse(p).data, (p) => p.proposal)
  return creation && { author: creation.author, district: creation.payload.district, process: creation.payload.process, amends: creation.payload.amends }
}

/**
 * The signed amendments of proposal `id`: for each proposal whose bound creation act names `id`
 * as its parent (in the parent's process, when the parent's is known), its first such act.
 */
export function signedAmendments(id: string, entries: readonly PolicyEntry[], process: string | undefined): SignedAmendment[] {
  const first = new Map<string, PolicyRecord>()
  for (const entry of entries) {
    if (isFailedRecord(entry) || entry.type !== ProposalAct.create) continue
    const payload = proposalCreatePayload.safeParse(entry.payload).data
    if (!payload || payload.amends !== id || (process !== undefined && payload.process !== process)) continue
    if (!isBoundTo(payload.proposal, entry.author, payload.nonce)) continue
    const best = first.get(payload.proposal)
    if (!best || compareRecords(entry, best) < 0) first.set(payload.proposal, entry)
  }
  return [...first.entries()].map(([amendment, r]) => ({ id: amendment, author: r.author, hash: r.hash, clock: r.clock }))
}

const payloadGuard: TransitionGuard<ProposalStatus> = (record) =>
  proposalTransitionPayload.safeParse(record.payload).success ? { ok: true } : { ok: false, rule: 'payload', reason: 'malformed transition payload' }

const revisionGuard: TransitionGuard<ProposalStatus> = (record, state, history) => {
  const checked = payloadGuard(record, state, history)
  if (!checked.ok) return checked
  const { title, bodyHash } = record.payload as ProposalTransitionPayload
  return title !== undefined && bodyHash !== undefined
    ? { ok: true }
    : { ok: false, rule: 'revision', reason: 'a publication signs the title and the body hash' }
}

function thresholdFor(options: ProposalLifecycleOptions, process: string | undefined): number | undefined {
  const { supportThreshold } = options
  if (typeof supportThreshold === 'function') return process === undefined ? undefined : supportThreshold(process)
  return supportThreshold
}

/**
 * Resolves a proposal from its verified acts and its current fields. Pure: the same acts and
 * fields give the same view everywhere.
 * @param entries - the proposal's acts, verified (failed ones included, to be reported)
 * @param authorize - the role check of the proposal's district roster
 * @param process - the process governing the proposal's process key, if any ({@link processGovernance})
 * @throws CabildoError `E_ARGUMENT` when the configured threshold is not an integer >= 1
 */
export function resolveProposal(
  proposal: ProposalFields,
  entries: readonly PolicyEntry[],
  authorize: Authorize,
  options: ProposalLifecycleOptions = {},
  process?: ProcessGovernance,
): ProposalView {
  const origin = proposalOrigin(proposal.id, entries)
  const author = origin?.author
  const withAuthor: Authorize = (who, role, clock) => (role === 'author' ? who === author : authorize(who, role, clock))
  const machine = stateMachine<ProposalStatus>({
    states: Object.values(ProposalStatus),
    initial: 'draft',
    authorize: withAuthor,
    transitions: [
      { from: 'draft', to: 'published', role: 'author', guard: revisionGuard },
      { from: ['draft', 'published', 'under_review'], to: 'withdrawn', role: 'author', guard: payloadGuard },
      { from: 'published', to: 'under_review', role: 'moderator', guard: payloadGuard },
      { from: 'under_review', to: 'accepted', role: 'moderator', guard: payloadGuard },
      { from: 'under_review', to: 'rejected', role: 'moderator', guard: payloadGuard },
    ],
  })
  const lifecycle = machine.resolve(entries.filter((e) => !isSupportType(actType(e)) && (isFailedRecord(e) || e.type === ProposalAct.transition)))
  const history = lifecycle.view.history
  const threshold = process ? process.threshold : thresholdFor(options, origin?.process ?? proposal.process)
  const access = options.supportRole === undefined ? undefined : { authorize, role: options.supportRole }
  const window = screenSupportWindow(entries.filter((e) => isSupportType(actType(e))), process)
  const supports = resolveSupports(window.passed, history, access === undefined ? { threshold } : { threshold, access })
  const decisions = entries.filter((e): e is PolicyRecord => !isFailedRecord(e) && e.type === ProposalAct.amendment)
  const amendments = resolveAmendments(author, signedAmendments(proposal.id, entries, origin?.process), decisions)
  const published = [...history].reverse().find((t) => t.to === 'published')
  const revision = published?.payload as ProposalTransitionPayload | undefined
  const officialRevision: OfficialRevision | undefined =
    published && revision?.title !== undefined && revision.bodyHash !== undefined
      ? { hash: published.hash, author: published.author, clock: published.clock, title: revision.title, bodyHash: revision.bodyHash }
      : undefined
  return {
    status: lifecycle.view.state,
    author,
    officialRevision,
    bodyMatchesOfficial: officialRevision && officialRevision.bodyHash === proposalBodyHash(proposal.body ?? ''),
    titleMatchesOfficial: officialRevision && officialRevision.title === proposal.title,
    ...supports.view,
    processPhase: process?.phase,
    amends: origin?.amends,
    amendments: amendments.amendments,
    history,
    conflicts: [...lifecycle.conflicts, ...supports.conflicts, ...amendments.conflicts],
    rejected: [...lifecycle.rejected, ...window.refused, ...supports.rejected, ...amendments.rejected],
  }
}
