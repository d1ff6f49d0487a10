/**
 * A deliberately naive re-statement of the reference implementation's rules (pabutools:
 * `greedy_utilitarian_welfare`, `naive_mes`/`mes_inner_algo`, `method_of_equal_shares` with
 * `voter_budget_increment`, `exhaustion_by_budget_increase`), one voter at a time in exact
 * rationals, with none of the engine's optimizations. Property tests check that the fast
 * engine agrees with it on random elections.
 */
import type { BallotChoice } from '../../../src/schema/budget'
import type { BudgetElection } from '../../../src/civic/budgeting/election'
import {
  add,
  compare,
  div,
  floor,
  fromInteger,
  min,
  mul,
  parseRational,
  rational,
  sub,
  ZERO,
  type Rational,
} from '../../../src/civic/budgeting/rational'
import { compareProjectIds } from '../../../src/civic/budgeting/tie-break'

type Utility = 'cost' | 'cardinal' | 'points'

function pointsOf(ballot: BallotChoice): Map<string, number> {
  switch (ballot.kind) {
    case 'approval':
    case 'knapsack':
      return new Map(ballot.approved.map((id) => [id, 1]))
    case 'ordinal':
      return new Map(ballot.ranking.map((id) => [id, 1]))
    case 'cumulative':
      return new Map(Object.entries(ballot.points))
    case 'scoring':
      return new Map(Object.entries(ballot.scores))
  }
}

interface Project {
  id: string
  cost: Rational
}

function projectsOf(election: BudgetElection): Project[] {
  return election.projects.map((p) => ({ id: p.id, cost: parseRational(p.cost) }))
}

function costOf(projects: Project[], ids: Iterable<string>): Rational {
  let total = ZERO
  for (const id of ids) total = add(total, projects.find((p) => p.id === id)?.cost ?? ZERO)
  return total
}

/** Greedy by total score (approvals or points, negative totals as 0), ties by id, skipping what does not fit. */
export function referenceGreedy(election: BudgetElection, initial: string[] = []): string[] {
  const projects = projectsOf(election)
  const ballots = election.ballots.map(pointsOf)
  const score = (id: string): number => Math.max(0, ballots.reduce((s, b) => s + (b.get(id) ?? 0), 0))
  const order = projects
    .filter((p) => !initial.includes(p.id))
    .sort((a, b) => score(b.id) - score(a.id) || compareProjectIds(a.id, b.id))
  const selected = [...initial]
  let left = sub(parseRational(election.total), costOf(projects, initial))
  for (const p of order) {
    if (compare(p.cost, left) <= 0) {
      selected.push(p.id)
      left = sub(left, p.cost)
    }
  }
  return selected
}

/** One MES run with every voter starting at `start`. */
export function referenceMesRun(election: BudgetElection, utility: Utility, start: Rational): string[] {
  const projects = projectsOf(election)
  const ballots = election.ballots.map(pointsOf)
  const utilityOf = (v: number, p: Project): Rational => {
    const points = ballots[v]?.get(p.id) ?? 0
    if (points <= 0) return ZERO
    if (utility === 'cost') return p.cost
    if (utility === 'cardinal') return fromInteger(1)
    return fromInteger(points)
  }
  const budgets = ballots.map(() => start)
  const supporters = (p: Project): number[] => ballots.map((_, v) => v).filter((v) => compare(utilityOf(v, p), ZERO) > 0)
  const selected: string[] = []
  let remaining: Project[] = []
  for (const p of projects) {
    if (supporters(p).length === 0) continue
    if (p.cost.num > 0n) remaining.push(p)
    else selected.push(p.id)
  }
  selected.sort(compareProjectIds)
  for (;;) {
    let best: { p: Project; rho: Rational } | undefined
    const kept: Project[] = []
    for (const p of remaining) {
      const group = supporters(p)
      let money = ZERO
      for (const v of group) money = add(money, budgets[v] as Rational)
      if (compare(money, p.cost) < 0) continue
      kept.push(p)
      // Poorest first by budget / utility; the first who can pay rho · u fixes rho.
      group.sort((x, y) => compare(div(budgets[x] as Rational, utilityOf(x, p)), div(budgets[y] as Rational, utilityOf(y, p))))
      let paid = ZERO
      let denominator = ZERO
      for (const v of group) denominator = add(denominator, utilityOf(v, p))
      let rho: Rational | undefined
      for (const v of group) {
        const candidate = div(sub(p.cost, paid), denominator)
        if (compare(mul(candidate, utilityOf(v, p)), budgets[v] as Rational) <= 0) {
          rho = candidate
          break
        }
        paid = add(paid, budgets[v] as Rational)
        denominator = sub(denominator, utilityOf(v, p))
      }
      if (rho === undefined) throw new Error('affordable project without a price')
      const c = best === undefined ? -1 : compare(rho, best.rho)
      if (c < 0 || (c === 0 && best !== undefined && compareProjectIds(p.id, best.p.id) < 0)) best = { p, rho }
    }
    remaining = kept
    if (best === undefined) return selected
    const chosen = best
    selected.push(chosen.p.id)
    remaining = remaining.filter((p) => p !== chosen.p)
    for (const v of supporters(chosen.p)) {
      budgets[v] = sub(budgets[v] as Rational, min(budgets[v] as Rational, mul(chosen.rho, utilityOf(v, chosen.p))))
    }
  }
}

/** MES with a completion, following the reference implementation's loops step by step. */
export function referenceMes(election: BudgetElection, utility: Utility, completion: string): string[] {
  const projects = projectsOf(election)
  const B = parseRational(election.total)
  const n = election.ballots.length
  const start = (k: number): Rational => (n === 0 ? ZERO : add(rational(B.num, B.den * BigInt(n)), fromInteger(k)))
  const feasible = (ids: string[]): boolean => compare(costOf(projects, ids), B) <= 0
  const ballots = election.ballots.map(pointsOf)
  const mesProjects = projects.filter(
    (p) => ballots.some((b) => (b.get(p.id) ?? 0) > 0) && p.cost.num > 0n,
  )
  const exhaustive = (ids: string[]): boolean => {
    const spent = costOf(projects, ids)
    return mesProjects.every((p) => ids.includes(p.id) || compare(add(spent, p.cost), B) > 0)
  }
  let outcome: string[]
  if (completion === 'none' || completion === 'greedy') outcome = referenceMesRun(election, utility, start(0))
  else if (completion.startsWith('add1-until-infeasible')) {
    outcome = []
    const last = Number(floor(B))
    for (let k = 0; k <= last; k++) {
      const run = referenceMesRun(election, utility, start(k))
      if (!feasible(run)) break
      outcome = run
    }
  } else {
    let previous: string[] = referenceMesRun(election, utility, start(0))
    outcome = previous
    for (let k = 0; ; k++) {
      const run = referenceMesRun(election, utility, start(k))
      if (!feasible(run)) {
        outcome = previous
        break
      }
      if (exhaustive(run)) {
        outcome = run
        break
      }
      previous = run
    }
  }
  return completion === 'greedy' || completion.endsWith('-greedy') ? referenceGreedy(election, outcome) : outcome
}
