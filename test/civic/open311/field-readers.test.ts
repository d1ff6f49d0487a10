import { describe, expect, it } from 'vitest'
import { readCoordinate, readDateTime, readIdentifier, readMediaUrl, readText } from '../../../src/civic/open311/field-readers'

describe('readDateTime', () => {
  it.each([
    '2026-11-03T08:15:00Z',
    '2026-11-03T08:15:00+01:00',
    '2026-11-03T08:15:00.123-05:00',
  ])('keeps the spec form %s unchanged and reports nothing', (text) => {
    expect(readDateTime(text, 'Z')).toEqual({ kind: 'value', value: text })
  })

  it.each([
    ['2026-11-03 08:15:00', '2026-11-03T08:15:00+02:00'],
    ['2026-11-03 08:15:00Z', '2026-11-03T08:15:00Z'],
    ['2026-11-03T08:15', '2026-11-03T08:15:00+02:00'],
    ['2026-11-03T08:15:00+0100', '2026-11-03T08:15:00+01:00'],
    ['2026-11-03T08:15:00-05', '2026-11-03T08:15:00-05:00'],
    ['2026-11-03t08:15:00z', '2026-11-03T08:15:00Z'],
    ['2026-11-03T08:15:00,5Z', '2026-11-03T08:15:00.5Z'],
    [' 2026-11-03T08:15:00Z ', '2026-11-03T08:15:00Z'],
  ])('repairs %j into %s and reports it', (text, value) => {
    const read = readDateTime(text, '+02:00')
    expect(read).toMatchObject({ kind: 'value', value, note: { from: text, to: value } })
  })

  it('reports the offset it assumed', () => {
    const read = readDateTime('2026-11-03 08:15:00', '-03:00')
    expect(read.kind === 'value' && read.note?.reason).toContain('assumed -03:00')
  })

  it.each(['N/A', '2026-11-03', '03/11/2026 08:15', '2026-13-03T08:15:00Z', '2026-11-03T25:00:00'])(
    'rejects %j as invalid_format',
    (text) => {
      expect(readDateTime(text, 'Z')).toMatchObject({ kind: 'invalid', code: 'invalid_format' })
    },
  )

  it('rejects a number as invalid_type and reads null and "" as absent', () => {
    expect(readDateTime(1762157700, 'Z')).toMatchObject({ kind: 'invalid', code: 'invalid_type' })
    expect(readDateTime(null, 'Z')).toEqual({ kind: 'absent' })
    expect(readDateTime('', 'Z')).toMatchObject({ kind: 'absent', note: { from: '' } })
  })
})

describe('readCoordinate', () => {
  it('keeps numbers, reads numeric strings as numbers and reports it, rejects other text', () => {
    expect(readCoordinate(40.5)).toEqual({ kind: 'value', value: 40.5 })
    expect(readCoordinate('-3.70102')).toMatchObject({ kind: 'value', value: -3.70102, note: { from: '-3.70102' } })
    expect(readCoordinate('4.1e1')).toMatchObject({ kind: 'value', value: 41 })
    expect(readCoordinate('40,5')).toMatchObject({ kind: 'invalid', code: 'invalid_type' })
    expect(readCoordinate('0x10')).toMatchObject({ kind: 'invalid' })
    expect(readCoordinate(true)).toMatchObject({ kind: 'invalid' })
    expect(readCoordinate(Number.NaN)).toMatchObject({ kind: 'invalid' })
  })
})

describe('readText and readIdentifier', () => {
  it('keep text untouched, read numbers and booleans as text, reject objects', () => {
    expect(readText('  spaced  ')).toEqual({ kind: 'value', value: '  spaced  ' })
    expect(readText(28014)).toMatchObject({ kind: 'value', value: '28014', note: { from: 28014, to: '28014' } })
    expect(readText(false)).toMatchObject({ kind: 'value', value: 'false' })
    expect(readText({})).toMatchObject({ kind: 'invalid', code: 'invalid_type' })
    expect(readText('')).toEqual({ kind: 'value', value: '' })
  })

  it('read an empty identifier as absent and report it', () => {
    expect(readIdentifier('')).toMatchObject({ kind: 'absent', note: { from: '' } })
  })
})

describe('readMediaUrl', () => {
  it('keeps one URL, takes the first of a list and reports the whole list', () => {
    expect(readMediaUrl('https://a.example/1.jpg')).toEqual({ kind: 'value', value: 'https://a.example/1.jpg' })
    expect(readMediaUrl(['https://a.example/1.jpg'])).toMatchObject({ kind: 'value', value: 'https://a.example/1.jpg' })
    expect(readMediaUrl([])).toMatchObject({ kind: 'absent' })
    expect(readMediaUrl([3])).toMatchObject({ kind: 'invalid' })
    expect(readMediaUrl({ url: 'x' })).toMatchObject({ kind: 'invalid' })
  })
})
