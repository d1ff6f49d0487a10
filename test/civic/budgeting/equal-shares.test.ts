import { describe, expect, it } from 'vitest'
import { CabildoError } from '../../../src/errors'
import type { BudgetElection } from '../../../src/civic/budgeting/election'
import { equalSharesOutcome } from '../../../src/civic/budgeting/equal-shares'
import { tieBreakByOrder } from '../../../src/civic/budgeting/tie-break'

const approve = (...approved: string[]) => ({ kind: 'approval' as const, approved })

/*
 * Election A. Budget 100, 4 voters: 25 each.
 *   a costs 60, approved by v1 v2 v3; b costs 40, approved by v4; c costs 30, approved by v1 v4.
 */
const electionA: BudgetElection = {
  total: '100',
  projects: [
    { id: 'a', cost: '60' },
    { id: 'b', cost: '40' },
    { id: 'c', cost: '30' },
  ],
  ballots: [approve('a', 'c'), approve('a'), approve('a'), approve('b', 'c')],
}

/*
 * Election T (tiny). Budget 4, 2 voters (v2 casts an empty ballot, still a voter): 2 each.
 *   v1 approves a (6), b (4) and c (3).
 */
const electionT: BudgetElection = {
  total: '4',
  projects: [
    { id: 'a', cost: '6' },
    { id: 'b', cost: '4' },
    { id: 'c', cost: '3' },
  ],
  ballots: [approve('a', 'b', 'c'), approve()],
}

describe('equalSharesOutcome with cost utilities (mes)', () => {
  it('funds the project its supporters can buy at the lowest price per unit of utility', () => {
    // Round 1: a: 3 supporters pay 20 each (<= 25): rho = 20/60 = 1/3.
    //          c: 2 supporters pay 15 each: rho = 15/30 = 1/2.  b: 25 < 40, unaffordable.
    //          -> a; v1 v2 v3 keep 5.
    // Round 2: c: v1 has 5 < 15, pays all 5; v4 pays the other 25 (<= 25): rho = 25/30.
    //          -> c; v1 and v4 keep 0.  b unaffordable. Stop: spent 90.
    const outcome = equalSharesOutcome(electionA)
    expect(outcome.rule).toBe('mes')
    expect(outcome.selected).toEqual(['a', 'c'])
    expect(outcome.spent).toBe('90')
    expect(outcome.voterBudget).toBe('25')
    const a = outcome.projects.find((p) => p.id === 'a')
    const c = outcome.projects.find((p) => p.id === 'c')
    expect(a?.payments).toEqual([{ voters: 3, each: '20', total: '60', allTheyHad: false }])
    expect(c?.payments).toEqual([
      { voters: 1, each: '25', total: '25', allTheyHad: false },
      { voters: 1, each: '5', total: '5', allTheyHad: true },
    ])
    expect(outcome.projects.find((p) => p.id === 'b')).toMatchObject({ selected: false, votes: 1 })
  })

  it('keeps decimal costs exact and reports exact fractional shares', () => {
    // Budget 10.5, 3 voters: 3.5 each. p (7.25) approved by all; q (3.25) by v1.
    // p: 7.25/3 = 29/12 each (<= 3.5), rho = 1/3; q: v1 pays 3.25, rho = 1 -> p.
    // v1 keeps 3.5 - 29/12 = 13/12 < 3.25: q unaffordable. Spent 7.25 = 29/4.
    const election: BudgetElection = {
      total: '10.5',
      projects: [
        { id: 'p', cost: '7.25' },
        { id: 'q', cost: '3.25' },
      ],
      ballots: [approve('p', 'q'), approve('p'), approve('p')],
    }
    const outcome = equalSharesOutcome(election)
    expect(outcome.selected).toEqual(['p'])
    expect(outcome.spent).toBe('29/4')
    expect(outcome.voterBudget).toBe('7/2')
    expect(outcome.projects[0]?.payments).toEqual([{ voters: 3, each: '29/12', total: '29/4', allTheyHad: false }])
    // Greedy over the 3.25 left funds q exactly: 7.25 + 3.25 = 10.5.
    const completed = equalSharesOutcome(election, { completion: 'greedy' })
    expect(completed.selected).toEqual(['p', 'q'])
    expect(completed.spent).toBe('21/2')
    expect(completed.projects.map((p) => p.selectedBy)).toEqual(['mes', 'greedy'])
  })

  it('breaks equal prices by the smallest id, or by the given tie-break', () => {
    // Budget 6, 2 voters: 3 each. x (3) approved by v1, y (3) by v2: both rho = 1.
    // Both get funded (each voter pays for their own); the tie decides the order.
    const election: BudgetElection = {
      total: '6',
      projects: [
        { id: 'y', cost: '3' },
        { id: 'x', cost: '3' },
      ],
      ballots: [approve('x'), approve('y')],
    }
    expect(equalSharesOutcome(election).selected).toEqual(['x', 'y'])
    expect(equalSharesOutcome(election, { tieBreak: tieBreakByOrder(['y']) }).selected).toEqual(['y', 'x'])
    // Election T at +2 per voter (v1 has 4): b and c both cost v1 their full cost, rho = 1:
    // "b" < "c" so b is funded, and v1 is left with nothing for c.
    expect(equalSharesOutcome(electionT, { completion: 'add1-until-infeasible' }).selected).toEqual(['b'])
  })

  it('never funds a project nobody supports, or one that costs more than its supporters hold', () => {
    // Budget 10, 2 voters (5 each). big (11) has every vote but 10 < 11; lonely (1) has none.
    const outcome = equalSharesOutcome({
      total: '10',
      projects: [
        { id: 'big', cost: '11' },
        { id: 'lonely', cost: '1' },
      ],
      ballots: [approve('big'), approve('big')],
    })
    expect(outcome.selected).toEqual([])
    expect(outcome.spent).toBe('0')
    // The greedy completion funds the unsupported project with the money left (as the reference does).
    expect(equalSharesOutcome({ total: '10', projects: [{ id: 'big', cost: '11' }, { id: 'lonely', cost: '1' }], ballots: [approve('big')] }, { completion: 'greedy' }).selected).toEqual(['lonely'])
  })

  it('gives no utility to a free project under cost utilities, but funds it up front under cardinal ones', () => {
    // free (cost 0) approved by both voters; paid (cost 4) approved by v1. Budget 4: 2 each.
    // cost utility: free is worth 0 to everyone, MES ignores it; paid: v1 has 2 < 4.
    // cardinal utility: free is funded first at no cost; paid still unaffordable.
    const election: BudgetElection = {
      total: '4',
      projects: [
        { id: 'paid', cost: '4' },
        { id: 'free', cost: '0' },
      ],
      ballots: [approve('paid', 'free'), approve('free')],
    }
    expect(equalSharesOutcome(election).selected).toEqual([])
    // greedy over the 4 left: free (2 votes) then paid (1 vote, 4 fits in 4)
    expect(equalSharesOutcome(election, { completion: 'greedy' }).selected).toEqual(['free', 'paid'])
    expect(equalSharesOutcome(election, { utility: 'cardinal' }).selected).toEqual(['free'])
  })
})

