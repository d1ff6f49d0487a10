/**
 * One run of the Method of Equal Shares (Peters & Skowron, "Proportional Participatory Budgeting
 * with Additive Utilities", NeurIPS 2021; equalshares.net), in exact arithmetic.
 *
 * Every voter starts with the same budget. In each round, for every affordable project the
 * rule finds the smallest `ρ` such that its supporters can pay its cost when each pays
 * `min(remaining budget, ρ · utility)`; it funds the project with the smallest `ρ` (ties to the
 * tie-break) and charges its supporters; it stops when no project is affordable.
 *
 * This module chooses which project is funded next; `./mes-pricing` finds prices and charges
 * voters, exactly. Budgets only decrease, so a project's last `ρ` is a lower bound of its
 * current one: a project is re-priced only when it would otherwise win (lazy evaluation, as in
 * pabutools). The engine is built once per election and re-run by the `add1` completions, which
 * share its supporter lists and scratch buffers.
 *
 * ```ts
 * const engine = createMesEngine(prepared, 'cost', tieBreakRanks(prepared.ids, compareProjectIds))
 * const run = engine.run(voterBudgetAfter(prepared.budget, prepared.voters, 0n, fromInteger(1)), { report: true })
 * run.selections // funded projects, in order, with who paid what
 * ```
 * @module
 */
import { CabildoError } from '../../errors'
import type { PreparedElection } from './election'
import { CLOSE, createMesPricer, type MesPrice } from './mes-pricing'
import type { MesUtility, Selection } from './outcome'
import { add, mulInt, rational, ratioToNumber, ZERO, type Rational } from './rational'

/** The result of one MES run. */
export interface MesRun {
  /** Funded projects in order (zero-cost supported projects first, where the utility funds them). */
  readonly selections: readonly Selection[]
  /** Their total cost. */
  readonly cost: Rational
  /**
   * Each voter's money left at the end of the run, exact (computed on demand; valid until the
   * engine's next run).
   */
  remaining(): Rational[]
}

/** A reusable MES evaluator for one election, utility and tie-break. */
export interface MesEngine {
  /** Projects MES may fund by charging voters (supported, positive utility, positive cost). */
  readonly candidates: readonly number[]
  /** Zero-cost projects some voter values, funded up front (cardinality and point utilities). */
  readonly upfront: readonly number[]
  /**
   * Runs MES with every voter starting at `voterBudget`. With `report: true`, selections carry
   * who paid what.
   */
  run(voterBudget: Rational, options?: { readonly report?: boolean }): MesRun
}

function gcdInt(a: bigint, b: bigint): bigint {
  while (b !== 0n) {
    const r = a % b
    a = b
    b = r
  }
  return a
}

function lcm(a: bigint, b: bigint): bigint {
  return (a / gcdInt(a, b)) * b
}

/** Compares `x` and `y` exactly given close approximations `ax`, `ay` and an exact fallback. */
function screened(ax: number, ay: number, exact: () => number): number {
  if (ax < ay - Math.abs(ay) * CLOSE) return -1
  if (ax > ay + Math.abs(ay) * CLOSE) return 1
  return exact()
}

/**
 * Builds an engine. `ranks[p]` is project `p`'s tie-break position (smaller wins).
 * @throws CabildoError `E_ARGUMENT` when point utilities are asked of approval-like ballots, or
 *   points are too large to count exactly
 */
