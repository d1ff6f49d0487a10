/**
 * Malformed outside formats: Open311 GeoReport v2 JSON (service requests, service lists) and
 * Pabulib `.pb` text, built from genuine ones. Importers must answer each with a typed
 * `CabildoError` or with their documented tolerant report, never with anything else.
 *
 * ```ts
 * import { malformedOpen311, malformedPabulib } from 'cabildo/testing'
 * for (const c of malformedPabulib({ random, genuine: pbText })) expectParseErrorOrInstance(() => parsePabulib(c.input))
 * ```
 * @module
 */
import type { SeededRandom } from '../../transports/seeded-random'
import type { MalformedCase } from './byte-mutations'

/** Junk values of every JSON kind (and a few that are not JSON), for replacing a field. */
function junk(random: SeededRandom): unknown {
  const kinds: Array<() => unknown> = [
    () => null,
    () => random.int(-1e9, 1e9),
    () => random.next() * 1e308 * 10, // Infinity when it overflows
    () => Number.NaN,
    () => '',
    () => 'x'.repeat(random.int(1, 100_000)),
    () => '\u0000\uD800 lone surrogate',
    () => true,
    () => [],
    () => [1, 'two', null],
    () => ({}),
    () => ({ nested: { deeper: [1, 2, 3] } }),
    () => '2026-13-45T99:99:99Z',
    () => '-0',
    () => 1e21,
  ]
  return (kinds[random.int(0, kinds.length - 1)] as () => unknown)()
}

/** Options of {@link malformedOpen311}. */
export interface MalformedOpen311Options {
  readonly random: SeededRandom
  /** Genuine GeoReport v2 JSON text: a list of service requests (or of services). */
  readonly genuine: string
  /** Field replacements on the parsed list (default 300). */
  readonly edits?: number
}

/**
 * Malformed Open311 input: truncations and character edits of the JSON text, values that are
 * not lists, lists of junk, and the genuine list with fields replaced by junk of every kind,
 * deleted, duplicated under `__proto__`, nested deep, or made huge.
 */
export function malformedOpen311(options: MalformedOpen311Options): Array<MalformedCase<unknown>> {
  const { random, genuine, edits = 300 } = options
  const cases: Array<MalformedCase<unknown>> = []
  const positions = new Set<number>()
  for (let i = 0; i < 128; i++) positions.add(Math.floor((i * genuine.length) / 128))
  for (const n of positions) cases.push({ family: 'truncated', name: `JSON text truncated to ${n} of ${genuine.length} characters`, input: genuine.slice(0, n) })
  for (let i = 0; i < 100; i++) {
    const at = random.int(0, genuine.length - 1)
    const char = String.fromCharCode(random.int(0, 127))
    cases.push({ family: 'char-edit', name: `JSON text with character ${at} set to ${JSON.stringify(char)}`, input: genuine.slice(0, at) + char + genuine.slice(at + 1) })
  }
  for (const [name, input] of [['null', null], ['undefined', undefined], ['a number', 42], ['a string that is no JSON', 'not json'], ['an object', {}], ['JSON of an object', '{"service_requests": []}'], ['a list of junk', [null, 1, 'x', [], {}, true]]] as const) {
    cases.push({ family: 'not-a-list', name, input })
  }
  const list = JSON.parse(genuine) as unknown[]
  const objects = list.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null && !Array.isArray(item))
  for (let i = 0; i < edits && objects.length > 0; i++) {
    const index = random.int(0, objects.length - 1)
    const original = objects[index] as Record<string, unknown>
    const fields = Object.keys(original)
    const field = fields[random.int(0, fields.length - 1)] ?? 'service_code'
    const edited: Record<string, unknown> = { ...original }
    const kind = random.int(0, 2)
    if (kind === 0) delete edited[field]
    else edited[field] = junk(random)
    const input = objects.map((item, k) => (k === index ? edited : item))
    cases.push({ family: 'field-edit', name: `request ${index} with ${field} ${kind === 0 ? 'deleted' : 'replaced by junk'}`, input })
  }
  cases.push({ family: 'prototype', name: 'a request with a __proto__ key', input: `[${JSON.stringify(objects[0] ?? {}).replace(/^\{/, '{"__proto__":{"status":"closed"},')}]` })
  cases.push({ family: 'deep', name: 'a request nested 5,000 levels deep', input: `[${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}]` })
  cases.push({ family: 'huge', name: '20,000 empty requests', input: Array.from({ length: 20_000 }, () => ({})) })
  return cases
}

/** Options of {@link malformedPabulib}. */
export interface MalformedPabulibOptions {
  readonly random: SeededRandom
  /** A genuine `.pb` text. */
  readonly genuine: string
  /** Line and field edits (default 300). */
  readonly edits?: number
}

/**
 * Malformed Pabulib text: truncations, lines removed, repeated or swapped, fields replaced by
 * junk (huge and non-numeric amounts, stray quotes and separators, NUL, long runs), section
 * headers lost, and line endings mixed.
 */
export function malformedPabulib(options: MalformedPabulibOptions): Array<MalformedCase<string>> {
  const { random, genuine, edits = 300 } = options
  const cases: Array<MalformedCase<string>> = []
  const positions = new Set<number>()
  for (let i = 0; i < 128; i++) positions.add(Math.floor((i * genuine.length) / 128))
  for (const n of positions) cases.push({ family: 'truncated', name: `truncated to ${n} of ${genuine.length} characters`, input: genuine.slice(0, n) })
  const lines = genuine.split('\n')
  const junkFields = ['', '"', '""x', ';', ';;;', '1e999', '-1', '0x10', 'NaN', '99999999999999999999999999999999', '1,2,3', 'L18/01,L18/01', '\u0000', 'x'.repeat(100_000), '3.', '.5', ' 7 ']
  for (let i = 0; i < edits; i++) {
    const edited = [...lines]
    const at = random.int(0, lines.length - 1)
    const kind = random.int(0, 3)
    let name: string
    if (kind === 0) {
      edited.splice(at, 1)
      name = `line ${at + 1} removed`
    } else if (kind === 1) {
      edited.splice(at, 0, lines[at] ?? '')
      name = `line ${at + 1} repeated`
    } else if (kind === 2) {
      const other = random.int(0, lines.length - 1)
      edited[at] = lines[other] ?? ''
      edited[other] = lines[at] ?? ''
      name = `lines ${at + 1} and ${other + 1} swapped`
    } else {
      const fields = (lines[at] ?? '').split(';')
      const field = random.int(0, fields.length - 1)
      const value = junkFields[random.int(0, junkFields.length - 1)] ?? ''
      fields[field] = value
      edited[at] = fields.join(';')
      name = `line ${at + 1} field ${field + 1} set to ${JSON.stringify(value.slice(0, 20))}`
    }
    cases.push({ family: 'line-edit', name, input: edited.join('\n') })
  }
  for (const section of ['META', 'PROJECTS', 'VOTES']) {
    cases.push({ family: 'section', name: `without the ${section} header`, input: lines.filter((line) => line.trim() !== section).join('\n') })
  }
  cases.push({ family: 'line-endings', name: 'CRLF and CR line endings mixed', input: lines.map((line, i) => line + (i % 2 === 0 ? '\r\n' : '\r')).join('') })
  cases.push({ family: 'huge', name: '100,000 votes of unknown projects', input: `${genuine.trimEnd()}\n${Array.from({ length: 100_000 }, (_, i) => `v${i};nope;1;`).join('\n')}\n` })
  return cases
}
