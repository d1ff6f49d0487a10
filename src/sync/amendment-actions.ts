/**
 * Amendments on proposal entities: `amend()` creates a variant linked to its parent,
 * `amendments()` lists them, `acceptAmendment()` / `rejectAmendment()` sign the parent author's
 * decision.
 *
 * ```ts
 * const variant = await proposal.amend({ title: 'Shade and benches for the playground' })
 * await proposal.acceptAmendment(variant.id) // the parent's author only
 * const { amendments } = await proposal.resolve() // [{ id, author, decision: 'accepted', ... }]
 * ```
 * @module
 */
import { CabildoError } from '../errors'
import type { Collection, CreateInput } from '../doc/collection'
import type { Entity } from '../doc/entity'
import { AmendmentAct, type AmendmentDecision } from '../civic/proposal-amendments'
import type { ProposalOrigin, ProposalView } from '../civic/proposal-lifecycle'
import type { Proposal } from '../schema/proposal'

/** The input of {@link AmendmentActions.amend}: a proposal's fields, without those it takes from its parent. */
export type AmendmentInput = Omit<CreateInput<typeof Proposal, 'createdAt'>, 'district' | 'process' | 'amends'>

/** Options of an amendment decision. */
export interface AmendmentDecisionOptions {
  /** A note shown with the decision (e.g. why it was rejected). */
  readonly note?: string
}

/** The amendment methods of a proposal entity whose methods are `A`. */
export interface AmendmentActions<A extends object> {
  /**
   * Creates an amendment of this proposal: a proposal in the same district and process (those
   * its creation act pinned) whose signed creation names this one as its parent.
   * @throws CabildoError `E_SCHEMA` when the input is invalid.
   */
  amend(input: AmendmentInput): Promise<Entity<typeof Proposal> & A>
  /** The proposals of this proposal's shard whose plain `amends` field names it; `resolve().amendments` lists the signed ones. */
  amendments(): Promise<Array<Entity<typeof Proposal> & A>>
  /**
   * Accepts an amendment (the author of this proposal). It records the decision; the text is not rewritten.
   * @throws CabildoError `E_FORBIDDEN` for anyone else, `E_INVALID` when it is no signed amendment of this proposal or was already decided.
   */
  acceptAmendment(amendment: string, options?: AmendmentDecisionOptions): Promise<ProposalView>
  /** Rejects an amendment (the author of this proposal). @throws CabildoError `E_FORBIDDEN`, `E_INVALID`. */
  rejectAmendment(amendment: string, options?: AmendmentDecisionOptions): Promise<ProposalView>
}

/** What {@link amendmentActions} needs from the proposal behaviour. */
export interface AmendmentContext<A extends object> {
  /** The proposals collection, where amendments are created. */
  readonly proposals: () => Collection<typeof Proposal, 'createdAt', A>
  /** The signed origin of a proposal (author, district, process), if any. */
  readonly origin: (entity: Entity<typeof Proposal>) => Promise<ProposalOrigin | undefined>
  /** The proposal's authoritative view. */
  readonly resolve: (entity: Entity<typeof Proposal>) => Promise<ProposalView>
  /** Signs an act about the proposal, refuses it before storing when it would not count, stores it. */
  readonly commit: (entity: Entity<typeof Proposal>, type: string, payload: Record<string, unknown>, action: string, refusal: string) => Promise<ProposalView>
}

/** The amendment methods of one proposal entity. */
export function amendmentActions<A extends object>(entity: Entity<typeof Proposal>, context: AmendmentContext<A>): AmendmentActions<A> {
  const decide = async (amendment: string, decision: AmendmentDecision, options: AmendmentDecisionOptions = {}): Promise<ProposalView> => {
    const before = await context.resolve(entity)
    const current = before.amendments.find((a) => a.id === amendment)
    // A second decision would only be a lost conflict: refuse it before signing anything.
    if (current && current.decision !== 'pending') {
      throw new CabildoError('E_INVALID', `Amendment ${amendment} was already ${current.decision}`, { reason: `decided by ${current.decided?.hash ?? ''}`, rule: 'decided' })
    }
    const payload = { proposal: entity.id, amendment, decision, ...(options.note === undefined ? {} : { note: options.note }) }
    const after = await context.commit(entity, AmendmentAct.decide, payload, AmendmentAct.decide, `Cannot decide amendment ${amendment} of ${entity.id}`)
    if (after.amendments.find((a) => a.id === amendment)?.decision !== decision) {
      throw new CabildoError('E_INVALID', `Amendment ${amendment} was not ${decision}`, { reason: 'a concurrent decision won' })
    }
    return after
  }

  return {
    amend: async (input) => {
      const value = entity.get().value
      const origin = await context.origin(entity)
      const district = origin?.district ?? value.district
      const process = origin?.process ?? value.process
      if (district === undefined || process === undefined) {
        throw new CabildoError('E_INVALID', `Proposal ${entity.id} has no valid district and process to amend in`, { reason: 'unreadable parent', rule: 'parent' })
      }
      return context.proposals().create({ ...input, district, process, amends: entity.id })
    },
    amendments: () => context.proposals().list({ shards: [entity.shard], where: (p) => p.amends === entity.id }),
    acceptAmendment: (amendment, o) => decide(amendment, 'accepted', o),
    rejectAmendment: (amendment, o) => decide(amendment, 'rejected', o),
  }
}