describe('equalSharesOutcome with cardinality and point utilities', () => {
  it('prices projects per supporter under cardinality utilities (mes-cardinal)', () => {
    // Election A, utility 1 per approved project: rho = price per supporter.
    // Round 1: a: 20 each (rho 20); c: 15 each (rho 15) -> c; v1 and v4 keep 10.
    // Round 2: a: v1 has 10 < 20, pays 10; v2 v3 pay (60-10)/2 = 25 <= 25 -> a. b: v4 10 < 40.
    const outcome = equalSharesOutcome(electionA, { utility: 'cardinal' })
    expect(outcome.rule).toBe('mes-cardinal')
    expect(outcome.selected).toEqual(['c', 'a'])
    expect(outcome.spent).toBe('90')
    expect(outcome.projects.find((p) => p.id === 'a')?.payments).toEqual([
      { voters: 2, each: '25', total: '50', allTheyHad: false },
      { voters: 1, each: '10', total: '10', allTheyHad: true },
    ])
  })

  it('charges supporters in proportion to their points under point utilities (mes-points)', () => {
    // Budget 12, 3 voters: 4 each. x (6): v1 3 points, v2 1 point. y (6): v2 2, v3 2.
    // points: x: 6/4 = 1.5 per point, v1 would pay 4.5 > 4, pays 4; v2 pays 2 per point -> rho 2.
    //         y: 6/4 = 1.5 per point, 3 each -> rho 1.5 -> y. v2, v3 keep 1; x: 4 + 1 < 6.
    // cost:   x: 3 each, rho 1/2; y: 3 each, rho 1/2; tie -> x. Then y: 1 + 4 < 6.
    const election: BudgetElection = {
      total: '12',
      projects: [
        { id: 'x', cost: '6' },
        { id: 'y', cost: '6' },
      ],
      ballots: [
        { kind: 'cumulative', points: { x: 3 } },
        { kind: 'cumulative', points: { x: 1, y: 2 } },
        { kind: 'cumulative', points: { y: 2 } },
      ],
    }
    const points = equalSharesOutcome(election, { utility: 'points' })
    expect(points.rule).toBe('mes-points')
    expect(points.selected).toEqual(['y'])
    expect(points.projects.find((p) => p.id === 'y')?.payments).toEqual([{ voters: 2, each: '3', total: '6', allTheyHad: false }])
    expect(equalSharesOutcome(election).selected).toEqual(['x'])
    expect(equalSharesOutcome(election, { utility: 'cardinal' }).selected).toEqual(['x'])
  })

  it('refuses point utilities for approval ballots with E_ARGUMENT', () => {
    let caught: unknown
    try {
      equalSharesOutcome(electionA, { utility: 'points' })
    } catch (err) {
      caught = err
    }
    expect(CabildoError.is(caught, 'E_ARGUMENT')).toBe(true)
  })
})

