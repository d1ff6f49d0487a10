import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { onePerVoter, type BallotValidation } from '../../src/policy/one-per-voter'
import { arbitraryEntries, runPolicyTests } from '../../src/testing/policy-tests'
import { ALICE, AUTHORS, BOB, CAROL, DAVE, MALLORY, authorize, forged, rec, shuffled } from './helpers'

/** An approval ballot with at most two projects. */
const validate = (payload: unknown): BallotValidation => {
  const projects = (payload as { projects?: unknown }).projects
  if (!Array.isArray(projects)) return { ok: false, reason: 'projects is not a list', rule: 'shape' }
  if (projects.length > 2) return { ok: false, reason: `${projects.length} projects, at most 2`, rule: 'maxProjects' }
  return { ok: true }
}
const config = { authorize, eligibilityRole: 'voter', closeRole: 'staff', validate }
const policy = onePerVoter(config)

const ballotPayload = fc.record({ projects: fc.uniqueArray(fc.constantFrom('p1', 'p2', 'p3'), { maxLength: 3 }) })
const votes = arbitraryEntries({
  authors: AUTHORS,
  types: ['ballot', 'ballot', 'ballot', 'ballot.close', 'comment'],
  payload: ballotPayload,
  maxLength: 20,
})

runPolicyTests('onePerVoter', () => ({ policy, records: votes }))

const ballot = (voter: string, clock: number, ...projects: string[]) => rec(voter, clock, 'ballot', { projects })
const close = (author: string, clock: number) => rec(author, clock, 'ballot.close', {})

