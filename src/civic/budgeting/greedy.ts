/**
 * Greedy utilitarian outcome: fund projects from the most supported down, skipping any that no
 * longer fits in the money left, and keep going down the list.
 *
 * "Most supported" is the number of approvals for approval, knapsack and ordinal ballots, and
 * the total number of points for cumulative and scoring ballots (Katowice's official outcome
 * ranks cumulative ballots by points, not by voters). Ties go to the tie-break (default: the
 * smallest project id as a string). As in pabutools' `greedy_utilitarian_welfare` with cost
 * satisfaction, projects nobody supports (score 0 or below) come last and are still funded when
 * money is left, unless `unsupported: 'skip'`.
 *
 * ```ts
 * import { greedyOutcome } from './greedy'
 * const outcome = greedyOutcome({
 *   total: '10',
 *   projects: [{ id: 'a', cost: '6' }, { id: 'b', cost: '5' }, { id: 'c', cost: '4' }],
 *   ballots: [{ kind: 'approval', approved: ['a', 'b'] }, { kind: 'approval', approved: ['a'] }],
 * })
 * outcome.selected // ['a', 'c']: b (1 vote) does not fit after a; c (0 votes) does
 * ```
 * @module
 */
import { tallyElection, type BudgetElection, type TalliedElection } from './election'
import { buildOutcome, costOf, type Outcome, type Selection } from './outcome'
import { compare, sub, type Rational } from './rational'
import { compareProjectIds, tieBreakRanks, type TieBreak } from './tie-break'

/** Options of {@link greedyOutcome}. */
export interface GreedyOptions {
  /** Breaks ties between equally supported projects; default {@link compareProjectIds}. */
  readonly tieBreak?: TieBreak
  /**
   * What to do with projects nobody supports when money is left: `fund` them (default, as the
   * reference implementation does) or `skip` them.
   */
  readonly unsupported?: 'fund' | 'skip'
}

/**
 * Continues a selection greedily over the money it leaves: projects not yet selected, by
 * descending score (negative scores count as 0), ties by tie-break rank; each one that fits is
 * funded. Internal building block of {@link greedyOutcome} and of the MES completions.
 */
export function greedyFill(prepared: TalliedElection, already: readonly Selection[], options: GreedyOptions = {}): Selection[] {
  const ranks = tieBreakRanks(prepared.ids, options.tieBreak ?? compareProjectIds)
  const taken = new Set(already.map((s) => s.project))
  const key = (p: number): number => Math.max(0, prepared.score[p] as number)
  const order = prepared.ids
    .map((_, p) => p)
    .filter((p) => !taken.has(p))
    .sort((a, b) => key(b) - key(a) || (ranks[a] as number) - (ranks[b] as number))
  const selections = [...already]
  let left: Rational = sub(prepared.budget, costOf(prepared, already))
  for (const p of order) {
    if (options.unsupported === 'skip' && key(p) === 0) continue
    const cost = prepared.costs[p] as Rational
    if (compare(cost, left) <= 0) {
      selections.push({ project: p, by: 'greedy' })
      left = sub(left, cost)
    }
  }
  return selections
}

/**
 * The greedy utilitarian outcome of an election. Pure and deterministic; exact arithmetic.
 * Guarantees: the spent total never exceeds the budget, and no unselected project (supported
 * one, with `unsupported: 'skip'`) fits in the money left. Needs only each project's score, so
 * it counts the ballots once (`tallyElection`) and never builds per-voter supporter lists.
 * @throws CabildoError `E_ARGUMENT` when the election is malformed (see `prepareElection`)
 */
export function greedyOutcome(election: BudgetElection, options: GreedyOptions = {}): Outcome {
  const tally = tallyElection(election)
  return buildOutcome(tally, 'greedy', 'none', greedyFill(tally, [], options))
}

