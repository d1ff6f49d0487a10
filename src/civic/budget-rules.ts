/**
 * The rules of a participatory budget as signed acts: its phases, the signed terms of its vote,
 * what makes a ballot count, and allocations under the budget's total.
 *
 * ```ts
 * const phases = budgetPhasePolicy(roster.authorize).resolve(phaseEntries)
 * const open = votingOpening(phases.view.history) // { record, terms } once staff opened the vote
 * const validate = ballotValidator(open.terms)     // the voting method's check of a ballot payload
 * ```
 *
 * | act | who | payload |
 * | --- | --- | --- |
 * | `budget.create` | anyone; binds the budget's key to its creator and pins its district | `{ budget, nonce, district }` |
 * | `budget.phase` proposing → voting | district `staff` | `{ budget, from, to, terms }`: the signed terms of the vote |
 * | `budget.phase` voting → closed | district `staff` | `{ budget, from, to }`: the close event of the vote |
 * | `budget.ballot` | an eligible voter, while voting | `{ budget, choice }` |
 * | `budget.allocate` | district `staff` | `{ budget, project, amount, note? }` |
 *
 * Why terms: the budget's fields and its projects are plain collaborative records that any
 * writer of the shard can edit. Ballots must not become valid or invalid because someone edited
 * a cost during the vote, so the act that opens the vote signs what ballots are checked against
 * (voting method, total, each project's cost) and who may vote (`roster`: keys granted
 * `voter:<budget id>` by the district root; `anyone`: any key, one ballot each).
 * @module
 */
import { z } from 'zod'
import type { BallotValidation } from '../policy/one-per-voter'
import { isFailedRecord, type Authorize, type PolicyEntry } from '../policy/policy-record'
import { refuse, type Refusal } from '../policy/record-intake'
import { stateMachine, type AcceptedTransition, type StateMachinePolicy, type TransitionGuard } from '../policy/state-machine'
import { ballotChoice, BudgetPhase, votingMethod } from '../schema/budget'
import { districtCode, money } from '../schema/common'
import { boundCreation } from './bound-key'
import { validateBallot } from './budgeting/ballot-rules'

/** Record types of budget acts. */
export const BudgetAct = {
  /** Creation: binds the budget to its creator. Payload `{ budget, nonce, district }`. */
  create: 'budget.create',
  /** A phase change. Payload `{ budget, from, to, terms? }`. */
  phase: 'budget.phase',
  /** A ballot. Payload `{ budget, choice }`. */
  ballot: 'budget.ballot',
  /** An allocation (a line item). Payload `{ budget, project, amount, note? }`. */
  allocate: 'budget.allocate',
} as const

/** Who may vote: keys with the role `voter:<budget id>`, or any key. */
export const Eligibility = { roster: 'roster', anyone: 'anyone' } as const
/** Who may vote; see {@link Eligibility}. */
export type Eligibility = (typeof Eligibility)[keyof typeof Eligibility]

const recordRef = z.string().min(1).max(200)
const phase = z.enum(['proposing', 'voting', 'closed'])

/** The signed terms of a vote: what ballots are checked against, and who may vote. */
export const budgetTerms = z.strictObject({
  votingMethod,
  total: money,
  /** Project id → cost. */
  projects: z.record(z.string().min(1).max(200), money).refine((p) => Object.keys(p).length <= 10_000, 'at most 10 000 projects'),
  eligibility: z.enum(['roster', 'anyone']),
})
/** The signed terms of a vote. */
export type BudgetTerms = z.infer<typeof budgetTerms>

/** The payload of a `budget.create` act. */
export const budgetCreatePayload = z.strictObject({ budget: recordRef, nonce: z.string().min(1).max(64), district: districtCode })

/** The payload of a `budget.phase` act. */
export const budgetPhasePayload = z.strictObject({
  budget: recordRef,
  from: phase,
  to: phase,
  note: z.string().max(4_000).optional(),
  terms: budgetTerms.optional(),
})
/** The payload of a `budget.phase` act. */
export type BudgetPhasePayload = z.infer<typeof budgetPhasePayload>

/** The payload of a `budget.ballot` act. */
export const budgetBallotPayload = z.strictObject({ budget: recordRef, choice: ballotChoice })

/** The payload of a `budget.allocate` act. */
export const budgetAllocatePayload = z.strictObject({ budget: recordRef, project: recordRef, amount: money, note: z.string().max(4_000).optional() })
/** The payload of a `budget.allocate` act. */
export type BudgetAllocatePayload = z.infer<typeof budgetAllocatePayload>

