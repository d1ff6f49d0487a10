import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CabildoError, canonicalJson, contentHash } from '../../src/index'

describe('canonicalJson', () => {
  it('sorts keys, drops undefined members and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 0, y: -0 } })).toBe('{"a":[true,null,"x"],"b":1,"d":{"y":0,"z":0}}')
  })

  it('writes numbers in the shortest round-trip form (RFC 8785 examples)', () => {
    expect(canonicalJson([1e21, 1e-7, 0.1, Number('333333333.33333329'), 4.5, 100])).toBe('[1e+21,1e-7,0.1,333333333.3333333,4.5,100]')
  })

  it('orders keys by UTF-16 code units, not by locale', () => {
    expect(canonicalJson({ é: 1, e: 2, Z: 3, '\u{1F600}': 4, '\uFB33': 5 })).toBe('{"Z":3,"e":2,"é":1,"\u{1F600}":4,"\uFB33":5}')
  })

  it('refuses values with no faithful JSON form', () => {
    for (const bad of [NaN, Infinity, [undefined], new Date(0), 10n, '\uD800', { k: () => 1 }]) {
      expect(() => canonicalJson(bad)).toThrowError(CabildoError)
    }
  })

  it('is independent of key insertion order (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (dict) => {
        const reversed = Object.fromEntries(Object.entries(dict).reverse())
        return canonicalJson(dict) === canonicalJson(reversed) && contentHash(dict) === contentHash(reversed)
      }),
      { seed: 7, numRuns: 300 },
    )
  })

  it('parses back to an equal value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ noUnicodeString: false }), (value) => {
        const normalized = JSON.parse(JSON.stringify(value)) as unknown
        expect(JSON.parse(canonicalJson(normalized))).toEqual(normalized)
      }),
      { seed: 11, numRuns: 300 },
    )
  })

  it('hashes to the SHA-256 of the canonical text', () => {
    // sha256("{}") and sha256("[]"), as published for the empty JSON object and array.
    expect(contentHash({})).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a')
    expect(contentHash([])).toBe('4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945')
  })
})
