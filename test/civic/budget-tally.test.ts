import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { boundKey } from '../../src/civic/bound-key'
import { BudgetAct, voterRole, type BudgetTerms } from '../../src/civic/budget-rules'
import { createBudgetTally, resolveBudget, type BudgetTallyInput } from '../../src/civic/budget-tally'
import type { Authorize, PolicyEntry, PolicyRecord } from '../../src/policy/policy-record'
import { makePolicyRecord } from '../../src/testing/policy-tests'

const STAFF = 'did:key:zStaff'
const nonce = 'n1'
const id = `budget.b1/${boundKey(STAFF, nonce)}`
const terms: BudgetTerms = {
  votingMethod: { kind: 'approval', maxProjects: 2 },
  total: '1000',
  projects: { park: '600', library: '300', pool: '500' },
  eligibility: 'roster',
}

const act = (author: string, clock: number, type: string, payload: Record<string, unknown>): PolicyRecord =>
  makePolicyRecord({ author, clock, type, payload: { budget: id, ...payload } })
const create = act(STAFF, 1, BudgetAct.create, { nonce, district: 'north' })
const open = act(STAFF, 2, BudgetAct.phase, { from: 'proposing', to: 'voting', terms })
const close = (clock: number) => act(STAFF, clock, BudgetAct.phase, { from: 'voting', to: 'closed' })
const ballot = (voter: string, clock: number, approved: string[]) => act(voter, clock, BudgetAct.ballot, { choice: { kind: 'approval', approved } })
const allocation = (author: string, clock: number, project: string, amount: string) => act(author, clock, BudgetAct.allocate, { project, amount })

/** Staff is staff; every voter but D holds the voter role (C only until clock 5). */
const roster: Authorize = (who, role, clock) =>
  (who === STAFF && role === 'staff') || (role === voterRole(id) && (who === 'did:key:zA' || who === 'did:key:zB' || (who === 'did:key:zC' && clock < 5)))
const input: BudgetTallyInput = { authorize: roster, authorizeKey: 'v1', total: '1000', projects: ['park', 'library', 'pool'] }

