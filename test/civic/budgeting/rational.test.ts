import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CabildoError } from '../../../src/errors'
import {
  add,
  compare,
  div,
  floor,
  formatRational,
  fromInteger,
  mul,
  parseRational,
  rational,
  ratioToNumber,
  sub,
  sum,
  toFixed,
  toNumber,
} from '../../../src/civic/budgeting/rational'

describe('Rational', () => {
  it('parses decimals exactly, in lowest terms', () => {
    // 250000.75 = 25000075/100 = 1000003/4
    expect(parseRational('250000.75')).toEqual({ num: 1000003n, den: 4n })
    expect(parseRational('600000')).toEqual({ num: 600000n, den: 1n })
    expect(parseRational(' 0,5 ')).toEqual({ num: 1n, den: 2n })
    expect(parseRational('-3.10')).toEqual({ num: -31n, den: 10n })
    expect(parseRational('1999003/4')).toEqual({ num: 1999003n, den: 4n })
    expect(parseRational('6/4')).toEqual({ num: 3n, den: 2n })
  })

  it('rejects text that is not an exact number with E_ARGUMENT', () => {
    for (const bad of ['', 'abc', '1e5', '1.', '.5', '1/0', 'NaN', '1/2/3']) {
      expect(() => parseRational(bad)).toThrow(CabildoError)
      try {
        parseRational(bad)
      } catch (err) {
        expect(CabildoError.is(err, 'E_ARGUMENT')).toBe(true)
      }
    }
  })

  it('adds decimal costs without floating-point drift', () => {
    // 0.1 + 0.2 is exactly 3/10 (in floating point it is 0.30000000000000004)
    expect(formatRational(add(parseRational('0.1'), parseRational('0.2')))).toBe('3/10')
    // 499750.25 + 0.25 + 0.25 = 499750.75 = 1999003/4
    expect(formatRational(sum(['499750.25', '0.25', '0.25'].map(parseRational)))).toBe('1999003/4')
  })

  it('does arithmetic and comparison exactly', () => {
    const third = rational(1n, 3n)
    expect(formatRational(mul(third, fromInteger(3)))).toBe('1')
    expect(formatRational(sub(third, rational(1n, 2n)))).toBe('-1/6')
    expect(formatRational(div(third, rational(2n, 3n)))).toBe('1/2')
    expect(compare(rational(1n, 3n), rational(333333n, 1000000n))).toBe(1)
    expect(compare(rational(2n, 4n), rational(1n, 2n))).toBe(0)
    expect(() => rational(1n, 0n)).toThrow(CabildoError)
  })

  it('floors towards minus infinity', () => {
    expect(floor(rational(7n, 2n))).toBe(3n)
    expect(floor(rational(-7n, 2n))).toBe(-4n)
    expect(floor(fromInteger(-4))).toBe(-4n)
  })

  it('renders decimals for people, saying when they are rounded', () => {
    expect(toFixed(rational(1000n, 7n), 2)).toEqual({ text: '142.86', exact: false })
    expect(toFixed(parseRational('250000.75'), 2)).toEqual({ text: '250000.75', exact: true })
    expect(toFixed(rational(-1n, 8n), 2)).toEqual({ text: '-0.13', exact: false })
  })

  it('approximates values far beyond the double range', () => {
    const huge = 10n ** 400n
    expect(ratioToNumber(huge * 3n, huge * 2n)).toBeCloseTo(1.5, 12)
    expect(toNumber(rational(1n, 3n))).toBeCloseTo(1 / 3, 15)
  })

  it('round-trips through formatRational and parseRational (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 20n }), (n, d) => {
        const r = rational(n, d)
        expect(parseRational(formatRational(r))).toEqual(r)
        // lowest terms: n/d and (kn)/(kd) are the same value
        expect(rational(n * 7n, d * 7n)).toEqual(r)
      }),
      { seed: 42, numRuns: 300 },
    )
  })
})
