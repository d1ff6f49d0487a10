/**
 * Writes a Pabulib instance back as `.pb` text: META, PROJECTS and VOTES in that order, fields
 * quoted only where the format needs it, LF line endings and a final line break.
 *
 * ```ts
 * import { parsePabulib } from './parse-pabulib'
 * import { serializePabulib } from './serialize-pabulib'
 * const copy = parsePabulib(serializePabulib(parsePabulib(text))) // same META, projects and votes
 * ```
 * @module
 */
import { formatCsvRecord } from './pabulib-csv'
import type { PabulibInstance, PabulibTable } from './pabulib-instance'

function tableLines(name: string, table: PabulibTable): string[] {
  return [name, formatCsvRecord(table.columns), ...table.rows.map((row) => formatCsvRecord(table.columns.map((c) => row[c] ?? '')))]
}

/**
 * Serializes an instance. Lossless: parsing the result gives the same META entries, columns and
 * fields, in the same order; a file already written in this canonical form comes back byte for byte.
 */
export function serializePabulib(instance: PabulibInstance): string {
  const lines = [
    'META',
    'key;value',
    ...instance.meta.map((e) => formatCsvRecord([e.key, e.value])),
    ...tableLines('PROJECTS', instance.projects),
    ...tableLines('VOTES', instance.votes),
  ]
  return lines.join('\n') + '\n'
}
