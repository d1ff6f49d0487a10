/**
 * Supports of a proposal as signed acts: one support per key (`uniqueSupporters`), open while the
 * proposal is published or under review, and a threshold that derives `qualified`.
 *
 * ```ts
 * const supports = resolveSupports(entries, lifecycle.view.history, { threshold: 300 })
 * supports.view.qualified
 * ```
 *
 * A support counts only when the proposal was `published` or `under_review` at the support's
 * clock, i.e. after the transitions with a LOWER clock. A support with the same clock as the
 * publication cannot have seen it and is refused (`E_INVALID`, rule `not-published`); one with
 * the same clock as a withdrawal or an evaluation is concurrent with it and still counts, as a
 * ballot concurrent with a vote's close does (`onePerVoter`). Later supports are `E_LATE`
 * (rule `support-closed`). Withdrawals of support are always accepted by the window: they only
 * take a key's support away.
 * @module
 */
import { z } from 'zod'
import type { Conflict, Rejected } from '../policy/merge-policy'
import type { AccessRule, PolicyEntry, PolicyRecord } from '../policy/policy-record'
import { refuse, type Refusal } from '../policy/record-intake'
import type { AcceptedTransition } from '../policy/state-machine'
import { uniqueSupporters, type Supporter } from '../policy/unique-supporters'
import type { ProposalStatus } from '../schema/proposal'
import { screenEntries } from './screen-entries'

/** Record types of support acts. */
export const SupportAct = {
  /** The signer supports the proposal. Payload `{ proposal }`. */
  support: 'proposal.support',
  /** The signer withdraws its support. Payload `{ proposal }`. */
  unsupport: 'proposal.unsupport',
} as const

/** The payload of a support or a withdrawal of support. */
export const proposalSupportPayload = z.strictObject({ proposal: z.string().min(1).max(200) })

/** Options of {@link resolveSupports}. */
export interface SupportRules {
  /** Supporters needed to qualify (an integer >= 1); `undefined`: the proposal never qualifies. */
  readonly threshold: number | undefined
  /** A role supporters need in the proposal's district at their support's clock; anyone when absent. */
  readonly access?: AccessRule
}

/** The supports of a proposal. */
export interface SupportsView {
  /** Current supporters, sorted by key. */
  readonly supporters: readonly Supporter[]
  /** The threshold, when one is configured. */
  readonly threshold: number | undefined
  /** Whether the current supporters reach the threshold. */
  readonly qualified: boolean
  /** The support at which the count first reached the threshold, in the total order (`null` if never). */
  readonly qualifiedAt: { readonly hash: string; readonly clock: number } | null
}

/** Whether an act-log entry's type is a support act. */
export function isSupportType(type: string | undefined): boolean {
  return type === SupportAct.support || type === SupportAct.unsupport
}

/** The status after the accepted transitions whose clock is lower than `clock`. */
function statusBefore(history: readonly AcceptedTransition<ProposalStatus>[], clock: number): ProposalStatus {
  let status: ProposalStatus = 'draft'
  for (const t of history) {
    if (t.clock >= clock) break
    status = t.to
  }
  return status
}

function screen(record: PolicyRecord, history: readonly AcceptedTransition<ProposalStatus>[]): Refusal | undefined {
  if (!proposalSupportPayload.safeParse(record.payload).success) {
    return refuse(record, 'E_INVALID', 'expected a payload { proposal }', 'payload')
  }
  if (record.type !== SupportAct.support) return undefined
  const status = statusBefore(history, record.clock)
  if (status === 'draft') return refuse(record, 'E_INVALID', `the proposal was not published at clock ${record.clock}`, 'not-published')
  if (status !== 'published' && status !== 'under_review') {
    return refuse(record, 'E_LATE', `supports closed when the proposal was ${status}, before clock ${record.clock}`, 'support-closed')
  }
  return undefined
}

/**
 * Resolves the supports of a proposal. Pure.
 * @param entries - the proposal's support acts (failed ones included, to be reported)
 * @param history - the proposal's accepted lifecycle transitions, in the fold order
 * @throws CabildoError `E_ARGUMENT` when the threshold is not an integer >= 1
 */
export function resolveSupports(
  entries: readonly PolicyEntry[],
  history: readonly AcceptedTransition<ProposalStatus>[],
  rules: SupportRules,
): { view: SupportsView; conflicts: readonly Conflict[]; rejected: readonly Rejected[] } {
  const { passed, refused } = screenEntries(entries, (record) => screen(record, history))
  const policy = uniqueSupporters({
    threshold: rules.threshold ?? Number.MAX_SAFE_INTEGER,
    supportType: SupportAct.support,
    withdrawType: SupportAct.unsupport,
    ...(rules.access === undefined ? {} : { access: rules.access }),
  })
  const { view, conflicts, rejected } = policy.resolve(passed)
  return {
    view: {
      supporters: view.supporters,
      threshold: rules.threshold,
      qualified: rules.threshold !== undefined && view.qualified,
      qualifiedAt: rules.threshold === undefined ? null : view.qualifiedAt,
    },
    conflicts,
    rejected: [...refused, ...rejected],
  }
}
