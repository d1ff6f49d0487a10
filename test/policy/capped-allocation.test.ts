import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cappedAllocation } from '../../src/policy/capped-allocation'
import { type PolicyRecord } from '../../src/policy/policy-record'
import { compareRecords } from '../../src/identity/record-order'
import { arbitraryEntries, runPolicyTests } from '../../src/testing/policy-tests'
import { CabildoError } from '../../src/errors'
import { ALICE, AUTHORS, BOB, MALLORY, authorize, forged, rec, shuffled } from './helpers'

const amount = fc.oneof(
  fc.constantFrom('0', '0.1', '0.2', '100', '250.50', '1e3', '-5', '007'),
  fc.integer({ min: 0, max: 400 }).map(String),
  fc.integer({ min: 0, max: 400 }),
)
const allocations = arbitraryEntries({ authors: AUTHORS, types: ['allocation'], payload: fc.record({ amount }), maxLength: 18 })

runPolicyTests('cappedAllocation prefix', () => ({ policy: cappedAllocation({ cap: '1000' }), records: allocations }))
runPolicyTests('cappedAllocation greedy', () => ({ policy: cappedAllocation({ cap: '700.5', fit: 'greedy' }), records: allocations }))
runPolicyTests('cappedAllocation with a role', () => ({
  policy: cappedAllocation({ cap: '1000', access: { authorize, role: 'staff' } }),
  records: allocations,
}))

const alloc = (author: string, clock: number, value: string): PolicyRecord => rec(author, clock, 'allocation', { amount: value })

/** Reference: sum of decimal strings with 4 fraction digits, as bigint ten-thousandths. */
const toUnits = (s: string): bigint => {
  const [whole, fraction = ''] = s.split('.')
  return BigInt(whole as string) * 10000n + BigInt((fraction + '0000').slice(0, 4))
}

describe('cappedAllocation', () => {
  it('accepts in the total order until the cap and flags the rest over_cap, whatever the delivery order', () => {
    const records = [alloc(ALICE, 1, '400'), alloc(BOB, 2, '500.25'), alloc(ALICE, 3, '100'), alloc(BOB, 4, '50')]
    for (let seed = 1; seed <= 5; seed++) {
      const { view, rejected } = cappedAllocation({ cap: '1000' }).resolve(shuffled(records, seed))
      expect(view.accepted.map((a) => a.hash)).toEqual([records[0]?.hash, records[1]?.hash])
      expect(view.allocated).toBe('900.25')
      expect(view.remaining).toBe('99.75')
      expect(rejected.map((r) => [r.hash, r.code])).toEqual([
        [records[2]?.hash, 'over_cap'],
        [records[3]?.hash, 'over_cap'],
      ])
    }
  })

  it('an allocation over the cap is flagged over_cap and leaves the view unchanged', () => {
    const base = [alloc(ALICE, 1, '600'), alloc(BOB, 2, '399.99')]
    const greedy = alloc(MALLORY, 3, '0.02')
    for (const fit of ['prefix', 'greedy'] as const) {
      const policy = cappedAllocation({ cap: '1000', fit })
      const after = policy.resolve([...base, greedy])
      expect(after.view).toEqual(policy.resolve(base).view)
      expect(after.rejected).toEqual([{ hash: greedy.hash, code: 'over_cap', reason: '0.02 exceeds the 0.01 left under the cap 1000' }])
    }
  })

  it("greedy fit lets a later, smaller allocation through after a larger one did not fit", () => {
    const records = [alloc(ALICE, 1, '400'), alloc(BOB, 2, '500.25'), alloc(ALICE, 3, '100'), alloc(BOB, 4, '50')]
    const { view, rejected } = cappedAllocation({ cap: '1000', fit: 'greedy' }).resolve(records)
    expect(view.allocated).toBe('950.25')
    expect(rejected.map((r) => r.hash)).toEqual([records[2]?.hash])
  })

  it('sums exactly: ten allocations of 0.1 fill a cap of 1 with nothing left', () => {
    const records = Array.from({ length: 11 }, (_, i) => alloc(ALICE, i + 1, '0.1'))
    const { view, rejected } = cappedAllocation({ cap: '1' }).resolve(records)
    expect(view.accepted).toHaveLength(10)
    expect(view.remaining).toBe('0')
    expect(rejected.map((r) => r.code)).toEqual(['over_cap'])
  })

  it('never accepts more than the cap, and the allocated sum is exact', () => {
    fc.assert(
      fc.property(allocations, fc.integer({ min: 0, max: 2000 }), (entries, capUnits) => {
        const { view } = cappedAllocation({ cap: String(capUnits) }).resolve(entries)
        const sum = view.accepted.reduce((s, a) => s + toUnits(a.amount), 0n)
        expect(sum <= BigInt(capUnits) * 10000n).toBe(true)
        expect(toUnits(view.allocated)).toBe(sum)
      }),
      { seed: 7, numRuns: 200 },
    )
  })

  it('accepting a later allocation never un-accepts an earlier one', () => {
    const arb = fc.tuple(allocations, fc.record({ amount }), fc.integer({ min: 1, max: 12 }), fc.constantFrom('prefix', 'greedy'))
    fc.assert(
      fc.property(arb, ([entries, payload, clock, fit]) => {
        const policy = cappedAllocation({ cap: '600', fit: fit as 'prefix' | 'greedy' })
        const added = rec(BOB, clock, 'allocation', payload)
        const before = policy.resolve(entries)
        const after = policy.resolve([...entries, added])
        const earlier = (h: { hash: string; clock: number; author: string }) => compareRecords(h, added) < 0
        expect(after.view.accepted.filter(earlier)).toEqual(before.view.accepted.filter(earlier))
      }),
      { seed: 11, numRuns: 200 },
    )
  })

  it('refuses non-decimal and negative amounts (E_INVALID) and unauthorized allocators (E_FORBIDDEN), view unchanged', () => {
    const policy = cappedAllocation({ cap: '1000', access: { authorize, role: 'staff' } })
    const base = [alloc(ALICE, 1, '300')]
    const bad = [alloc(ALICE, 2, '1e2'), alloc(ALICE, 3, '-1'), rec(ALICE, 4, 'allocation', { amount: 5 }), alloc(MALLORY, 5, '10')]
    const before = policy.resolve(base)
    const after = policy.resolve([...base, ...bad, forged(alloc(ALICE, 6, '1'))])
    expect(after.view).toEqual(before.view)
    expect(after.rejected.map((r) => r.code)).toEqual(['E_INVALID', 'E_INVALID', 'E_INVALID', 'E_FORBIDDEN', 'E_SIGNATURE'])
  })

  it('refuses a cap that is not a non-negative decimal string', () => {
    expect(() => cappedAllocation({ cap: '-1' })).toThrow(CabildoError)
    expect(() => cappedAllocation({ cap: '1.5e3' })).toThrow(CabildoError)
  })
})
