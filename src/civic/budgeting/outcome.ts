/**
 * What an outcome rule returns: the funded projects, the exact money spent, and a per-project
 * report from which a district can explain the result.
 * @module
 */
import type { TalliedElection } from './election'
import { add, formatRational, ZERO, type Rational } from './rational'

/**
 * The outcome rules:
 * - `greedy`: greedy utilitarian, by approvals (approval-like ballots) or total points
 *   (cumulative and scoring ballots);
 * - `mes`: Method of Equal Shares with cost utilities (a supporter's utility for a project is its cost);
 * - `mes-cardinal`: MES with cardinality utilities (1 per supported project);
 * - `mes-points`: MES with point utilities (a supporter's utility is the points they gave; point ballots only).
 */
export type OutcomeRule = 'greedy' | 'mes' | 'mes-cardinal' | 'mes-points'

/** A voter's utility for a project they support under MES: its cost, 1, or the points they gave it. */
export type MesUtility = 'cost' | 'cardinal' | 'points'

/** Every {@link OutcomeRule}, for argument parsing. */
export const OUTCOME_RULES: readonly OutcomeRule[] = ['greedy', 'mes', 'mes-cardinal', 'mes-points']

/**
 * How an MES outcome is completed (MES alone usually leaves money unspent):
 * - `none`: MES as is;
 * - `greedy`: then greedy over the money left;
 * - `add1`: raise every voter's budget by 1 currency unit per round and re-run MES; stop at the
 *   first outcome that is exhaustive (no supported unselected project fits in what is left),
 *   or keep the previous outcome when the next one exceeds the budget (pabutools'
 *   `voter_budget_increment=1`);
 * - `add1-until-infeasible`: raise by 1 per round, ignoring exhaustiveness, until the outcome
 *   would exceed the budget; keep the last outcome within budget (how Wieliczka 2023 computed its
 *   official result);
 * - `add1-greedy`, `add1-until-infeasible-greedy`: the same, then greedy over the money left.
 */
export type Completion = 'none' | 'greedy' | 'add1' | 'add1-greedy' | 'add1-until-infeasible' | 'add1-until-infeasible-greedy'

/** Every {@link Completion}, for argument parsing. */
export const COMPLETIONS: readonly Completion[] = [
  'none',
  'greedy',
  'add1',
  'add1-greedy',
  'add1-until-infeasible',
  'add1-until-infeasible-greedy',
]

/**
 * What a group of supporters paid for a project funded by MES. A project's groups add up to its
 * cost: those who paid a full share (one group per share: with point utilities the share grows
 * with the points given), those who could not and paid all they had left, and those who had
 * nothing left.
 */
export interface PaymentGroup {
  /** How many voters are in the group. */
  readonly voters: number
  /** What each of them paid, exact (`"151"`, `"1000/7"`), when they all paid the same. */
  readonly each?: string
  /** What the group paid together, exact. */
  readonly total: string
  /** `true` when these voters paid everything they had left (less than a full share). */
  readonly allTheyHad: boolean
}

/** How one project fared. */
export interface ProjectResult {
  /** The project id. */
  readonly id: string
  /** Its exact cost. */
  readonly cost: string
  /** Number of voters supporting it (approved, ranked, or gave it positive points). */
  readonly votes: number
  /** Total points it received (point ballots only). */
  readonly points?: number
  /** Whether it is funded. */
  readonly selected: boolean
  /** Which step funded it: MES itself or the greedy completion. */
  readonly selectedBy?: 'mes' | 'greedy'
  /** For projects funded by MES: who paid what, full shares first (largest first). */
  readonly payments?: readonly PaymentGroup[]
}

/** The result of an outcome rule. */
export interface Outcome {
  /** The rule that produced it. */
  readonly rule: OutcomeRule
  /** The completion applied (`none` for greedy). */
  readonly completion: Completion
  /** The budget, exact. */
  readonly budget: string
  /** Funded project ids, in the order the rule funded them. */
  readonly selected: readonly string[]
  /** Total cost of the funded projects, exact (`"995079"`, `"1999003/4"`); never above `budget`. */
  readonly spent: string
  /** For MES: each voter's starting budget in the run that was kept (budget / voters + increments). */
  readonly voterBudget?: string
  /** For `add1` completions: how many 1-unit raises the kept run had. */
  readonly increments?: number
  /** One entry per project, in input order. */
  readonly projects: readonly ProjectResult[]
}

/** A selected project and the step and payments behind it; internal to the rules. */
export interface Selection {
  readonly project: number
  readonly by: 'mes' | 'greedy'
  readonly payments?: readonly PaymentGroup[]
}

/** Total exact cost of a list of selections. */
export function costOf(prepared: TalliedElection, selections: readonly Selection[]): Rational {
  let total = ZERO
  for (const s of selections) total = add(total, prepared.costs[s.project] as Rational)
  return total
}

/** Assembles an {@link Outcome} from the selections a rule made. */
export function buildOutcome(
  prepared: TalliedElection,
  rule: OutcomeRule,
  completion: Completion,
  selections: readonly Selection[],
  extra: { voterBudget?: Rational; increments?: number } = {},
): Outcome {
  const byProject = new Map<number, Selection>()
  for (const s of selections) byProject.set(s.project, s)
  const projects = prepared.ids.map((id, p): ProjectResult => {
    const s = byProject.get(p)
    return {
      id,
      cost: formatRational(prepared.costs[p] as Rational),
      votes: prepared.votes[p] as number,
      ...(prepared.family === 'points' ? { points: prepared.score[p] as number } : {}),
      selected: s !== undefined,
      ...(s ? { selectedBy: s.by } : {}),
      ...(s?.payments ? { payments: s.payments } : {}),
    }
  })
  return {
    rule,
    completion,
    budget: formatRational(prepared.budget),
    selected: selections.map((s) => prepared.ids[s.project] as string),
    spent: formatRational(costOf(prepared, selections)),
    ...(extra.voterBudget ? { voterBudget: formatRational(extra.voterBudget) } : {}),
    ...(extra.increments !== undefined ? { increments: extra.increments } : {}),
    projects,
  }
}