describe('equalSharesOutcome completions', () => {
  /*
   * Election T, cost utilities, each voter starting at 2 + k after k raises (v1 is the only supporter):
   *   k=0: v1 has 2: nothing affordable. {} (not exhaustive: b fits in 4).
   *   k=1: v1 has 3: c (rho 1) -> {c}, spent 3; 1 left, neither a (6) nor b (4) fits: exhaustive.
   *   k=2: v1 has 4: b and c both rho 1, "b" < "c" -> b; v1 has 0 left. {b}, spent 4.
   *   k=3: v1 has 5: b (tie with c, wins), then c: 1 < 3. {b}, spent 4.
   *   k=4: v1 has 6: a, b, c all rho 1, "a" wins: {a}, spent 6 > 4: over budget.
   */
  it('add1 stops at the first exhaustive outcome', () => {
    const outcome = equalSharesOutcome(electionT, { completion: 'add1' })
    expect(outcome.selected).toEqual(['c'])
    expect(outcome.increments).toBe(1)
    expect(outcome.voterBudget).toBe('3')
    expect(outcome.spent).toBe('3')
  })

  it('add1-until-infeasible ignores exhaustiveness and keeps the last outcome within budget', () => {
    const outcome = equalSharesOutcome(electionT, { completion: 'add1-until-infeasible' })
    expect(outcome.selected).toEqual(['b'])
    expect(outcome.increments).toBe(3)
    expect(outcome.spent).toBe('4')
  })

  it('the greedy variants complete with greedy over the money left', () => {
    // add1 kept {c} with 1 left: nothing else fits. until-infeasible kept {b}: 0 left.
    expect(equalSharesOutcome(electionT, { completion: 'add1-greedy' }).selected).toEqual(['c'])
    expect(equalSharesOutcome(electionT, { completion: 'add1-until-infeasible-greedy' }).selected).toEqual(['b'])
    // MES alone funds nothing (k=0); greedy: a, b, c tie at 1 vote, by id: a (6) does not fit, b (4) does.
    const greedy = equalSharesOutcome(electionT, { completion: 'greedy' })
    expect(greedy.selected).toEqual(['b'])
    expect(greedy.projects.find((p) => p.id === 'b')?.selectedBy).toBe('greedy')
  })

  it('raises by the given increment per round', () => {
    // +0.5 per round: v1 reaches 3 at k=2 -> {c}, exhaustive.
    const outcome = equalSharesOutcome(electionT, { completion: 'add1', increment: '0.5' })
    expect(outcome.selected).toEqual(['c'])
    expect(outcome.increments).toBe(2)
    expect(outcome.voterBudget).toBe('3')
    expect(() => equalSharesOutcome(electionT, { completion: 'add1', increment: '0' })).toThrow(CabildoError)
  })

  it('once every candidate fits, add1-until-infeasible keeps the run at its last round, as the reference loop does', () => {
    // Budget 10.5, 3 voters (3.5 each); p (7.25) by all, q (3.25) by v1 (see the decimal test).
    //   k=0..2: v1 keeps 3.5+k-29/12 < 3.25: {p}.  k=3: 49/12 >= 3.25: {p, q} = 10.5, everything,
    //   within budget: add1 stops here (exhaustive). No later run can exceed the budget, so the
    //   reference loop runs to its bound B + k*voters <= B*(voters+1), i.e. k = floor(10.5) = 10.
    const election: BudgetElection = {
      total: '10.5',
      projects: [
        { id: 'p', cost: '7.25' },
        { id: 'q', cost: '3.25' },
      ],
      ballots: [approve('p', 'q'), approve('p'), approve('p')],
    }
    const add1 = equalSharesOutcome(election, { completion: 'add1' })
    expect(add1.selected).toEqual(['p', 'q'])
    expect(add1.increments).toBe(3)
    const untilInfeasible = equalSharesOutcome(election, { completion: 'add1-until-infeasible' })
    expect(untilInfeasible.selected).toEqual(['p', 'q'])
    expect(untilInfeasible.increments).toBe(10)
    expect(untilInfeasible.spent).toBe('21/2')
  })

  it('handles an election without voters', () => {
    const outcome = equalSharesOutcome({ total: '5', projects: [{ id: 'a', cost: '1' }], ballots: [] }, { completion: 'add1' })
    expect(outcome.selected).toEqual([])
    expect(outcome.voterBudget).toBe('0')
  })
})
