/**
 * Amendments of a proposal (as in Decidim): a proposal variant linked to its parent, and the
 * parent author's signed decision on it.
 *
 * ```ts
 * const { amendments, rejected } = resolveAmendments(parentAuthor, signedAmendments, decisionRecords)
 * amendments[0].decision // 'pending' | 'accepted' | 'rejected'
 * ```
 *
 * An amendment is a proposal whose signed `proposal.create` act names its parent
 * (`amends: <parent id>`): the plain `amends` field of the record is shown to people but links
 * nothing. The parent's author (the signer of the parent's creation act) decides each amendment
 * once, by a `proposal.amendment` act `{ proposal, amendment, decision, note? }`. The first
 * decision in the total order (clock, author, hash) counts; any other decision on the same
 * amendment is a `lost` conflict. A decision at a clock not above the amendment's creation could
 * not have seen the amendment and is refused (`E_INVALID`, rule `before-amendment`). Accepting
 * an amendment records the decision; it does not rewrite the parent's text.
 * @module
 */
import { z } from 'zod'
import type { Conflict, Rejected } from '../policy/merge-policy'
import type { PolicyRecord } from '../policy/policy-record'
import { refuse, sortRejected, type Refusal } from '../policy/record-intake'
import { compareRecords } from '../identity/record-order'

/** The record type of an amendment decision. Payload `{ proposal, amendment, decision, note? }`. */
export const AmendmentAct = { decide: 'proposal.amendment' } as const

/** What the parent's author decides about an amendment. */
export const AmendmentDecision = { accepted: 'accepted', rejected: 'rejected' } as const
/** A decision about an amendment. */
export type AmendmentDecision = (typeof AmendmentDecision)[keyof typeof AmendmentDecision]

/** The payload of a `proposal.amendment` act. */
export const amendmentDecisionPayload = z.strictObject({
  /** The parent proposal. */
  proposal: z.string().min(1).max(200),
  /** The amendment decided on. */
  amendment: z.string().min(1).max(200),
  decision: z.enum(['accepted', 'rejected']),
  note: z.string().max(4_000).optional(),
})
/** The payload of a `proposal.amendment` act. */
export type AmendmentDecisionPayload = z.infer<typeof amendmentDecisionPayload>

/** A signed amendment: a proposal whose creation act names the parent. */
export interface SignedAmendment {
  /** The amendment's id. */
  readonly id: string
  /** Its author (the signer of its creation act). */
  readonly author: string
  /** Hash of its creation act. */
  readonly hash: string
  /** Lamport clock of its creation act: a decision must come after it. */
  readonly clock: number
}

/** An amendment of a proposal with its decision. */
export interface AmendmentView extends SignedAmendment {
  /** `pending` until the parent's author decides. */
  readonly decision: 'pending' | AmendmentDecision
  /** The decision act that counts, once decided. */
  readonly decided: { readonly hash: string; readonly clock: number; readonly note: string | undefined } | undefined
}

/** Whether an act-log entry's type is an amendment decision. */
export function isAmendmentDecisionType(type: string | undefined): boolean {
  return type === AmendmentAct.decide
}

/**
 * Resolves the amendments of a proposal and the decisions on them. Pure and order-free.
 * @param parentAuthor - the parent's bound author (`undefined`: nobody may decide)
 * @param amendments - the signed amendments of the parent
 * @param decisions - verified `proposal.amendment` records about the parent (failed ones are reported by the caller)
 */
export function resolveAmendments(
  parentAuthor: string | undefined,
  amendments: readonly SignedAmendment[],
  decisions: readonly PolicyRecord[],
): { amendments: readonly AmendmentView[]; conflicts: readonly Conflict[]; rejected: readonly Rejected[] } {
  const known = new Map(amendments.map((a) => [a.id, a]))
  const decided = new Map<string, NonNullable<AmendmentView['decided']> & { readonly decision: AmendmentDecision }>()
  const refusals: Refusal[] = []
  const conflicts: Conflict[] = []
  const unique = [...new Map(decisions.map((d) => [d.hash, d])).values()].sort(compareRecords)
  for (const record of unique) {
    const parsed = amendmentDecisionPayload.safeParse(record.payload)
    if (!parsed.success) {
      refusals.push(refuse(record, 'E_INVALID', 'expected a payload { proposal, amendment, decision }', 'payload'))
      continue
    }
    const { amendment, decision, note } = parsed.data
    const target = known.get(amendment)
    if (!target) {
      refusals.push(refuse(record, 'E_INVALID', `${amendment} is not a signed amendment of this proposal`, 'not-an-amendment'))
    } else if (record.author !== parentAuthor) {
      refusals.push(refuse(record, 'E_FORBIDDEN', `only the proposal's author decides its amendments, not ${record.author}`))
    } else if (record.clock <= target.clock) {
      refusals.push(refuse(record, 'E_INVALID', `clock ${record.clock} is not after the amendment's creation at clock ${target.clock}`, 'before-amendment'))
    } else {
      const won = decided.get(amendment)
      if (won) conflicts.push({ kind: 'lost', path: [amendment], hashes: [record.hash], winner: won.hash, reason: `${amendment} was already ${won.decision}` })
      else decided.set(amendment, { hash: record.hash, clock: record.clock, note, decision })
    }
  }
  const views = [...known.values()]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((a): AmendmentView => {
      const d = decided.get(a.id)
      return { ...a, decision: d?.decision ?? 'pending', decided: d && { hash: d.hash, clock: d.clock, note: d.note } }
    })
  return { amendments: views, conflicts, rejected: sortRejected(refusals) }
}
