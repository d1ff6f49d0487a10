/**
 * The outcome the page shows: the counted ballots under the signed terms of the vote, through the
 * greedy rule Warsaw used in 2017. Pure: the same view gives the same outcome in every tab.
 *
 * ```ts
 * const outcome = budgetOutcome(view, titles)
 * outcome?.rows.filter((row) => row.funded).map((row) => row.title)
 * ```
 * @module
 */
import { compareProjectIds, greedyOutcome, parseRational, toFixed, type BallotChoice, type BudgetView } from 'cabildo'

/** One project as the chart and the table show it. */
export interface OutcomeRow {
  /** The project's record id. */
  readonly id: string
  /** Its title (the id while the project record has not arrived). */
  readonly title: string
  /** Its cost in the signed terms. */
  readonly cost: number
  /** Counted ballots approving it. */
  readonly votes: number
  /** Whether the rule funds it. */
  readonly funded: boolean
}

/** The outcome of a budget's vote so far. */
export interface BudgetOutcome {
  /** The total in the signed terms. */
  readonly total: number
  /** What the funded projects cost together. */
  readonly spent: number
  /** How many ballots count (one per voter: the latest). */
  readonly ballots: number
  /** Every project in the order the greedy rule considers them: most votes first, ties by its tie-break. */
  readonly rows: readonly OutcomeRow[]
}

const amount = (text: string): number => Number(toFixed(parseRational(text), 2).text)

/**
 * The outcome of `view`'s counted ballots under its signed terms; `undefined` until the vote is
 * open here (its terms have arrived). Projects nobody approved are not funded (`unsupported:
 * 'skip'`): with a handful of ballots, funding them with the money left would hide the votes.
 */
export function budgetOutcome(view: BudgetView | undefined, titles: ReadonlyMap<string, string>): BudgetOutcome | undefined {
  const terms = view?.terms
  if (view === undefined || terms === undefined) return undefined
  const outcome = greedyOutcome(
    {
      total: terms.total,
      projects: Object.entries(terms.projects).map(([id, cost]) => ({ id, cost })),
      // The policy counted only ballots its method accepts: approval ballots on these projects.
      ballots: view.ballots.map((ballot) => (ballot.payload as { readonly choice: BallotChoice }).choice),
    },
    { unsupported: 'skip' },
  )
  const funded = new Set(outcome.selected)
  const rows = outcome.projects
    .map((p) => ({ id: p.id, title: titles.get(p.id) ?? p.id, cost: amount(p.cost), votes: p.votes, funded: funded.has(p.id) }))
    .sort((a, b) => b.votes - a.votes || compareProjectIds(a.id, b.id))
  return { total: amount(terms.total), spent: amount(outcome.spent), ballots: view.ballots.length, rows }
}
