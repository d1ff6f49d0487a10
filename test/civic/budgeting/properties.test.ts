import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { BallotChoice } from '../../../src/schema/budget'
import { prepareElection, tallyElection, type BudgetElection } from '../../../src/civic/budgeting/election'
import { equalSharesOutcome } from '../../../src/civic/budgeting/equal-shares'
import { greedyFill, greedyOutcome } from '../../../src/civic/budgeting/greedy'
import { createMesEngine, voterBudgetAfter } from '../../../src/civic/budgeting/mes-engine'
import { buildOutcome, COMPLETIONS, type MesUtility, type Outcome } from '../../../src/civic/budgeting/outcome'
import { add, compare, fromInteger, parseRational, sub, sum, ZERO } from '../../../src/civic/budgeting/rational'
import { compareProjectIds, tieBreakRanks } from '../../../src/civic/budgeting/tie-break'
import { referenceGreedy, referenceMes } from './reference-rules'

const ID_POOL = ['a', 'b', 'c', '9', '10', 'L18/01', 'ż', 'x y']

/** Small random elections: decimal and zero costs, ties, empty ballots, approval or cumulative. */
const electionArb: fc.Arbitrary<BudgetElection> = fc
  .record({
    ids: fc.uniqueArray(fc.constantFrom(...ID_POOL), { minLength: 1, maxLength: 6 }),
    total: fc.integer({ min: 0, max: 30 }),
    half: fc.boolean(),
    points: fc.boolean(),
    seedCosts: fc.array(fc.integer({ min: 0, max: 24 }), { minLength: 6, maxLength: 6 }),
    ballots: fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 }), { maxLength: 9 }),
  })
  .map(({ ids, total, half, points, seedCosts, ballots }) => ({
    total: half ? `${total}.5` : String(total),
    // cost 0 now and then; quarter units elsewhere to exercise exact decimals
    projects: ids.map((id, k) => {
      const c = seedCosts[k] as number
      return { id, cost: c % 7 === 0 ? '0' : c % 3 === 0 ? `${c}.25` : String(c) }
    }),
    ballots: ballots.map((row): BallotChoice => {
      if (points) return { kind: 'cumulative', points: Object.fromEntries(ids.map((id, k) => [id, row[k] as number]).filter(([, p]) => (p as number) > 0)) }
      return { kind: 'approval', approved: ids.filter((_, k) => (row[k] as number) >= 2) }
    }),
  }))

function utilitiesFor(election: BudgetElection): MesUtility[] {
  return election.ballots[0]?.kind === 'cumulative' ? ['cost', 'cardinal', 'points'] : ['cost', 'cardinal']
}

function allOutcomes(election: BudgetElection): Outcome[] {
  const outcomes = [greedyOutcome(election), greedyOutcome(election, { unsupported: 'skip' })]
  for (const utility of utilitiesFor(election)) {
    for (const completion of COMPLETIONS) outcomes.push(equalSharesOutcome(election, { utility, completion }))
  }
  return outcomes
}

describe('outcome rules (properties)', () => {
  it('every outcome stays within the budget and reports its exact spending', () => {
    fc.assert(
      fc.property(electionArb, (election) => {
        const cost = new Map(election.projects.map((p) => [p.id, parseRational(p.cost)]))
        for (const outcome of allOutcomes(election)) {
          const spent = sum(outcome.selected.map((id) => cost.get(id) ?? ZERO))
          expect(new Set(outcome.selected).size).toBe(outcome.selected.length)
          expect(parseRational(outcome.spent)).toEqual(spent)
          expect(compare(spent, parseRational(election.total))).toBeLessThanOrEqual(0)
        }
      }),
      { seed: 42, numRuns: 150 },
    )
  })

  it('greedy leaves no unselected project that would still fit', () => {
    fc.assert(
      fc.property(electionArb, (election) => {
        const prepared = prepareElection(election)
        for (const unsupported of ['fund', 'skip'] as const) {
          const outcome = greedyOutcome(election, { unsupported })
          const left = sub(prepared.budget, parseRational(outcome.spent))
          prepared.ids.forEach((id, p) => {
            if (outcome.selected.includes(id)) return
            if (unsupported === 'skip' && (prepared.score[p] as number) <= 0) return
            expect(compare(prepared.costs[p] ?? ZERO, left)).toBeGreaterThan(0)
          })
        }
      }),
      { seed: 42, numRuns: 200 },
    )
  })

  it('greedy from the one-pass tally gives the outcome of the full preparation, report included', () => {
    fc.assert(
      fc.property(electionArb, (election) => {
        const prepared = prepareElection(election)
        const { supporters: _supporters, points: _points, ...counted } = prepared
        expect(tallyElection(election)).toEqual(counted)
        for (const unsupported of ['fund', 'skip'] as const) {
          const full = buildOutcome(prepared, 'greedy', 'none', greedyFill(prepared, [], { unsupported }))
          expect(greedyOutcome(election, { unsupported })).toEqual(full)
        }
      }),
      { seed: 42, numRuns: 200 },
    )
  })

  it('MES charges no voter more than their budget, and what voters pay adds up to what is funded', () => {
    fc.assert(
      fc.property(electionArb, fc.integer({ min: 0, max: 4 }), (election, raises) => {
        const prepared = prepareElection(election)
        if (prepared.voters === 0) return
        for (const utility of utilitiesFor(election)) {
          const engine = createMesEngine(prepared, utility, tieBreakRanks(prepared.ids, compareProjectIds))
          const start = voterBudgetAfter(prepared.budget, prepared.voters, BigInt(raises), fromInteger(1))
          const run = engine.run(start, { report: true })
          let paid = ZERO
          for (const left of run.remaining()) {
            expect(compare(left, ZERO)).toBeGreaterThanOrEqual(0)
            expect(compare(left, start)).toBeLessThanOrEqual(0)
            paid = add(paid, sub(start, left))
          }
          expect(paid).toEqual(run.cost)
          for (const s of run.selections) {
            const groups = s.payments ?? []
            expect(sum(groups.map((g) => parseRational(g.total)))).toEqual(prepared.costs[s.project])
            expect(groups.reduce((n, g) => n + g.voters, 0)).toBe(prepared.votes[s.project])
            for (const g of groups) if (g.each !== undefined) expect(compare(parseRational(g.each), start)).toBeLessThanOrEqual(0)
          }
        }
      }),
      { seed: 42, numRuns: 200 },
    )
  })

  it('agrees with a naive step-by-step statement of the reference rules', () => {
    fc.assert(
      fc.property(electionArb, (election) => {
        expect(greedyOutcome(election).selected).toEqual(referenceGreedy(election))
        for (const utility of utilitiesFor(election)) {
          for (const completion of COMPLETIONS) {
            expect([utility, completion, equalSharesOutcome(election, { utility, completion }).selected]).toEqual([
              utility,
              completion,
              referenceMes(election, utility, completion),
            ])
          }
        }
      }),
      { seed: 42, numRuns: 200 },
    )
  })
})
