/**
 * Tie-breaking between projects that an outcome rule ranks equally.
 *
 * The default, {@link compareProjectIds}, is the reference implementation's (pabutools'
 * `lexico_tie_breaking`): among tied projects, the one whose id is smallest **as a string** wins,
 * so `"10"` beats `"9"` and `"L18/01/VII"` beats `"L18/02/VII"`.
 *
 * ```ts
 * import { greedyOutcome } from './greedy'
 * import { tieBreakByOrder } from './tie-break'
 * greedyOutcome(election, { tieBreak: tieBreakByOrder(['p7', 'p2', 'p9']) })
 * ```
 * @module
 */

/**
 * Orders two tied projects by id: negative when `a` should win the tie, positive when `b`
 * should. Must be a strict total order on the ids it is given (ties it leaves are broken by
 * {@link compareProjectIds}).
 */
export type TieBreak = (a: string, b: string) => number

/**
 * Compares ids by Unicode code points, exactly as Python compares `str` (so ids outside the
 * Basic Multilingual Plane order as pabutools orders them; plain `<` on JavaScript strings
 * compares UTF-16 units and would differ).
 */
export const compareProjectIds: TieBreak = (a, b) => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // Surrogates (0xD800-0xDFFF) encode code points above 0xFFFF: they sort after every
    // other BMP unit in code point order, although units 0xE000-0xFFFF are numerically larger.
    const xs = x >= 0xd800 && x <= 0xdfff
    const ys = y >= 0xd800 && y <= 0xdfff
    if (xs !== ys) return xs ? 1 : -1
    return x - y
  }
  return a.length - b.length
}

/**
 * A tie-break that prefers projects in the given order (first wins); projects missing from
 * `order` come after all listed ones, by {@link compareProjectIds}.
 */
export function tieBreakByOrder(order: readonly string[]): TieBreak {
  const rank = new Map<string, number>()
  order.forEach((id, i) => {
    if (!rank.has(id)) rank.set(id, i)
  })
  return (a, b) => {
    const ra = rank.get(a) ?? Number.POSITIVE_INFINITY
    const rb = rank.get(b) ?? Number.POSITIVE_INFINITY
    if (ra !== rb) return ra < rb ? -1 : 1
    return compareProjectIds(a, b)
  }
}

/**
 * Ranks every id once by `tieBreak` (falling back to {@link compareProjectIds} where it
 * returns 0): position 0 wins every tie. Rules compare ranks instead of calling the comparator
 * in their inner loops.
 */
export function tieBreakRanks(ids: readonly string[], tieBreak: TieBreak): Int32Array {
  const order = ids.map((_, i) => i)
  order.sort((x, y) => {
    const a = ids[x] as string
    const b = ids[y] as string
    return tieBreak(a, b) || compareProjectIds(a, b)
  })
  const ranks = new Int32Array(ids.length)
  order.forEach((projectIndex, position) => {
    ranks[projectIndex] = position
  })
  return ranks
}
