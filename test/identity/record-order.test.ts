import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareRecords, type RecordOrderKey } from '../../src/identity/record-order'

const key = fc.record({
  clock: fc.integer({ min: 1, max: 5 }),
  author: fc.constantFrom('did:key:z6MkA', 'did:key:z6MkB', 'did:key:z6Mka'),
  hash: fc.constantFrom('00', '0a', 'ff', 'a0'),
})

describe('compareRecords', () => {
  it('orders by clock, then author, then hash, comparing strings by code unit', () => {
    const sorted: RecordOrderKey[] = [
      { clock: 2, author: 'b', hash: '1' },
      { clock: 1, author: 'b', hash: '0' },
      { clock: 1, author: 'a', hash: 'f' },
      { clock: 1, author: 'B', hash: '0' }, // 'B' (0x42) sorts before 'a' (0x61), unlike a locale collation
      { clock: 1, author: 'a', hash: '0' },
      { clock: 10, author: 'a', hash: '0' }, // numbers, not strings: 10 after 2
    ].sort(compareRecords)
    expect(sorted.map((k) => `${k.clock}/${k.author}/${k.hash}`)).toEqual(['1/B/0', '1/a/0', '1/a/f', '1/b/0', '2/b/1', '10/a/0'])
  })

  it('accepts verified records ({ record, hash }) and order keys alike', () => {
    const a = { record: { clock: 3, author: 'x' }, hash: '01' }
    const b: RecordOrderKey = { clock: 3, author: 'x', hash: '02' }
    expect(compareRecords(a, b)).toBeLessThan(0)
    expect(compareRecords(b, a)).toBeGreaterThan(0)
    expect(compareRecords(a, { clock: 3, author: 'x', hash: '01' })).toBe(0)
  })

  it('is a total order: antisymmetric, transitive, and 0 only for equal keys', () => {
    fc.assert(
      fc.property(key, key, key, (a, b, c) => {
        expect(Math.sign(compareRecords(a, b)) + Math.sign(compareRecords(b, a)) === 0).toBe(true)
        expect(compareRecords(a, b) === 0).toBe(a.clock === b.clock && a.author === b.author && a.hash === b.hash)
        if (compareRecords(a, b) <= 0 && compareRecords(b, c) <= 0) expect(compareRecords(a, c)).toBeLessThanOrEqual(0)
      }),
      { seed: 42, numRuns: 500 },
    )
  })

  it('sorting gives the same sequence whatever the input order', () => {
    fc.assert(
      fc.property(fc.array(key, { maxLength: 30 }), fc.nat(), (keys, shift) => {
        const rotated = keys.map((_, i) => keys[(i + shift) % keys.length] as RecordOrderKey)
        expect([...rotated].sort(compareRecords)).toEqual([...keys].sort(compareRecords))
      }),
      { seed: 42, numRuns: 200 },
    )
  })
})
