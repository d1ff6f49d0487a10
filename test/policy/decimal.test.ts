import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { addDecimals, compareDecimals, formatDecimal, parseDecimal, MAX_DECIMAL_LENGTH } from '../../src/policy/decimal'
import { CabildoError } from '../../src/errors'

/** Decimal strings with up to 4 fraction digits, and their value in ten-thousandths. */
const decimal = fc
  .tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 4 }))
  .map(([units, scale]) => {
    const text = formatDecimal({ units, scale })
    return { text, tenThousandths: units * 10n ** BigInt(4 - scale) }
  })

describe('decimal', () => {
  it('adds exactly, where floats do not', () => {
    expect(addDecimals('0.1', '0.2')).toBe('0.3')
    expect(addDecimals('1500.25', '-1500.25')).toBe('0')
    expect(addDecimals('99999999999999999999.99', '0.01')).toBe('100000000000000000000')
  })

  it('formats in shortest form and parses back to the same value', () => {
    fc.assert(
      fc.property(decimal, ({ text, tenThousandths }) => {
        const parsed = parseDecimal(text)
        expect(parsed).toBeDefined()
        expect(formatDecimal(parsed as NonNullable<typeof parsed>)).toBe(text)
        expect(text).not.toMatch(/\.\d*0$/)
        expect(addDecimals(text, '0')).toBe(text)
        if (tenThousandths === 0n) expect(text).toBe('0')
      }),
      { seed: 5, numRuns: 300 },
    )
  })

  it('sums and compares like bigint arithmetic on the scaled values', () => {
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        const sum = parseDecimal(addDecimals(a.text, b.text))
        expect(sum).toBeDefined()
        const { units, scale } = sum as NonNullable<typeof sum>
        expect(units * 10n ** BigInt(4 - scale)).toBe(a.tenThousandths + b.tenThousandths)
        const expected = a.tenThousandths < b.tenThousandths ? -1 : a.tenThousandths > b.tenThousandths ? 1 : 0
        expect(compareDecimals(a.text, b.text)).toBe(expected)
      }),
      { seed: 6, numRuns: 300 },
    )
  })

  it('refuses what is not a plain decimal string', () => {
    for (const bad of ['', '1e3', '+1', '01', '1.', '.5', ' 1', '0x10', '1,5', 'NaN', 3, null, '9'.repeat(MAX_DECIMAL_LENGTH + 1)]) {
      expect(parseDecimal(bad)).toBeUndefined()
    }
    expect(() => addDecimals('1', 'one')).toThrow(CabildoError)
  })
})
