import { describe, expect, it } from 'vitest'
import { compareProjectIds, tieBreakByOrder, tieBreakRanks } from '../../../src/civic/budgeting/tie-break'

describe('tie-break', () => {
  it('compares ids as strings, as the reference implementation does: "10" wins over "9"', () => {
    expect(compareProjectIds('10', '9')).toBeLessThan(0)
    expect(compareProjectIds('L18/01/VII', 'L18/02/VII')).toBeLessThan(0)
    expect(compareProjectIds('a', 'ab')).toBeLessThan(0)
    expect(compareProjectIds('b', 'b')).toBe(0)
  })

  it('orders by Unicode code point, not UTF-16 unit (as Python compares str)', () => {
    // U+FF5E (one unit, 0xFF5E) comes before U+1F600 (surrogates 0xD83D 0xDE00) by code point,
    // although 0xD83D < 0xFF5E as UTF-16 units.
    expect(compareProjectIds('\uFF5E', '\u{1F600}')).toBeLessThan(0)
    expect(compareProjectIds('\u{1F600}', '\uFF5E')).toBeGreaterThan(0)
    expect('\u{1F600}' < '\uFF5E').toBe(true) // what plain JS comparison would do
  })

  it('ranks projects by a given preference order, unlisted ones last by id', () => {
    const tb = tieBreakByOrder(['z', 'b'])
    expect(['a', 'b', 'z', 'c'].sort(tb)).toEqual(['z', 'b', 'a', 'c'])
    expect(Array.from(tieBreakRanks(['a', 'b', 'z', 'c'], tb))).toEqual([2, 1, 0, 3])
  })

  it('completes a comparator that leaves ties with the id order', () => {
    const everythingTied = (): number => 0
    expect(Array.from(tieBreakRanks(['9', '10', '1'], everythingTied))).toEqual([2, 1, 0])
  })
})
