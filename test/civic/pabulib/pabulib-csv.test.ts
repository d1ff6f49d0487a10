import { describe, expect, it } from 'vitest'
import { CabildoError } from '../../../src/errors'
import { formatCsvRecord, readCsvRecords } from '../../../src/civic/pabulib/pabulib-csv'

function parseError(text: string): { line?: number; reason: string } {
  try {
    readCsvRecords(text)
  } catch (err) {
    if (CabildoError.is(err, 'E_PARSE')) return { ...(err.details.line === undefined ? {} : { line: err.details.line }), reason: err.details.reason }
  }
  throw new Error('expected an E_PARSE error')
}

describe('Pabulib CSV dialect', () => {
  it('splits on semicolons and unquotes doubled quotes', () => {
    expect(readCsvRecords('a;b;c\n1;"""Radość Życia""";"x;y"\n')).toEqual([
      { fields: ['a', 'b', 'c'], line: 1 },
      { fields: ['1', '"Radość Życia"', 'x;y'], line: 2 },
    ])
  })

  it('keeps line breaks inside quoted fields and counts lines across them', () => {
    expect(readCsvRecords('id;name\r\n1;"two\nlines"\r\n2;plain\r\n')).toEqual([
      { fields: ['id', 'name'], line: 1 },
      { fields: ['1', 'two\nlines'], line: 2 },
      { fields: ['2', 'plain'], line: 4 },
    ])
  })

  it('skips blank lines and a byte order mark, keeps empty fields', () => {
    expect(readCsvRecords('\uFEFFMETA\n\n  \nk;\n;\n')).toEqual([
      { fields: ['META'], line: 1 },
      { fields: ['k', ''], line: 4 },
      { fields: ['', ''], line: 5 },
    ])
  })

  it('reports an unterminated quote at the line where the field starts', () => {
    expect(parseError('a;b\n1;"never\nclosed\n')).toEqual({ line: 2, reason: 'unterminated quoted field' })
  })

  it('reports text after a closing quote', () => {
    expect(parseError('a;b\n1;"x"y\n')).toEqual({ line: 2, reason: 'text after a closing quote' })
  })

  it('quotes only fields that need it, and reads back what it writes', () => {
    const fields = ['plain', 'semi;colon', 'say "hi"', 'two\nlines', '', ' spaced ']
    const line = formatCsvRecord(fields)
    expect(line).toBe('plain;"semi;colon";"say ""hi""";"two\nlines";; spaced ')
    expect(readCsvRecords(line)[0]?.fields).toEqual(fields)
    // a lone empty field is written quoted, or it would read back as a blank line
    expect(readCsvRecords(formatCsvRecord(['']))[0]?.fields).toEqual([''])
  })
})
