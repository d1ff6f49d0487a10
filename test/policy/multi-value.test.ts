import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { multiValue } from '../../src/policy/multi-value'
import { runPolicyTests } from '../../src/testing/policy-tests'
import { ALICE, BOB, CAROL, MALLORY, authorize, rec, valueEntries } from './helpers'

runPolicyTests('multiValue', () => ({ policy: multiValue(), records: valueEntries(fc.constantFrom('x', 'y', 'z')) }))
runPolicyTests('multiValue with a writer role', () => ({
  policy: multiValue({ access: { authorize, role: 'citizen' } }),
  records: valueEntries(fc.constantFrom('x', 'y')),
}))

describe('multiValue', () => {
  const a = rec(ALICE, 2, 'w', { value: 'Plaza Mayor' })
  const b = rec(BOB, 3, 'w', { value: 'Main Square' })

  it('keeps concurrent values and surfaces them as one concurrent conflict', () => {
    const { view, conflicts } = multiValue<string>().resolve([b, a])
    expect(view.values.map((v) => v.value)).toEqual(['Plaza Mayor', 'Main Square'])
    expect(conflicts).toEqual([{ kind: 'concurrent', path: [], hashes: [a.hash, b.hash], reason: expect.any(String) }])
  })

  it('a later write that names both hashes resolves the conflict', () => {
    const merged = rec(CAROL, 4, 'w', { value: 'Plaza Mayor (Main Square)', supersedes: [a.hash, b.hash] })
    const { view, conflicts } = multiValue<string>().resolve([merged, a, b])
    expect(view.values.map((v) => v.hash)).toEqual([merged.hash])
    expect(conflicts).toEqual([])
  })

  it('a write cannot supersede a record that comes after it in the total order', () => {
    const early = rec(CAROL, 1, 'w', { value: 'early', supersedes: [b.hash] })
    expect(multiValue().resolve([early, b]).view.values.map((v) => v.hash)).toEqual([early.hash, b.hash])
  })

  it('a refused write supersedes nothing', () => {
    const policy = multiValue({ access: { authorize, role: 'citizen' } })
    const attack = rec(MALLORY, 9, 'w', { value: 'spam', supersedes: [a.hash] })
    const { view, rejected } = policy.resolve([a, attack])
    expect(view.values.map((v) => v.hash)).toEqual([a.hash])
    expect(rejected.map((r) => r.code)).toEqual(['E_FORBIDDEN'])
  })
})
