import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { uniqueSupporters } from '../../src/policy/unique-supporters'
import { arbitraryEntries, runPolicyTests } from '../../src/testing/policy-tests'
import { CabildoError } from '../../src/errors'
import { type PolicyEntry } from '../../src/policy/policy-record'
import { compareRecords } from '../../src/identity/record-order'
import { ALICE, AUTHORS, BOB, CAROL, MALLORY, authorize, forged, rec, shuffled } from './helpers'

const supports = arbitraryEntries({
  authors: AUTHORS,
  types: ['support', 'support', 'support.withdraw', 'vote'],
  payload: fc.constant({}),
})

runPolicyTests('uniqueSupporters', () => ({ policy: uniqueSupporters({ threshold: 2 }), records: supports }))
runPolicyTests('uniqueSupporters with eligibility', () => ({
  policy: uniqueSupporters({ threshold: 3, access: { authorize, role: 'citizen' } }),
  records: supports,
}))

const support = (author: string, clock: number) => rec(author, clock, 'support', {})
const withdraw = (author: string, clock: number) => rec(author, clock, 'support.withdraw', {})

describe('uniqueSupporters', () => {
  const policy = uniqueSupporters({ threshold: 2, access: { authorize, role: 'citizen' } })

  it('counts each key once: a repeated support is superseded, not counted twice', () => {
    const first = support(ALICE, 1)
    const again = support(ALICE, 2)
    const { view, conflicts } = policy.resolve([again, first])
    expect(view.count).toBe(1)
    expect(view.supporters).toEqual([{ supporter: ALICE, hash: again.hash, clock: 2 }])
    expect(conflicts).toEqual([{ kind: 'superseded', path: [ALICE], hashes: [first.hash], winner: again.hash, reason: expect.any(String) }])
  })

  it('qualifies at the threshold, whatever the order, and remembers the support that qualified it', () => {
    const records = [support(ALICE, 1), support(BOB, 2), support(CAROL, 3), withdraw(BOB, 4), withdraw(CAROL, 5)]
    for (let seed = 1; seed <= 4; seed++) {
      const { view } = policy.resolve(shuffled(records, seed))
      expect(view.count).toBe(1)
      expect(view.qualified).toBe(false)
      expect(view.qualifiedAt).toEqual({ hash: records[1]?.hash, clock: 2 })
    }
  })

  it('a withdrawal only ends a support of the same key; withdrawing nothing is E_INVALID', () => {
    const stray = withdraw(BOB, 3)
    const { view, rejected } = policy.resolve([support(ALICE, 1), stray])
    expect(view.count).toBe(1)
    expect(rejected).toEqual([{ hash: stray.hash, code: 'E_INVALID', reason: expect.stringContaining('nothing to withdraw') }])
  })

  it('refuses ineligible keys and forged supports, view unchanged', () => {
    const base = [support(ALICE, 1)]
    const attack = [support(MALLORY, 2), forged(support(BOB, 3))]
    const after = policy.resolve([...base, ...attack])
    expect(after.view).toEqual(policy.resolve(base).view)
    expect(after.rejected.map((r) => r.code)).toEqual(['E_FORBIDDEN', 'E_SIGNATURE'])
  })

  it('a record after the qualifying support never moves qualifiedAt', () => {
    const arb = fc.tuple(supports, fc.constantFrom(...AUTHORS), fc.integer({ min: 1, max: 14 }), fc.constantFrom('support', 'support.withdraw'))
    fc.assert(
      fc.property(arb, ([generated, author, clock, type]) => {
        const entries: PolicyEntry[] = generated
        const policy = uniqueSupporters({ threshold: 2 })
        const before = policy.resolve(entries).view.qualifiedAt
        const added = rec(author, clock, type, {})
        const qualifying = entries.find((e) => 'hash' in e && e.hash === before?.hash)
        if (qualifying === undefined || !('hash' in qualifying) || compareRecords(added, qualifying) <= 0) return
        expect(policy.resolve([...entries, added]).view.qualifiedAt).toEqual(before)
      }),
      { seed: 9, numRuns: 200 },
    )
  })

  it('rejects a threshold that is not an integer >= 1', () => {
    expect(() => uniqueSupporters({ threshold: 0 })).toThrow(CabildoError)
    expect(() => uniqueSupporters({ threshold: 1.5 })).toThrow(CabildoError)
  })
})
