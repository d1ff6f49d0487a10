import { describe, expect, it } from 'vitest'
import { CabildoError } from '../../../src/errors'
import { validateBallot, type BallotCheck } from '../../../src/civic/budgeting/ballot-rules'

const ctx = {
  total: '600000',
  projects: new Map([
    ['park', { cost: '400000' }],
    ['library', { cost: '199999.50' }],
    ['bench', { cost: '0.75' }],
  ]),
}

function rule(check: BallotCheck): string | undefined {
  return check.ok ? undefined : check.rule
}

describe('validateBallot', () => {
  it('accepts a ballot that follows its method', () => {
    expect(validateBallot({ kind: 'approval', minProjects: 1, maxProjects: 2 }, { kind: 'approval', approved: ['park'] }, ctx)).toEqual({ ok: true })
  })

  it('rejects a ballot of another kind than the method', () => {
    const check = validateBallot({ kind: 'approval' }, { kind: 'ordinal', ranking: ['park'] }, ctx)
    expect(check).toMatchObject({ ok: false, code: 'E_INVALID', rule: 'kind' })
  })

  it('rejects unknown and repeated projects', () => {
    expect(rule(validateBallot({ kind: 'approval' }, { kind: 'approval', approved: ['pool'] }, ctx))).toBe('unknown-project')
    expect(rule(validateBallot({ kind: 'approval' }, { kind: 'approval', approved: ['park', 'park'] }, ctx))).toBe('duplicate-project')
    expect(rule(validateBallot({ kind: 'ordinal' }, { kind: 'ordinal', ranking: ['bench', 'bench'] }, ctx))).toBe('duplicate-project')
    expect(rule(validateBallot({ kind: 'scoring', minScore: 0, maxScore: 5 }, { kind: 'scoring', scores: { pool: 1 } }, ctx))).toBe('unknown-project')
  })

  it('enforces the number of approved projects', () => {
    const method = { kind: 'approval', minProjects: 2, maxProjects: 2 } as const
    expect(rule(validateBallot(method, { kind: 'approval', approved: ['park'] }, ctx))).toBe('min-projects')
    expect(rule(validateBallot(method, { kind: 'approval', approved: ['park', 'library', 'bench'] }, ctx))).toBe('max-projects')
    expect(validateBallot(method, { kind: 'approval', approved: ['park', 'bench'] }, ctx).ok).toBe(true)
  })

  it('keeps knapsack ballots within the budget, exactly, at the limit included', () => {
    // 400000 + 199999.50 + 0.75 = 600000.25 > 600000
    const over = validateBallot({ kind: 'knapsack' }, { kind: 'knapsack', approved: ['park', 'library', 'bench'] }, ctx)
    expect(over).toEqual({
      ok: false,
      code: 'E_INVALID',
      rule: 'knapsack-limit',
      reason: 'approved projects cost 2400001/4, above the limit 600000',
    })
    // 400000 + 199999.50 = 599999.50 <= 600000
    expect(validateBallot({ kind: 'knapsack' }, { kind: 'knapsack', approved: ['park', 'library'] }, ctx).ok).toBe(true)
    // an explicit limit replaces the budget: 199999.50 + 0.75 > 200000.2
    expect(rule(validateBallot({ kind: 'knapsack', limit: '200000.2' }, { kind: 'knapsack', approved: ['library', 'bench'] }, ctx))).toBe('knapsack-limit')
    expect(validateBallot({ kind: 'knapsack', limit: '200000.25' }, { kind: 'knapsack', approved: ['library', 'bench'] }, ctx).ok).toBe(true)
  })

  it('caps cumulative points in total and per project', () => {
    const method = { kind: 'cumulative', maxPoints: 3, maxPointsPerProject: 2, minProjects: 2 } as const
    expect(validateBallot(method, { kind: 'cumulative', points: { park: 2, library: 1 } }, ctx).ok).toBe(true)
    expect(rule(validateBallot(method, { kind: 'cumulative', points: { park: 2, library: 2 } }, ctx))).toBe('max-points')
    expect(rule(validateBallot(method, { kind: 'cumulative', points: { park: 3 } }, ctx))).toBe('max-points-per-project')
    // zero points do not count as supporting a project
    expect(rule(validateBallot(method, { kind: 'cumulative', points: { park: 2, library: 0 } }, ctx))).toBe('min-projects')
    expect(rule(validateBallot(method, { kind: 'cumulative', points: { park: 1.5 } }, ctx))).toBe('invalid-points')
    expect(rule(validateBallot(method, { kind: 'cumulative', points: { park: -1, library: 1 } }, ctx))).toBe('invalid-points')
  })

  it('keeps scores in range', () => {
    const method = { kind: 'scoring', minScore: -1, maxScore: 3 } as const
    expect(validateBallot(method, { kind: 'scoring', scores: { park: -1, library: 3 } }, ctx).ok).toBe(true)
    expect(rule(validateBallot(method, { kind: 'scoring', scores: { park: 4 } }, ctx))).toBe('score-range')
    expect(rule(validateBallot(method, { kind: 'scoring', scores: { park: -2 } }, ctx))).toBe('score-range')
    expect(rule(validateBallot(method, { kind: 'scoring', scores: { park: 0.5 } }, ctx))).toBe('invalid-score')
  })

  it('enforces the length of a ranking', () => {
    const method = { kind: 'ordinal', minLength: 2, maxLength: 2 } as const
    expect(rule(validateBallot(method, { kind: 'ordinal', ranking: ['park'] }, ctx))).toBe('min-length')
    expect(rule(validateBallot(method, { kind: 'ordinal', ranking: ['park', 'library', 'bench'] }, ctx))).toBe('max-length')
    expect(validateBallot(method, { kind: 'ordinal', ranking: ['library', 'park'] }, ctx).ok).toBe(true)
  })

  it('throws E_ARGUMENT when the context itself is malformed', () => {
    const broken = { total: 'lots', projects: ctx.projects }
    expect(() => validateBallot({ kind: 'knapsack' }, { kind: 'knapsack', approved: ['park'] }, broken)).toThrow(CabildoError)
  })
})
