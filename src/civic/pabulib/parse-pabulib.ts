/**
 * Reads Pabulib `.pb` files (META, PROJECTS and VOTES sections) into plain typed data.
 *
 * ```ts
 * import { parsePabulib } from './parse-pabulib'
 * import { serializePabulib } from './serialize-pabulib'
 * const instance = parsePabulib(text)
 * instance.meta.find((e) => e.key === 'budget')?.value // '1000000'
 * serializePabulib(instance) === text // for files written in the canonical dialect
 * ```
 * @module
 */
import { pabulibError, readCsvRecords, type CsvRecord } from './pabulib-csv'
import { pabulibToElection, type PabulibLines } from './pabulib-election'
import type { PabulibInstance, PabulibMetaEntry, PabulibRow, PabulibTable } from './pabulib-instance'

type Section = 'meta' | 'projects' | 'votes'

const SECTIONS: readonly Section[] = ['meta', 'projects', 'votes']

function sectionOf(record: CsvRecord): Section | undefined {
  if (record.fields.length !== 1) return undefined
  const name = (record.fields[0] ?? '').trim().toLowerCase()
  return SECTIONS.find((s) => s === name)
}

interface RawSection {
  readonly header: CsvRecord
  readonly rows: CsvRecord[]
}

function tableOf(section: RawSection, name: string): PabulibTable {
  const columns = section.header.fields.map((c) => c.trim())
  const seen = new Set<string>()
  for (const c of columns) {
    if (c === '') throw pabulibError(section.header.line, `${name} header has an empty column name`)
    if (seen.has(c)) throw pabulibError(section.header.line, `${name} header repeats column ${JSON.stringify(c)}`, c)
    seen.add(c)
  }
  const rows = section.rows.map((record): PabulibRow => {
    if (record.fields.length !== columns.length) {
      throw pabulibError(record.line, `${name} row has ${record.fields.length} fields, header has ${columns.length}`)
    }
    return Object.fromEntries(columns.map((c, k) => [c, record.fields[k] as string]))
  })
  return { columns, rows }
}

/**
 * Parses a `.pb` text. Keeps every META entry, column and field as written (quotes removed),
 * and checks what the format defines: the three sections, rows as wide as their header, a
 * `budget` and a known `vote_type`, `project_id` and `cost` columns, unique ids, exact costs,
 * and votes that name known projects with matching points.
 * @throws CabildoError `E_PARSE` with `format: 'pabulib'`, the `line` at fault and a `reason`
 */
export function parsePabulib(text: string): PabulibInstance {
  const sections = new Map<Section, RawSection>()
  let current: RawSection | undefined
  const records = readCsvRecords(text)
  for (let k = 0; k < records.length; k++) {
    const record = records[k] as CsvRecord
    const name = sectionOf(record)
    if (name !== undefined) {
      if (sections.has(name)) throw pabulibError(record.line, `second ${name.toUpperCase()} section`)
      const header = records[k + 1]
      if (header === undefined || sectionOf(header) !== undefined) {
        throw pabulibError(record.line, `${name.toUpperCase()} section has no header line`)
      }
      current = { header, rows: [] }
      sections.set(name, current)
      k++
      continue
    }
    if (current === undefined) throw pabulibError(record.line, 'data before the META section')
    current.rows.push(record)
  }
  for (const name of SECTIONS) {
    if (!sections.has(name)) throw pabulibError(undefined, `missing ${name.toUpperCase()} section`)
  }
  const metaSection = sections.get('meta') as RawSection
  if (metaSection.header.fields.length !== 2) throw pabulibError(metaSection.header.line, 'META header must be key;value')
  const meta = metaSection.rows.map((record): PabulibMetaEntry => {
    if (record.fields.length !== 2) throw pabulibError(record.line, `META line has ${record.fields.length} fields, expected key;value`)
    return { key: record.fields[0] as string, value: record.fields[1] as string }
  })
  const projectsSection = sections.get('projects') as RawSection
  const votesSection = sections.get('votes') as RawSection
  const instance: PabulibInstance = {
    meta,
    projects: tableOf(projectsSection, 'PROJECTS'),
    votes: tableOf(votesSection, 'VOTES'),
  }
  const lines: PabulibLines = {
    meta: metaSection.rows.map((r) => r.line),
    projectsHeader: projectsSection.header.line,
    projects: projectsSection.rows.map((r) => r.line),
    votesHeader: votesSection.header.line,
    votes: votesSection.rows.map((r) => r.line),
  }
  pabulibToElection(instance, lines)
  return instance
}