export function createMesEngine(prepared: PreparedElection, utility: MesUtility, ranks: Int32Array): MesEngine {
  if (utility === 'points' && prepared.family !== 'points' && prepared.voters > 0) {
    throw new CabildoError('E_ARGUMENT', 'point utilities need cumulative or scoring ballots', {
      argument: 'utility',
      reason: 'the ballots carry no points',
    })
  }
  const weighted = utility === 'points'
  const projects = prepared.ids.length
  const candidates: number[] = []
  const upfront: number[] = []
  for (let p = 0; p < projects; p++) {
    if ((prepared.votes[p] as number) === 0) continue
    // Cost utility of a free project is 0: nobody values it, so MES never funds it (as pabutools).
    if ((prepared.costs[p] as Rational).num === 0n) {
      if (utility !== 'cost') upfront.push(p)
      continue
    }
    candidates.push(p)
    if (weighted) {
      let total = 0
      for (const w of prepared.points?.[p] ?? []) total += w
      if (!Number.isSafeInteger(total)) {
        throw new CabildoError('E_ARGUMENT', 'points too large to count exactly', { argument: 'ballots', reason: 'point total above 2^53' })
      }
    }
  }
  upfront.sort((a, b) => (ranks[a] as number) - (ranks[b] as number))
  let costDenominators = 1n
  for (const c of prepared.costs) costDenominators = lcm(costDenominators, c.den)
  const pricer = createMesPricer(prepared, utility)

  // ρ of each candidate as an unreduced fraction, its approximation, and the round it is from.
  const rhoNum: bigint[] = new Array<bigint>(projects).fill(0n)
  const rhoDen: bigint[] = new Array<bigint>(projects).fill(1n)
  const rhoApprox = new Float64Array(projects)
  const pricedAt = new Int32Array(projects)
  const alive = new Uint8Array(projects)

  /** Orders candidates by (ρ, tie-break rank), exactly. */
  function before(a: number, b: number): boolean {
    const c = screened(rhoApprox[a] as number, rhoApprox[b] as number, () => {
      const l = (rhoNum[a] as bigint) * (rhoDen[b] as bigint)
      const r = (rhoNum[b] as bigint) * (rhoDen[a] as bigint)
      return l < r ? -1 : l > r ? 1 : 0
    })
    return c < 0 || (c === 0 && (ranks[a] as number) < (ranks[b] as number))
  }

  let runs = 0

  function run(voterBudget: Rational, options: { readonly report?: boolean } = {}): MesRun {
    const report = options.report === true
    pricer.reset(voterBudget, costDenominators)
    // Free projects cost their supporters nothing: a full share of 0.
    const selections: Selection[] = upfront.map((p) => ({
      project: p,
      by: 'mes' as const,
      ...(report ? { payments: [{ voters: prepared.votes[p] as number, each: '0', total: '0', allTheyHad: false }] } : {}),
    }))
    let cost: Rational = ZERO
    let round = 0
    // The last project priced: its buckets are still filled, so funding it needs no re-pricing.
    let last: { p: number; price: MesPrice } | undefined
    const reprice = (p: number): void => {
      const price = pricer.price(p)
      last = price === null ? undefined : { p, price }
      if (price === null) {
        alive[p] = 0
        return
      }
      // ρ = t / unit with t = num / den; unit = the cost (cost utility) or 1.
      let n = price.num
      let d = price.den
      if (utility === 'cost') {
        const unit = prepared.costs[p] as Rational
        n *= unit.den
        d *= unit.num
      }
      rhoNum[p] = n
      rhoDen[p] = d
      rhoApprox[p] = ratioToNumber(n, d)
      pricedAt[p] = round
    }
    for (const p of candidates) {
      alive[p] = 1
      reprice(p)
    }
    for (;;) {
      let best = -1
      for (const p of candidates) if (alive[p] === 1 && (best < 0 || before(p, best))) best = p
      if (best < 0) break
      if (pricedAt[best] !== round) {
        reprice(best)
        continue
      }
      // best's ρ is current and no other project's lower bound beats it: fund it.
      const price = last?.p === best ? last.price : (pricer.price(best) as MesPrice)
      last = undefined
      const payments = pricer.charge(best, price, { report })
      selections.push({ project: best, by: 'mes', ...(payments ? { payments } : {}) })
      cost = add(cost, prepared.costs[best] as Rational)
      alive[best] = 0
      round++
    }
    const runId = ++runs
    const remaining = (): Rational[] => {
      if (runId !== runs) throw new CabildoError('E_CLOSED', 'this MES run was superseded by a later run', { what: 'MES run' })
      return pricer.remaining()
    }
    return { selections, cost, remaining }
  }

  return { candidates, upfront, run }
}

/** `budget / voters + increments · step`: each voter's starting budget after `increments` raises. */
export function voterBudgetAfter(budget: Rational, voters: number, increments: bigint, step: Rational): Rational {
  return add(rational(budget.num, budget.den * BigInt(voters)), mulInt(step, increments))
}