describe('onePerVoter', () => {
  it("counts each voter's latest ballot and reports earlier ones as superseded, not rejected", () => {
    const first = ballot(CAROL, 2, 'p1')
    const second = ballot(CAROL, 5, 'p2')
    const dave = ballot(DAVE, 3, 'p1')
    for (let seed = 1; seed <= 4; seed++) {
      const { view, conflicts, rejected } = policy.resolve(shuffled([second, dave, first], seed))
      expect(view.ballots.map((b) => [b.voter, b.hash])).toEqual([
        [CAROL, second.hash],
        [DAVE, dave.hash],
      ])
      expect(conflicts).toEqual([{ kind: 'superseded', path: [CAROL], hashes: [first.hash], winner: second.hash, reason: expect.any(String) }])
      expect(rejected).toEqual([])
    }
  })

  it('double voting at the same clock: one ballot counts, chosen by the total order', () => {
    const a = ballot(CAROL, 4, 'p1')
    const b = ballot(CAROL, 4, 'p2')
    const winner = a.hash > b.hash ? a : b
    expect(policy.resolve([a, b]).view.ballots.map((x) => x.hash)).toEqual([winner.hash])
  })

  it('refuses a ballot from an ineligible key with E_FORBIDDEN, view unchanged', () => {
    const base = [ballot(CAROL, 2, 'p1')]
    const attack = ballot(MALLORY, 3, 'p2')
    const after = policy.resolve([...base, attack])
    expect(after.view).toEqual(policy.resolve(base).view)
    expect(after.rejected).toEqual([{ hash: attack.hash, code: 'E_FORBIDDEN', reason: expect.stringContaining('not eligible') }])
  })

  it('refuses ballots after the close with E_LATE; a ballot at the close clock counts', () => {
    const end = close(ALICE, 10)
    const onTime = ballot(CAROL, 10, 'p1')
    const late = ballot(DAVE, 11, 'p2')
    const { view, rejected } = policy.resolve([late, end, onTime])
    expect(view.close).toEqual({ hash: end.hash, author: ALICE, clock: 10 })
    expect(view.ballots.map((b) => b.hash)).toEqual([onTime.hash])
    expect(rejected).toEqual([{ hash: late.hash, code: 'E_LATE', reason: expect.stringContaining('after the close') }])
  })

  it("a late re-vote does not erase the voter's ballot cast in time", () => {
    const inTime = ballot(CAROL, 5, 'p1')
    const late = ballot(CAROL, 12, 'p2')
    const { view, conflicts, rejected } = policy.resolve([inTime, late, close(ALICE, 10)])
    expect(view.ballots.map((b) => b.hash)).toEqual([inTime.hash])
    expect(conflicts).toEqual([])
    expect(rejected.map((r) => [r.hash, r.code])).toEqual([[late.hash, 'E_LATE']])
  })

  it('only an authorized close counts; the first close wins and later ones are reported as lost', () => {
    const fake = close(CAROL, 3)
    const first = close(ALICE, 10)
    const second = close(BOB, 7) // Bob is staff until clock 8
    const { view, conflicts, rejected } = policy.resolve([fake, first, second, ballot(DAVE, 9, 'p1')])
    expect(view.close?.hash).toBe(second.hash)
    expect(view.ballots).toEqual([])
    expect(conflicts).toEqual([{ kind: 'lost', path: [], hashes: [first.hash], winner: second.hash, reason: expect.any(String) }])
    expect(rejected.map((r) => [r.hash, r.code])).toEqual([
      [fake.hash, 'E_FORBIDDEN'],
      [expect.any(String), 'E_LATE'],
    ])
  })

  it('refuses ballots the voting method rejects with E_INVALID and the rule, keeping the earlier valid one', () => {
    const valid = ballot(CAROL, 1, 'p1')
    const tooMany = ballot(CAROL, 2, 'p1', 'p2', 'p3')
    const { view, rejected } = policy.resolve([valid, tooMany])
    expect(view.ballots.map((b) => b.hash)).toEqual([valid.hash])
    expect(rejected).toEqual([{ hash: tooMany.hash, code: 'E_INVALID', reason: '3 projects, at most 2', rule: 'maxProjects' }])
  })

  it('carries signature failures into rejected: a forged later ballot cannot replace a real one', () => {
    const real = ballot(CAROL, 1, 'p1')
    const fake = ballot(CAROL, 9, 'p3')
    const { view, rejected } = policy.resolve([real, forged(fake)])
    expect(view.ballots.map((b) => b.hash)).toEqual([real.hash])
    expect(rejected).toEqual([{ hash: fake.hash, code: 'E_SIGNATURE', reason: 'signature does not verify' }])
  })

  it('refuses a ballot whose validator throws, without breaking the fold', () => {
    const strict = onePerVoter({ ...config, validate: () => { throw new RangeError('bad ballot') } })
    const b = ballot(CAROL, 1, 'p1')
    expect(strict.resolve([b])).toEqual({
      view: { close: null, ballots: [] },
      conflicts: [],
      rejected: [{ hash: b.hash, code: 'E_INVALID', reason: 'validation failed: bad ballot' }],
    })
  })

  it('a close that arrives last, incrementally, turns later ballots late and restores earlier ones', () => {
    const live = policy.incremental()
    const early = ballot(CAROL, 3, 'p1')
    const late = ballot(CAROL, 8, 'p2')
    live.add(early)
    live.add(late)
    expect(live.view().view.ballots.map((b) => b.hash)).toEqual([late.hash])
    live.add(close(ALICE, 5))
    expect(live.view().view.ballots.map((b) => b.hash)).toEqual([early.hash])
    expect(live.view().rejected.map((r) => [r.hash, r.code])).toEqual([[late.hash, 'E_LATE']])
  })

  it('refuses records of other types with E_INVALID', () => {
    const other = rec(CAROL, 1, 'comment', { text: 'hi' })
    expect(policy.resolve([other]).rejected.map((r) => r.code)).toEqual(['E_INVALID'])
  })

  it('counts 100k ballots and updates incrementally, matching the batch fold', () => {
    const voters = Array.from({ length: 100_000 }, (_, i) => `did:key:zVoter${i.toString(36)}`)
    const everyone = onePerVoter({ authorize: () => true, eligibilityRole: 'voter', closeRole: 'staff' })
    // Hashes only need to be distinct here; content hashing 100k records would dominate the test.
    const records = voters.map((v, i) => ({ hash: `h${i}`, author: v, clock: 1 + (i % 50), type: 'ballot', payload: { projects: ['p1'] } }))
    const batch = everyone.resolve(records)
    expect(batch.view.ballots).toHaveLength(100_000)
    const live = everyone.incremental()
    for (const r of records) live.add(r)
    const revote = rec(voters[17] as string, 3, 'ballot', { projects: ['p2'] })
    live.add(revote)
    const after = live.view()
    expect(after).toEqual(everyone.resolve([...records, revote]))
    expect(after.conflicts).toHaveLength(1)
  })
})
