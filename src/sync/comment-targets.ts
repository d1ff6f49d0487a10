/**
 * The district of a commented record, which decides whose moderators moderate its comments:
 * the district its signed creation act pinned (proposals, budgets, processes), else its plain
 * `district` field (tickets, budget projects, and records created without an identity).
 *
 * ```ts
 * const districtOf = targetDistricts(acts, () => ({ proposals, processes, budgets, projects, tickets }))
 * await districtOf(proposal.id) // 'north'
 * ```
 * @module
 */
import type { Collection } from '../doc/collection'
import { budgetOrigin, isBudgetAct } from '../civic/budget-rules'
import { isProposalAct, proposalOrigin } from '../civic/proposal-lifecycle'
import type { ProcessView } from '../civic/process-phases'
import type { Budget, BudgetProject } from '../schema/budget'
import type { Process } from '../schema/process'
import type { Proposal } from '../schema/proposal'
import type { ServiceTicket } from '../schema/ticket'
import type { SpaceActs } from './space-acts'
import type { TargetDistrict } from './comment-actions'

/** The collections whose records can be commented on. */
export interface CommentTargets {
  readonly proposals: Collection<typeof Proposal, 'createdAt', object>
  readonly processes: Collection<typeof Process, never, { resolve(): Promise<ProcessView> }>
  readonly budgets: Collection<typeof Budget, never, object>
  readonly projects: Collection<typeof BudgetProject>
  readonly tickets: Collection<typeof ServiceTicket, 'requested_datetime', object>
}

/** The plain `district` field of a record, if it reads as a string. */
function plainDistrict(entity: { get(): { readonly value: unknown } }): string | undefined {
  const district = (entity.get().value as { district?: unknown }).district
  return typeof district === 'string' ? district : undefined
}

/** The district of a commented record, looked up in the collections `targets` gives (`undefined` for an unknown record). */
export function targetDistricts(acts: SpaceActs, targets: () => CommentTargets): TargetDistrict {
  return async (id) => {
    const { proposals, processes, budgets, projects, tickets } = targets()
    const proposal = await proposals.get(id)
    if (proposal) return proposalOrigin(id, await acts.read(proposal.shard, isProposalAct(id)))?.district ?? plainDistrict(proposal)
    const budget = await budgets.get(id)
    if (budget) return budgetOrigin(id, await acts.read(budget.shard, isBudgetAct(id)))?.district ?? plainDistrict(budget)
    const process = await processes.get(id)
    if (process) return (await process.resolve()).creation?.district ?? plainDistrict(process)
    const other = (await tickets.get(id)) ?? (await projects.get(id))
    return other && plainDistrict(other)
  }
}
