import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { counter } from '../../src/policy/counter'
import { arbitraryEntries, runPolicyTests } from '../../src/testing/policy-tests'
import { ALICE, AUTHORS, BOB, MALLORY, authorize, rec } from './helpers'

const delta = fc.oneof(fc.integer({ min: -100, max: 100 }), fc.constantFrom('0.1', '-0.25', '3', 0.5, 'x'))
const deltas = arbitraryEntries({ authors: AUTHORS, types: ['count'], payload: fc.record({ delta }) })

runPolicyTests('counter', () => ({ policy: counter(), records: deltas }))
runPolicyTests('counter with a writer role', () => ({ policy: counter({ access: { authorize, role: 'citizen' } }), records: deltas }))

describe('counter', () => {
  it('sums integer and decimal deltas exactly', () => {
    const records = [rec(ALICE, 1, 'count', { delta: '0.1' }), rec(BOB, 1, 'count', { delta: '0.2' }), rec(ALICE, 2, 'count', { delta: -1 })]
    expect(counter().resolve(records).view).toEqual({ value: '-0.7', count: 3 })
  })

  it('equals the integer sum of integer deltas', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e6, max: 1e6 }), { maxLength: 30 }), (values) => {
        const records = values.map((d, i) => rec(ALICE, i + 1, 'count', { delta: d }))
        expect(counter().resolve(records).view.value).toBe(String(values.reduce((s, d) => s + d, 0)))
      }),
      { seed: 3, numRuns: 100 },
    )
  })

  it('refuses floats rather than rounding them, and writers without the role', () => {
    const float = rec(ALICE, 1, 'count', { delta: 0.5 })
    const attack = rec(MALLORY, 2, 'count', { delta: 1000 })
    const { view, rejected } = counter({ access: { authorize, role: 'citizen' } }).resolve([float, attack])
    expect(view).toEqual({ value: '0', count: 0 })
    expect(rejected.map((r) => r.code)).toEqual(['E_INVALID', 'E_FORBIDDEN'])
  })
})