/** Who created a budget and the district its creation act pinned. */
export interface BudgetOrigin {
  /** The creator: the creation act's signer. */
  readonly creator: string
  /** The district whose staff runs the budget and whose root grants voter roles. */
  readonly district: string
}

/** The accepted act that opened the vote, with its terms. */
export interface VotingOpening {
  readonly record: AcceptedTransition<BudgetPhase>
  readonly terms: BudgetTerms
}

const isAct = new Set<string>(Object.values(BudgetAct))

/** Whether a raw act-log value is an act about the budget `id` (checked again after verification). */
export function isBudgetAct(id: string): (value: unknown) => boolean {
  return (value) => {
    const v = value as { type?: unknown; payload?: { budget?: unknown } } | null
    return typeof v?.type === 'string' && isAct.has(v.type) && v.payload?.budget === id
  }
}

/** The creator and district of budget `id`, from its bound creation act. */
export function budgetOrigin(id: string, entries: readonly PolicyEntry[]): BudgetOrigin | undefined {
  const creation = boundCreation(id, entries, BudgetAct.create, (p) => budgetCreatePayload.safeParse(p).data, (p) => p.budget)
  return creation && { creator: creation.author, district: creation.payload.district }
}

const payloadGuard: TransitionGuard<BudgetPhase> = (record) =>
  budgetPhasePayload.safeParse(record.payload).success ? { ok: true } : { ok: false, rule: 'payload', reason: 'malformed phase payload' }

const termsGuard: TransitionGuard<BudgetPhase> = (record, state, history) => {
  const checked = payloadGuard(record, state, history)
  if (!checked.ok) return checked
  return (record.payload as BudgetPhasePayload).terms === undefined ? { ok: false, rule: 'terms', reason: 'opening the vote signs its terms' } : { ok: true }
}

/** The phase machine of a budget: proposing → voting (with terms) → closed, each by district `staff`. */
export function budgetPhasePolicy(authorize: Authorize): StateMachinePolicy<BudgetPhase> {
  return stateMachine<BudgetPhase>({
    states: Object.values(BudgetPhase),
    initial: 'proposing',
    authorize,
    transitions: [
      { from: 'proposing', to: 'voting', role: 'staff', guard: termsGuard },
      { from: 'voting', to: 'closed', role: 'staff', guard: payloadGuard },
    ],
  })
}

/** The accepted opening of the vote, if any. */
export function votingOpening(history: readonly AcceptedTransition<BudgetPhase>[]): VotingOpening | undefined {
  const record = history.find((t) => t.to === 'voting')
  const terms = (record?.payload as BudgetPhasePayload | undefined)?.terms
  return record && terms && { record, terms }
}

/** The accepted close of the vote, if any: ballots with a higher clock are late. */
export function votingClose(history: readonly AcceptedTransition<BudgetPhase>[]): AcceptedTransition<BudgetPhase> | undefined {
  return history.find((t) => t.to === 'closed')
}

/** The role that makes a key eligible in a budget whose terms say `roster`. */
export function voterRole(budgetId: string): string {
  return `voter:${budgetId}`
}

/**
 * The voting method's check of a ballot payload against the signed terms (`validateBallot`).
 * A payload that is not `{ budget, choice }` is refused with rule `payload`.
 */
export function ballotValidator(terms: BudgetTerms): (payload: unknown) => BallotValidation {
  const projects = new Map(Object.entries(terms.projects).map(([id, cost]) => [id, { cost }]))
  return (payload) => {
    const parsed = budgetBallotPayload.safeParse(payload)
    if (!parsed.success) return { ok: false, rule: 'payload', reason: 'expected a payload { budget, choice }' }
    const check = validateBallot(terms.votingMethod, parsed.data.choice, { total: terms.total, projects })
    return check.ok ? check : { ok: false, rule: check.rule, reason: check.reason }
  }
}

/**
 * Refuses a ballot cast before the vote opened: with no opening, or with a clock not above the
 * opening's (a ballot with the same clock could not have seen the opening). `E_INVALID`, rule `phase`.
 */
export function earlyBallot(entry: PolicyEntry, opening: VotingOpening | undefined): Refusal | undefined {
  if (isFailedRecord(entry)) return undefined
  if (opening && entry.clock > opening.record.clock) return undefined
  const reason = opening ? `cast at clock ${entry.clock}, before the vote opened at clock ${opening.record.clock}` : 'the vote is not open'
  return refuse(entry, 'E_INVALID', reason, 'phase')
}
