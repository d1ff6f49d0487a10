import { describe, expect, it } from 'vitest'
import { CabildoError } from '../../../src/errors'
import type { BudgetElection } from '../../../src/civic/budgeting/election'
import { greedyOutcome } from '../../../src/civic/budgeting/greedy'
import { tieBreakByOrder } from '../../../src/civic/budgeting/tie-break'

const approve = (...approved: string[]) => ({ kind: 'approval' as const, approved })

describe('greedyOutcome', () => {
  it('funds the most approved projects first and skips those that no longer fit', () => {
    // votes: a 3, b 2, c 1; budget 10
    // a (6) fits -> 4 left; b (5) does not fit, skipped; c (4) fits -> 0 left
    const outcome = greedyOutcome({
      total: '10',
      projects: [
        { id: 'a', cost: '6' },
        { id: 'b', cost: '5' },
        { id: 'c', cost: '4' },
      ],
      ballots: [approve('a', 'b'), approve('a', 'b', 'c'), approve('a')],
    })
    expect(outcome.selected).toEqual(['a', 'c'])
    expect(outcome.spent).toBe('10')
    expect(outcome.rule).toBe('greedy')
    expect(outcome.completion).toBe('none')
    expect(outcome.projects.map((p) => [p.id, p.votes, p.selected])).toEqual([
      ['a', 3, true],
      ['b', 2, false],
      ['c', 1, true],
    ])
  })

  it('breaks vote ties by the smallest id as a string, so "10" wins over "9"', () => {
    // both have 1 vote and cost 6; only one fits in 10
    const election: BudgetElection = {
      total: '10',
      projects: [
        { id: '9', cost: '6' },
        { id: '10', cost: '6' },
      ],
      ballots: [approve('9', '10')],
    }
    expect(greedyOutcome(election).selected).toEqual(['10'])
    expect(greedyOutcome(election, { tieBreak: tieBreakByOrder(['9']) }).selected).toEqual(['9'])
  })

  it('keeps decimal costs exact', () => {
    // 0.1 + 0.2 = 0.3 fits a budget of exactly 0.3 (it would not in floating point)
    const outcome = greedyOutcome({
      total: '0.3',
      projects: [
        { id: 'a', cost: '0.1' },
        { id: 'b', cost: '0.2' },
      ],
      ballots: [approve('a', 'b'), approve('a')],
    })
    expect(outcome.selected).toEqual(['a', 'b'])
    expect(outcome.spent).toBe('3/10')
  })

  it('funds projects nobody voted for when money is left, unless told to skip them', () => {
    // a (1 vote, cost 5) is funded; z (0 votes, cost 3) still fits in the 5 left
    const election: BudgetElection = {
      total: '10',
      projects: [
        { id: 'a', cost: '5' },
        { id: 'z', cost: '3' },
      ],
      ballots: [approve('a')],
    }
    expect(greedyOutcome(election).selected).toEqual(['a', 'z'])
    expect(greedyOutcome(election, { unsupported: 'skip' }).selected).toEqual(['a'])
  })

  it('never funds a project that costs more than the whole budget', () => {
    // big has every vote but costs 11 > 10; small is funded instead
    const outcome = greedyOutcome({
      total: '10',
      projects: [
        { id: 'big', cost: '11' },
        { id: 'small', cost: '2' },
      ],
      ballots: [approve('big'), approve('big', 'small')],
    })
    expect(outcome.selected).toEqual(['small'])
    expect(outcome.spent).toBe('2')
  })

  it('ranks cumulative ballots by total points, not by number of voters', () => {
    // x: 1 voter, 3 points; y: 2 voters, 1 point each = 2 points. Budget fits one.
    const outcome = greedyOutcome({
      total: '10',
      projects: [
        { id: 'x', cost: '10' },
        { id: 'y', cost: '10' },
      ],
      ballots: [
        { kind: 'cumulative', points: { x: 3 } },
        { kind: 'cumulative', points: { y: 1 } },
        { kind: 'cumulative', points: { y: 1 } },
      ],
    })
    expect(outcome.selected).toEqual(['x'])
    expect(outcome.projects.map((p) => [p.id, p.votes, p.points])).toEqual([
      ['x', 1, 3],
      ['y', 2, 2],
    ])
  })

  it('counts a ranked project like an approval for ordinal ballots', () => {
    // b ranked by 2 voters, a by 1; only one fits
    const outcome = greedyOutcome({
      total: '5',
      projects: [
        { id: 'a', cost: '5' },
        { id: 'b', cost: '5' },
      ],
      ballots: [
        { kind: 'ordinal', ranking: ['a', 'b'] },
        { kind: 'ordinal', ranking: ['b'] },
      ],
    })
    expect(outcome.selected).toEqual(['b'])
  })

  it('rejects malformed elections with E_ARGUMENT', () => {
    const base = { total: '10', projects: [{ id: 'a', cost: '5' }], ballots: [approve('a')] }
    const bad: BudgetElection[] = [
      { ...base, total: 'ten' },
      { ...base, projects: [{ id: 'a', cost: '-1' }] },
      { ...base, projects: [{ id: 'a', cost: '1' }, { id: 'a', cost: '2' }] },
      { ...base, ballots: [approve('nope')] },
      { ...base, ballots: [approve('a', 'a')] },
      { ...base, ballots: [approve('a'), { kind: 'cumulative', points: { a: 1 } }] },
      { ...base, ballots: [{ kind: 'cumulative', points: { a: -1 } }] },
    ]
    for (const election of bad) {
      let caught: unknown
      try {
        greedyOutcome(election)
      } catch (err) {
        caught = err
      }
      expect(CabildoError.is(caught, 'E_ARGUMENT')).toBe(true)
    }
  })
})