describe('budget tally', () => {
  it('phases by staff; one counted ballot per eligible voter; early, late, invalid and ineligible ballots rejected with their codes', () => {
    const before = ballot('did:key:zA', 2, ['park']) // same clock as the opening: could not have seen it
    const first = ballot('did:key:zA', 3, ['park'])
    const revote = ballot('did:key:zA', 4, ['library', 'park'])
    const tooMany = ballot('did:key:zB', 3, ['park', 'library', 'pool'])
    const revoked = ballot('did:key:zC', 6, ['pool'])
    const ineligible = ballot('did:key:zD', 3, ['pool'])
    const concurrentWithClose = ballot('did:key:zB', 7, ['pool'])
    const late = ballot('did:key:zB', 8, ['library'])
    const view = resolveBudget(id, [create, open, before, first, revote, tooMany, revoked, ineligible, close(7), concurrentWithClose, late], input)
    expect(view.phase).toBe('closed')
    expect([view.creator, view.district, view.terms]).toEqual([STAFF, 'north', terms])
    expect(view.close?.hash).toBe(close(7).hash)
    expect(view.ballots.map((b) => [b.voter, b.hash])).toEqual([
      ['did:key:zA', revote.hash],
      ['did:key:zB', concurrentWithClose.hash],
    ])
    expect(view.superseded).toEqual([expect.objectContaining({ kind: 'superseded', path: ['did:key:zA'], hashes: [first.hash], winner: revote.hash })])
    const codes = Object.fromEntries(view.rejected.map((r) => [r.hash, `${r.code}/${r.rule ?? ''}`]))
    expect(codes).toEqual({
      [before.hash]: 'E_INVALID/phase',
      [tooMany.hash]: 'E_INVALID/max-projects',
      [revoked.hash]: 'E_FORBIDDEN/',
      [ineligible.hash]: 'E_FORBIDDEN/',
      [late.hash]: 'E_LATE/',
    })
  })

  it('a vote open to anyone counts any key; opening without terms or by non-staff does not open it', () => {
    const anyoneOpen = act(STAFF, 2, BudgetAct.phase, { from: 'proposing', to: 'voting', terms: { ...terms, eligibility: 'anyone' } })
    const d = ballot('did:key:zD', 3, ['pool'])
    expect(resolveBudget(id, [create, anyoneOpen, d], input).ballots.map((b) => b.voter)).toEqual(['did:key:zD'])
    const bare = act(STAFF, 2, BudgetAct.phase, { from: 'proposing', to: 'voting' })
    const byVoter = act('did:key:zA', 2, BudgetAct.phase, { from: 'proposing', to: 'voting', terms })
    const view = resolveBudget(id, [create, bare, byVoter], input)
    expect(view.phase).toBe('proposing')
    expect(view.rejected.map((r) => `${r.code}/${r.rule ?? ''}`).sort()).toEqual(['E_FORBIDDEN/', 'E_INVALID/terms'])
  })

  it('allocations by staff fill the signed total greedily; the rest are over_cap, unknown projects and non-staff refused', () => {
    const a = allocation(STAFF, 3, 'park', '600')
    const b = allocation(STAFF, 4, 'pool', '500') // does not fit in the 400 left
    const c = allocation(STAFF, 5, 'library', '300') // still fits: greedy
    const unknown = allocation(STAFF, 6, 'stadium', '1')
    const byVoter = allocation('did:key:zA', 6, 'library', '1')
    const view = resolveBudget(id, [create, open, a, b, c, unknown, byVoter], { ...input, total: '999999' })
    expect(view.allocations).toEqual({
      cap: '1000', // the signed total, not the plain one
      allocated: '900',
      remaining: '100',
      lines: [
        { hash: a.hash, author: STAFF, clock: 3, project: 'park', amount: '600' },
        { hash: c.hash, author: STAFF, clock: 5, project: 'library', amount: '300' },
      ],
    })
    const codes = Object.fromEntries(view.rejected.map((r) => [r.hash, `${r.code}/${r.rule ?? ''}`]))
    expect(codes).toEqual({ [b.hash]: 'over_cap/', [unknown.hash]: 'E_INVALID/unknown-project', [byVoter.hash]: 'E_FORBIDDEN/' })
  })

  it('fed in any order, with resolves in between and repeats, the tally converges on the batch view', () => {
    const acts: PolicyEntry[] = [
      create,
      open,
      ballot('did:key:zA', 3, ['park']),
      ballot('did:key:zA', 5, ['pool']),
      ballot('did:key:zB', 4, ['park', 'library', 'pool']),
      ballot('did:key:zB', 6, ['library']),
      ballot('did:key:zC', 4, ['pool']),
      ballot('did:key:zC', 6, ['pool']),
      ballot('did:key:zD', 3, ['park']),
      close(6),
      close(7), // loses to the first close
      ballot('did:key:zA', 9, ['library']),
      allocation(STAFF, 8, 'park', '600'),
      allocation(STAFF, 8, 'pool', '500'),
      { record: { hash: 'e'.repeat(64), type: BudgetAct.ballot, author: 'did:key:zA', clock: 4 }, code: 'E_SIGNATURE', reason: 'forged' },
    ]
    const expected = resolveBudget(id, acts, input)
    fc.assert(
      fc.property(
        fc.shuffledSubarray(acts, { minLength: acts.length, maxLength: acts.length }),
        fc.array(fc.nat(acts.length), { maxLength: 5 }),
        fc.array(fc.nat(acts.length - 1), { maxLength: 3 }),
        (order, resolveAt, repeats) => {
          const tally = createBudgetTally(id)
          order.forEach((entry, i) => {
            tally.add(entry)
            if (resolveAt.includes(i)) tally.resolve(input)
          })
          for (const i of repeats) tally.add(order[i] as PolicyEntry)
          expect(tally.resolve(input)).toEqual(expected)
        },
      ),
      { seed: 42, numRuns: 300 },
    )
  })

  it('a new ballot among many is folded alone: the resolver is rebuilt only when the roster, opening or close changes', () => {
    const tally = createBudgetTally(id)
    const anyone = act(STAFF, 2, BudgetAct.phase, { from: 'proposing', to: 'voting', terms: { ...terms, eligibility: 'anyone' } })
    for (const entry of [create, anyone]) tally.add(entry)
    for (let i = 0; i < 20_000; i++) tally.add(ballot(`did:key:zV${i}`, 3 + (i % 50), ['park']))
    expect(tally.resolve(input).ballots).toHaveLength(20_000)
    expect(tally.rebuilds).toBe(1)
    tally.add(ballot('did:key:zNew', 60, ['library']))
    expect(tally.resolve(input).ballots).toHaveLength(20_001)
    expect(tally.rebuilds).toBe(1)
    tally.add(close(70))
    tally.add(ballot('did:key:zLate', 71, ['library']))
    const closed = tally.resolve(input)
    expect([closed.ballots.length, closed.rejected.at(-1)?.code, tally.rebuilds]).toEqual([20_001, 'E_LATE', 2])
    tally.resolve({ ...input, authorizeKey: 'v2' })
    expect(tally.rebuilds).toBe(3)
  })

  it('checks a new ballot, phase act or allocation without adding it', () => {
    const tally = createBudgetTally(id)
    for (const entry of [create, open, allocation(STAFF, 3, 'park', '600')]) tally.add(entry)
    expect(tally.checkBallot(ballot('did:key:zA', 4, ['park']), input)).toBeUndefined()
    expect(tally.checkBallot(ballot('did:key:zD', 4, ['park']), input)?.code).toBe('E_FORBIDDEN')
    expect(tally.checkAllocation(allocation(STAFF, 4, 'pool', '500'), input)?.code).toBe('over_cap')
    expect(tally.checkPhase(close(4), input)).toEqual({ rejected: undefined, phase: 'closed' })
    expect(tally.resolve(input).phase).toBe('voting')
    expect(tally.size).toBe(3)
  })
})
