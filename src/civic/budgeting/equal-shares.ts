/**
 * The Method of Equal Shares (Peters & Skowron 2021) and its completions, as outcomes.
 *
 * The budget is split equally among voters; a project is funded when its supporters can pay
 * for it, the one whose supporters pay the least per unit of utility first. MES alone often
 * leaves money unspent, so cities complete it, and the completions differ in practice:
 * `add1` stops at the first exhaustive outcome (pabutools' `voter_budget_increment=1`),
 * `add1-until-infeasible` goes on until the outcome would exceed the budget (Wieliczka 2023's
 * official result). See `Completion` in `./outcome`.
 *
 * ```ts
 * import { equalSharesOutcome } from './equal-shares'
 * const outcome = equalSharesOutcome(election, { utility: 'cost', completion: 'add1-until-infeasible' })
 * outcome.selected // funded ids, in funding order
 * outcome.spent // exact, e.g. '995079'
 * outcome.projects.find((p) => p.id === '24')?.payments // who paid what
 * ```
 * @module
 */
import { CabildoError } from '../../errors'
import { prepareElection, type BudgetElection, type PreparedElection } from './election'
import { greedyFill } from './greedy'
import { createMesEngine, voterBudgetAfter, type MesEngine, type MesRun } from './mes-engine'
import { buildOutcome, type Completion, type MesUtility, type Outcome, type OutcomeRule } from './outcome'
import { compare, div, floor, parseRational, sub, ZERO, type Rational } from './rational'
import { compareProjectIds, tieBreakRanks, type TieBreak } from './tie-break'

/** Options of {@link equalSharesOutcome}. */
export interface EqualSharesOptions {
  /**
   * A voter's utility for a project they support: its `cost` (default; rule `mes`), 1
   * (`cardinal`; rule `mes-cardinal`) or the points they gave it (`points`; rule `mes-points`,
   * cumulative and scoring ballots only).
   */
  readonly utility?: MesUtility
  /** How to complete the outcome; default `none`. */
  readonly completion?: Completion
  /** Breaks ties between equally priced projects; default {@link compareProjectIds}. */
  readonly tieBreak?: TieBreak
  /** The raise per voter and round of the `add1` completions, exact decimal text; default `"1"`. */
  readonly increment?: string
  /** For the greedy completions: fund projects nobody supports when money is left (default) or skip them. */
  readonly unsupported?: 'fund' | 'skip'
}

const RULE_OF: Record<MesUtility, OutcomeRule> = { cost: 'mes', cardinal: 'mes-cardinal', points: 'mes-points' }

/** Whether no candidate left out of `run` fits in the money it leaves (pabutools' `is_exhaustive` over MES's projects). */
function isExhaustive(prepared: PreparedElection, engine: MesEngine, run: MesRun): boolean {
  const taken = new Set(run.selections.map((s) => s.project))
  const left = sub(prepared.budget, run.cost)
  return engine.candidates.every((p) => taken.has(p) || compare(prepared.costs[p] as Rational, left) > 0)
}

/**
 * Picks the number of raises whose MES run an `add1` completion keeps: stopping at the first
 * `exhaustive` outcome, or going on until the outcome is `infeasible`.
 */
function chooseIncrements(
  prepared: PreparedElection,
  engine: MesEngine,
  budgetAt: (k: bigint) => Rational,
  step: Rational,
  stop: 'exhaustive' | 'infeasible',
): bigint {
  const within = (run: MesRun): boolean => compare(run.cost, prepared.budget) <= 0
  if (stop === 'exhaustive') {
    // pabutools' method_of_equal_shares(voter_budget_increment=...): terminates because budgets
    // grow until every supported project is affordable, which is exhaustive or over budget.
    for (let k = 0n; ; k++) {
      const run = engine.run(budgetAt(k))
      if (!within(run)) return k > 0n ? k - 1n : 0n
      if (isExhaustive(prepared, engine, run)) return k
    }
  }
  // pabutools' exhaustion_by_budget_increase(exhaustive_stop=False, budget_step=voters·step):
  // the total budget B + k·voters·step may grow up to B·(voters + 1), i.e. k ≤ B / step.
  const last = floor(div(prepared.budget, step))
  for (let k = 0n; k <= last; k++) {
    const run = engine.run(budgetAt(k))
    if (!within(run)) return k > 0n ? k - 1n : 0n
    // Once every candidate is funded within budget, no later run can exceed it: the loop
    // would end at its bound, whose run is the one kept.
    if (run.selections.length === engine.candidates.length + engine.upfront.length) return last
  }
  return last
}

/**
 * The Method of Equal Shares outcome of an election, with the chosen utility and completion.
 * Pure, deterministic, exact. Guarantees: spent ≤ budget; no voter pays more than their
 * starting budget; the per-project report says what each group of supporters paid.
 * @throws CabildoError `E_ARGUMENT` when the election is malformed (see `prepareElection`),
 *   `utility: 'points'` is used with approval-like ballots, or `increment` is not a positive amount
 */
export function equalSharesOutcome(election: BudgetElection, options: EqualSharesOptions = {}): Outcome {
  const utility = options.utility ?? 'cost'
  const completion = options.completion ?? 'none'
  const prepared = prepareElection(election)
  const ranks = tieBreakRanks(prepared.ids, options.tieBreak ?? compareProjectIds)
  const engine = createMesEngine(prepared, utility, ranks)
  const step = parseRational(options.increment ?? '1')
  if (compare(step, ZERO) <= 0) {
    throw new CabildoError('E_ARGUMENT', 'the add1 increment must be positive', { argument: 'increment', reason: 'not positive' })
  }
  const voters = prepared.voters
  const budgetAt = (k: bigint): Rational => (voters === 0 ? ZERO : voterBudgetAfter(prepared.budget, voters, k, step))
  const increments =
    completion === 'none' || completion === 'greedy'
      ? 0n
      : chooseIncrements(prepared, engine, budgetAt, step, completion === 'add1' || completion === 'add1-greedy' ? 'exhaustive' : 'infeasible')
  const kept = engine.run(budgetAt(increments), { report: true })
  const greedy = completion === 'greedy' || completion.endsWith('-greedy')
  const selections = greedy
    ? greedyFill(prepared, kept.selections, { tieBreak: options.tieBreak, unsupported: options.unsupported })
    : kept.selections
  return buildOutcome(prepared, RULE_OF[utility], completion, selections, {
    voterBudget: budgetAt(increments),
    ...(completion.startsWith('add1') ? { increments: Number(increments) } : {}),
  })
}
