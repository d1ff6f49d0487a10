import { describe, expect, it } from 'vitest'
import { createRecordIntake, insertionIndex, prepareEntries, sortRejected } from '../../src/policy/record-intake'
import { isFailedRecord, recordShapeProblem, type PolicyRecord } from '../../src/policy/policy-record'
import { compareRecords } from '../../src/identity/record-order'
import { ALICE, BOB, forged, rec } from './helpers'

describe('compareRecords', () => {
  it('orders by clock, then author, then hash, by UTF-16 code units with no locale', () => {
    const base = { author: ALICE, hash: 'b' }
    expect(compareRecords({ ...base, clock: 2 }, { ...base, clock: 10 })).toBeLessThan(0)
    expect(compareRecords({ clock: 1, author: 'Z', hash: 'a' }, { clock: 1, author: 'a', hash: 'a' })).toBeLessThan(0)
    expect(compareRecords({ clock: 1, author: 'é', hash: 'a' }, { clock: 1, author: 'f', hash: 'a' })).toBeGreaterThan(0)
    expect(compareRecords({ ...base, clock: 1 }, { ...base, clock: 1, hash: 'a' })).toBeGreaterThan(0)
  })
})

describe('record intake', () => {
  const r = rec(ALICE, 1, 't', { n: 1 })

  it('counts a hash once and lets a verified copy beat a failed one, in either order', () => {
    for (const order of [[forged(r), r, r], [r, forged(r)]]) {
      const { records, refusals } = prepareEntries(order)
      expect(records).toEqual([r])
      expect(refusals).toEqual([])
    }
  })

  it('keeps one failed copy per hash, chosen independently of order', () => {
    const a = { record: r, code: 'E_SIGNATURE' as const, reason: 'b' }
    const b = { record: r, code: 'E_INVALID' as const, reason: 'z' }
    const one = sortRejected(prepareEntries([a, b]).refusals)
    expect(sortRejected(prepareEntries([b, a]).refusals)).toEqual(one)
    expect(one).toEqual([{ hash: r.hash, code: 'E_INVALID', reason: 'z' }])
  })

  it('refuses malformed records with E_INVALID instead of breaking the order', () => {
    const bad = { ...r, hash: 'bad', clock: 1.5 } as PolicyRecord
    expect(recordShapeProblem(bad)).toMatch(/clock/)
    const { records, refusals } = prepareEntries([bad, r])
    expect(records).toEqual([r])
    expect(sortRejected(refusals)).toEqual([{ hash: 'bad', code: 'E_INVALID', reason: 'malformed record: clock is not an integer >= 1' }])
  })

  it('tells failed entries from records', () => {
    expect(isFailedRecord(forged(r))).toBe(true)
    expect(isFailedRecord(r)).toBe(false)
  })

  it('reports the number of distinct hashes and what each add did', () => {
    const intake = createRecordIntake()
    expect(intake.add(forged(r)).kind).toBe('refused')
    expect(intake.add(r).kind).toBe('record')
    expect(intake.add(r).kind).toBe('duplicate')
    expect(intake.add(rec(BOB, 2, 't', {})).kind).toBe('record')
    expect(intake.size).toBe(2)
  })

  it('finds insertion points by binary search', () => {
    const sorted = [1, 3, 5, 7]
    const cmp = (a: number, b: number) => a - b
    expect([0, 2, 4, 8].map((x) => insertionIndex(sorted, x, cmp))).toEqual([0, 1, 2, 4])
    expect(insertionIndex([], 1, cmp)).toBe(0)
  })
})
