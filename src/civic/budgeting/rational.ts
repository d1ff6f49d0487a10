/**
 * Exact rational numbers over `bigint`, for money and the shares of the Method of Equal Shares.
 *
 * Budgets, costs and payments never touch floating point: a sum of costs, a voter's remaining
 * budget or a price per unit of utility is the same fraction on every replica.
 *
 * ```ts
 * import { parseRational, add, formatRational } from './rational'
 * const spent = add(parseRational('250000.75'), parseRational('1/4'))
 * formatRational(spent) // '250001'
 * ```
 * @module
 */
import { CabildoError } from '../../errors'

/**
 * An exact rational number `num / den`, always in lowest terms with `den > 0`. Values are
 * immutable; every operation returns a new one.
 */
export interface Rational {
  /** The numerator, carrying the sign. */
  readonly num: bigint
  /** The denominator, always positive. */
  readonly den: bigint
}

/** Greatest common divisor of two non-negative bigints. */
function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) {
    const t = a % b
    a = b
    b = t
  }
  return a
}

/**
 * Builds `num / den` in lowest terms.
 * @throws CabildoError `E_ARGUMENT` when `den` is zero
 */
export function rational(num: bigint, den: bigint = 1n): Rational {
  if (den === 0n) throw new CabildoError('E_ARGUMENT', 'division by zero', { argument: 'den', reason: 'zero denominator' })
  if (den < 0n) {
    num = -num
    den = -den
  }
  if (den === 1n) return { num, den }
  const g = gcd(num < 0n ? -num : num, den)
  return g === 1n ? { num, den } : { num: num / g, den: den / g }
}

/** The rational 0. */
export const ZERO: Rational = { num: 0n, den: 1n }
/** The rational 1. */
export const ONE: Rational = { num: 1n, den: 1n }

/** The integer `n` as a rational. */
export function fromInteger(n: number | bigint): Rational {
  return { num: BigInt(n), den: 1n }
}

const DECIMAL = /^([+-]?)(\d+)(?:[.,](\d+))?$/
const FRACTION = /^([+-]?\d+)\/(\d+)$/

/**
 * Parses an exact decimal (`"600000"`, `"250000.75"`, `"-3"`, `"0,5"` with a decimal comma as
 * some Pabulib files write it) or a fraction (`"1999003/4"`, as {@link formatRational} prints it).
 * Surrounding whitespace is ignored.
 * @throws CabildoError `E_ARGUMENT` when the text is not such a number
 */
export function parseRational(text: string): Rational {
  const s = text.trim()
  const d = DECIMAL.exec(s)
  if (d) {
    const frac = d[3] ?? ''
    const digits = BigInt((d[2] ?? '0') + frac)
    return rational(d[1] === '-' ? -digits : digits, 10n ** BigInt(frac.length))
  }
  const f = FRACTION.exec(s)
  if (f) {
    const den = BigInt(f[2] ?? '1')
    if (den !== 0n) return rational(BigInt(f[1] ?? '0'), den)
  }
  throw new CabildoError('E_ARGUMENT', `not an exact number: ${JSON.stringify(text)}`, {
    argument: 'number',
    reason: 'expected a decimal such as "250000.75" or a fraction such as "1/3"',
  })
}

/** `a + b`. */
export function add(a: Rational, b: Rational): Rational {
  if (a.den === b.den) return rational(a.num + b.num, a.den)
  return rational(a.num * b.den + b.num * a.den, a.den * b.den)
}

/** `a - b`. */
export function sub(a: Rational, b: Rational): Rational {
  if (a.den === b.den) return rational(a.num - b.num, a.den)
  return rational(a.num * b.den - b.num * a.den, a.den * b.den)
}

/** `a * b`. */
export function mul(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den)
}

/** `a * k` for an integer `k`. */
export function mulInt(a: Rational, k: bigint): Rational {
  return rational(a.num * k, a.den)
}

/**
 * `a / b`.
 * @throws CabildoError `E_ARGUMENT` when `b` is zero
 */
export function div(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den, a.den * b.num)
}

/** `a / k` for a non-zero integer `k`. */
export function divInt(a: Rational, k: bigint): Rational {
  return rational(a.num, a.den * k)
}

/** Compares exactly: negative when `a < b`, zero when equal, positive when `a > b`. */
export function compare(a: Rational, b: Rational): number {
  if (a.den === b.den) return a.num < b.num ? -1 : a.num > b.num ? 1 : 0
  const l = a.num * b.den
  const r = b.num * a.den
  return l < r ? -1 : l > r ? 1 : 0
}

/** `true` when `a` and `b` are the same number. */
export function equals(a: Rational, b: Rational): boolean {
  return a.num === b.num && a.den === b.den
}

/** The smaller of `a` and `b`. */
export function min(a: Rational, b: Rational): Rational {
  return compare(a, b) <= 0 ? a : b
}

/** The largest integer not above `a`. */
export function floor(a: Rational): bigint {
  const q = a.num / a.den
  return a.num < 0n && q * a.den !== a.num ? q - 1n : q
}

/** Sums a list exactly. */
export function sum(values: Iterable<Rational>): Rational {
  let total = ZERO
  for (const v of values) total = add(total, v)
  return total
}

/**
 * The exact value as text: `"995079"` for an integer, `"1999003/4"` otherwise. {@link parseRational}
 * reads it back.
 */
export function formatRational(a: Rational): string {
  return a.den === 1n ? a.num.toString() : `${a.num}/${a.den}`
}

/**
 * A decimal rendering for people, rounded half away from zero to `digits` places
 * (`"151.83"`), with `exact` telling whether rounding changed the value.
 */
export function toFixed(a: Rational, digits: number): { text: string; exact: boolean } {
  const scale = 10n ** BigInt(digits)
  const neg = a.num < 0n
  const abs = neg ? -a.num : a.num
  const scaled = abs * scale
  let q = scaled / a.den
  const r = scaled % a.den
  if (r * 2n >= a.den) q += 1n
  const int = (q / scale).toString()
  const frac = digits > 0 ? '.' + (q % scale).toString().padStart(digits, '0') : ''
  return { text: (neg && q !== 0n ? '-' : '') + int + frac, exact: r === 0n }
}

/**
 * A close floating-point approximation, for display and for fast pre-comparisons only; never
 * for decisions. Works for numerators and denominators beyond the double range.
 */
export function toNumber(a: Rational): number {
  return ratioToNumber(a.num, a.den)
}

/**
 * A close floating-point approximation of `num / den` for any bigints (`den` non-zero), also
 * beyond the double range; for display and pre-comparisons only.
 */
export function ratioToNumber(num: bigint, den: bigint): number {
  const n = Number(num)
  const d = Number(den)
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d
  // Beyond the double range: keep ~64 significant bits of each, then put the exponent back.
  const ns = Math.max(0, bitLength(num < 0n ? -num : num) - 64)
  const ds = Math.max(0, bitLength(den < 0n ? -den : den) - 64)
  return (Number(num >> BigInt(ns)) / Number(den >> BigInt(ds))) * 2 ** (ns - ds)
}

/** An upper bound of the bit length (within 3 bits), cheap enough for scaling decisions. */
function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(16).length * 4
}
