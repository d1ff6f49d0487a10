/**
 * The CSV dialect of Pabulib `.pb` files: fields separated by `;`, a field that starts with `"`
 * is quoted and doubles any `"` inside (it may then hold `;` and line breaks), lines end with
 * LF, CRLF or CR. This is Python's `csv` "excel" dialect with `delimiter=";"`, which Pabulib's
 * own tools read and write.
 * @module
 */
import { CabildoError } from '../../errors'

/** One record of a `.pb` file with the (1-based) line it starts on. */
export interface CsvRecord {
  /** The fields, unquoted. */
  readonly fields: string[]
  /** Line number of the record's first character. */
  readonly line: number
}

/** A parse error in a `.pb` file at a line. */
export function pabulibError(line: number | undefined, reason: string, field?: string): CabildoError<'E_PARSE'> {
  const where = line === undefined ? '' : ` (line ${line})`
  return new CabildoError('E_PARSE', `malformed Pabulib file${where}: ${reason}`, {
    format: 'pabulib',
    reason,
    ...(line === undefined ? {} : { line }),
    ...(field === undefined ? {} : { field }),
  })
}

/**
 * Splits a `.pb` text into records. Blank lines are skipped; a leading byte order mark is ignored.
 * @throws CabildoError `E_PARSE` (with the line) for an unterminated quoted field or text
 *   between a closing quote and the next `;`
 */
export function readCsvRecords(text: string): CsvRecord[] {
  const records: CsvRecord[] = []
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let line = 1
  const n = text.length
  while (i < n) {
    const start = line
    const fields: string[] = []
    let field = ''
    let quoted = false
    for (;;) {
      if (i < n && text[i] === '"' && field === '') {
        // Quoted field: runs to the next quote not followed by another quote.
        quoted = true
        i++
        for (;;) {
          if (i >= n) throw pabulibError(start, 'unterminated quoted field')
          const ch = text[i] as string
          if (ch === '"') {
            if (text[i + 1] === '"') {
              field += '"'
              i += 2
              continue
            }
            i++
            break
          }
          if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) line++
          field += ch
          i++
        }
        const next = text[i]
        if (i < n && next !== ';' && next !== '\n' && next !== '\r') {
          throw pabulibError(line, 'text after a closing quote')
        }
      }
      // Unquoted text up to the next separator or line end.
      let j = i
      while (j < n) {
        const c = text.charCodeAt(j)
        if (c === 59 /* ; */ || c === 10 || c === 13) break
        j++
      }
      if (j > i) {
        field += text.slice(i, j)
        i = j
      }
      fields.push(field)
      field = ''
      if (i < n && text[i] === ';') {
        i++
        continue
      }
      break
    }
    // Line end (or end of text).
    if (text[i] === '\r') i++
    if (text[i] === '\n') i++
    line++
    // Blank (or whitespace-only) lines separate nothing and are skipped, as Pabulib's tools do.
    if (quoted || fields.length > 1 || (fields[0] ?? '').trim() !== '') records.push({ fields, line: start })
  }
  return records
}

/** Quotes a field when it needs it (holds `;`, `"` or a line break), doubling inner quotes. */
export function formatCsvField(value: string): string {
  return /[;"\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}

/**
 * Formats one record as a line, without its line break. A record of one empty field is
 * written `""` so that it is not read back as a blank line.
 */
export function formatCsvRecord(fields: readonly string[]): string {
  if (fields.length === 1 && (fields[0] ?? '').trim() === '') return `"${(fields[0] ?? '').replace(/"/g, '""')}"`
  return fields.map(formatCsvField).join(';')
}
