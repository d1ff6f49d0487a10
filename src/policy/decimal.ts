/**
 * Exact decimal arithmetic on strings (`"1500.25"`), as scaled bigints: money is never a float,
 * so sums and comparisons are the same on every replica.
 *
 * ```ts
 * import { addDecimals, compareDecimals } from 'cabildo'
 * addDecimals('0.1', '0.2')         // '0.3' (a float would give 0.30000000000000004)
 * compareDecimals('1500.25', '1500.3') // -1
 * ```
 * @module
 */
import { CabildoError } from '../errors'

/** A decimal as `units / 10^scale`. */
export interface Decimal {
  /** The scaled integer value. */
  readonly units: bigint
  /** The number of fraction digits. */
  readonly scale: number
}

/** Longest decimal string accepted: bounds the work an adversarial record can cause. */
export const MAX_DECIMAL_LENGTH = 64

const decimalPattern = /^-?(0|[1-9]\d*)(\.\d+)?$/

/**
 * Parses a decimal string: optional `-`, no leading zeros, optional fraction, at most
 * {@link MAX_DECIMAL_LENGTH} characters. No exponent, no `+`, no spaces.
 * @returns the decimal, or `undefined` when the string is not one
 */
export function parseDecimal(text: unknown): Decimal | undefined {
  if (typeof text !== 'string' || text.length > MAX_DECIMAL_LENGTH || !decimalPattern.test(text)) return undefined
  const negative = text.startsWith('-')
  const body = negative ? text.slice(1) : text
  const dot = body.indexOf('.')
  const digits = dot < 0 ? body : body.slice(0, dot) + body.slice(dot + 1)
  const scale = dot < 0 ? 0 : body.length - dot - 1
  const units = BigInt(digits)
  return { units: negative ? -units : units, scale }
}

/** Brings two decimals to the same scale. */
function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  if (a.scale === b.scale) return [a.units, b.units, a.scale]
  if (a.scale < b.scale) return [a.units * 10n ** BigInt(b.scale - a.scale), b.units, b.scale]
  return [a.units, b.units * 10n ** BigInt(a.scale - b.scale), a.scale]
}

/** The sum of two decimals, exact. */
export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = align(a, b)
  return { units: x + y, scale }
}

/** Compares two decimals: negative, zero or positive. */
export function compareDecimal(a: Decimal, b: Decimal): number {
  const [x, y] = align(a, b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** Writes a decimal in its shortest form: no trailing fraction zeros, `'0'` for zero. */
export function formatDecimal(d: Decimal): string {
  let { units, scale } = d
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n
    scale -= 1
  }
  const negative = units < 0n
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0')
  const whole = digits.slice(0, digits.length - scale)
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : ''
  return `${negative ? '-' : ''}${whole}${fraction}`
}

/** The zero decimal. */
export const ZERO_DECIMAL: Decimal = { units: 0n, scale: 0 }

/**
 * Adds decimal strings exactly.
 * @throws CabildoError `E_ARGUMENT` when an argument is not a decimal string
 */
export function addDecimals(...values: readonly string[]): string {
  let sum = ZERO_DECIMAL
  for (const value of values) sum = addDecimal(sum, mustParse(value))
  return formatDecimal(sum)
}

/**
 * Compares decimal strings exactly: `-1`, `0` or `1`.
 * @throws CabildoError `E_ARGUMENT` when an argument is not a decimal string
 */
export function compareDecimals(a: string, b: string): number {
  return compareDecimal(mustParse(a), mustParse(b))
}

function mustParse(value: string): Decimal {
  const parsed = parseDecimal(value)
  if (parsed === undefined) {
    throw new CabildoError('E_ARGUMENT', `Not a decimal string: ${JSON.stringify(value)}`, {
      argument: 'value',
      reason: 'expected a decimal string such as "1500.25"',
    })
  }
  return parsed
}
