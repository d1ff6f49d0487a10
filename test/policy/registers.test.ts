import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { firstWriter, lww, max, min } from '../../src/policy/registers'
import { runPolicyTests } from '../../src/testing/policy-tests'
import { ALICE, BOB, CAROL, MALLORY, authorize, forged, rec, shuffled, valueEntries } from './helpers'

const scalar = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom('a', 'b', 'B'), fc.constant(null))

runPolicyTests('lww', () => ({ policy: lww(), records: valueEntries(scalar) }))
runPolicyTests('firstWriter', () => ({ policy: firstWriter(), records: valueEntries(scalar) }))
runPolicyTests('max', () => ({ policy: max(), records: valueEntries(scalar) }))
runPolicyTests('min', () => ({ policy: min(), records: valueEntries(scalar) }))
runPolicyTests('lww with a writer role', () => ({ policy: lww({ access: { authorize, role: 'staff' } }), records: valueEntries(scalar) }))

describe('lww', () => {
  const writes = [rec(ALICE, 3, 'w', { value: 'a3' }), rec(BOB, 3, 'w', { value: 'b3' }), rec(CAROL, 2, 'w', { value: 'c2' })]

  it('keeps the write highest in (clock, author, hash), whatever the order', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const { view } = lww<string>().resolve(shuffled(writes, seed))
      expect(view?.value).toBe('b3') // clock 3 ties; 'did:key:zBob' > 'did:key:zAlice'
      expect(view?.author).toBe(BOB)
    }
  })

  it('reports the overwritten writes as one lost conflict naming the winner', () => {
    const { conflicts, view } = lww().resolve(writes)
    expect(conflicts).toEqual([
      { kind: 'lost', path: [], hashes: [writes[2]?.hash, writes[0]?.hash], winner: view?.hash, reason: expect.any(String) },
    ])
  })

  it('is null with no valid write, and refuses writes without a value', () => {
    const bad = rec(ALICE, 1, 'w', { nothing: true })
    const { view, rejected } = lww().resolve([bad])
    expect(view).toBeNull()
    expect(rejected).toEqual([{ hash: bad.hash, code: 'E_INVALID', reason: expect.any(String) }])
  })

  it('refuses writers without the role and keeps the view unchanged', () => {
    const policy = lww({ access: { authorize, role: 'staff' } })
    const attack = rec(MALLORY, 99, 'w', { value: 'pwned' })
    const before = policy.resolve(writes)
    const after = policy.resolve([...writes, attack])
    expect(after.view).toEqual(before.view)
    expect(after.rejected).toContainEqual({ hash: attack.hash, code: 'E_FORBIDDEN', reason: expect.stringContaining('staff') })
  })

  it('never counts a write whose signature failed, even if it would win', () => {
    const fake = rec(ALICE, 100, 'w', { value: 'forged' })
    const { view, rejected } = lww().resolve([...writes, forged(fake)])
    expect(view?.value).toBe('b3')
    expect(rejected).toEqual([{ hash: fake.hash, code: 'E_SIGNATURE', reason: 'signature does not verify' }])
  })
})

describe('firstWriter, max and min', () => {
  it('firstWriter keeps the lowest write in the total order', () => {
    const a = rec(BOB, 1, 'w', { value: 'first' })
    const b = rec(ALICE, 2, 'w', { value: 'second' })
    expect(firstWriter().resolve([b, a]).view?.value).toBe('first')
  })

  it('max and min compare numbers numerically, not as strings', () => {
    const records = [rec(ALICE, 1, 'w', { value: 9 }), rec(BOB, 2, 'w', { value: 10 }), rec(CAROL, 3, 'w', { value: -1 })]
    expect(max().resolve(records).view?.value).toBe(10)
    expect(min().resolve(records).view?.value).toBe(-1)
  })

  it('on equal values, the write later in the total order holds the register', () => {
    const early = rec(ALICE, 1, 'w', { value: 5 })
    const late = rec(BOB, 4, 'w', { value: 5 })
    expect(max().resolve([late, early]).view?.hash).toBe(late.hash)
    expect(min().resolve([late, early]).view?.hash).toBe(late.hash)
  })

  it('accepts a custom order, e.g. exact decimal strings', async () => {
    const { compareDecimals } = await import('../../src/policy/decimal')
    const records = [rec(ALICE, 1, 'w', { value: '0.3' }), rec(BOB, 2, 'w', { value: '0.25' })]
    expect(max<string>({ compare: compareDecimals }).resolve(records).view?.value).toBe('0.3')
  })

  it('refuses values the default order cannot compare (objects, NaN)', () => {
    const odd = rec(ALICE, 1, 'w', { value: { x: 1 } })
    expect(max().resolve([odd]).rejected.map((r) => r.code)).toEqual(['E_INVALID'])
  })
})
