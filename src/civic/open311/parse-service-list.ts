/**
 * Reading a GeoReport v2 service list (`GET services.json`) into a typed {@link ServiceCatalog},
 * tolerantly: repairs are reported, unknown fields kept, broken services reported on their own.
 *
 * ```ts
 * const read = parseServiceList(await response.text(), { district: 'north' })
 * read.catalog.services.map((s) => s.service_code)
 * ```
 * @module
 */
import { CabildoError, type SchemaIssue } from '../../errors'
import { districtCode } from '../../schema/common'
import { readBoolean, readText, type FieldRead, type Open311Coercion } from './field-readers'
import { getOwn, isJsonObject, jsonTypeOf, parseJsonInput, requireJsonArray, schemaError, setOwn, type JsonObject } from './json-input'
import { CatalogService, Open311ServiceType, type ServiceCatalog } from './service-list'

/** How to read a service list. */
export interface ParseServiceListOptions {
  /** The district whose list this is (GeoReport lists carry no district). Required. */
  readonly district: string
}

/** One service read from a list. */
export interface ServiceListEntry {
  /** Index of the service in the input list. */
  readonly index: number
  /** The service, typed, defaults filled. */
  readonly value: CatalogService
  /** Fields the service carried that GeoReport does not define, kept verbatim. */
  readonly extras: Readonly<Record<string, unknown>>
  /** What had to be repaired to read this service. */
  readonly coercions: readonly Open311Coercion[]
}

/** The outcome of reading one service. */
export type ServiceListResult =
  | { readonly ok: true; readonly index: number; readonly value: ServiceListEntry }
  | { readonly ok: false; readonly index: number; readonly error: CabildoError<'E_SCHEMA'>; readonly coercions: readonly Open311Coercion[] }

/** The outcome of reading a service list. */
export interface ServiceListRead {
  /** The district's catalog: the services that were read, in input order. */
  readonly catalog: ServiceCatalog
  /** One result per input service, in input order. */
  readonly results: readonly ServiceListResult[]
  /** The services that were read, with their extras and repairs, in input order. */
  readonly entries: readonly ServiceListEntry[]
  /** The services that could not be read (issue paths start with the service index). */
  readonly errors: readonly { readonly index: number; readonly error: CabildoError<'E_SCHEMA'> }[]
  /** Every repair made, in input order. */
  readonly coercions: readonly Open311Coercion[]
}

const serviceFields: ReadonlySet<string> = new Set(['service_code', 'service_name', 'description', 'metadata', 'type', 'keywords', 'group'])
const serviceTypes: ReadonlySet<string> = new Set(Object.values(Open311ServiceType))

function readServiceType(raw: unknown): FieldRead<string> {
  if (raw === undefined || raw === null) {
    return { kind: 'value', value: Open311ServiceType.realtime, note: { from: raw, to: Open311ServiceType.realtime, reason: 'missing type read as realtime' } }
  }
  if (typeof raw !== 'string') return { kind: 'invalid', code: 'invalid_type', message: `expected realtime, batch or blackbox, got ${jsonTypeOf(raw)}` }
  const word = raw.trim().toLowerCase()
  if (!serviceTypes.has(word)) {
    return { kind: 'invalid', code: 'invalid_value', message: `expected realtime, batch or blackbox, got ${JSON.stringify(raw)}` }
  }
  return word === raw ? { kind: 'value', value: word } : { kind: 'value', value: word, note: { from: raw, to: word, reason: 'type read in lower case' } }
}

/** Keywords: the spec's comma-separated string, or (a deviation) a JSON list of strings. */
function readKeywords(raw: unknown): FieldRead<string[]> {
  if (raw === undefined || raw === null) return { kind: 'value', value: [] }
  const tidy = (words: readonly string[]): string[] => words.map((word) => word.trim()).filter((word) => word !== '')
  if (typeof raw === 'string') return { kind: 'value', value: tidy(raw.split(',')) }
  if (Array.isArray(raw) && raw.every((word): word is string => typeof word === 'string')) {
    const value = tidy(raw)
    return { kind: 'value', value, note: { from: raw, to: value, reason: 'keyword list read as keywords' } }
  }
  return { kind: 'invalid', code: 'invalid_type', message: `expected a comma-separated string, got ${jsonTypeOf(raw)}` }
}

function readService(raw: unknown, index: number, seenCodes: Set<string>): ServiceListResult {
  if (!isJsonObject(raw)) {
    const issue: SchemaIssue = { path: [index], code: 'invalid_type', message: `expected a service object, got ${jsonTypeOf(raw)}` }
    return { ok: false, index, error: schemaError(`Open311 service ${index}: ${issue.message}`, [issue], 'service'), coercions: [] }
  }
  const coercions: Open311Coercion[] = []
  const issues: SchemaIssue[] = []
  const candidate: JsonObject = {}
  const take = <T>(field: string, read: FieldRead<T>): void => {
    if (read.kind === 'invalid') issues.push({ path: [index, field], code: read.code, message: `${field}: ${read.message}` })
    else {
      if (read.note !== undefined) coercions.push({ index, field, ...read.note })
      if (read.kind === 'value') setOwn(candidate, field, read.value)
    }
  }
  for (const field of ['service_code', 'service_name', 'description', 'group']) take(field, readText(getOwn(raw, field)))
  const metadata = readBoolean(getOwn(raw, 'metadata'))
  take('metadata', metadata.kind === 'absent' ? { kind: 'value', value: false, note: { from: getOwn(raw, 'metadata'), to: false, reason: 'missing metadata read as false' } } : metadata)
  take('type', readServiceType(getOwn(raw, 'type')))
  take('keywords', readKeywords(getOwn(raw, 'keywords')))

  const extras: JsonObject = {}
  for (const key of Object.keys(raw)) if (!serviceFields.has(key)) setOwn(extras, key, raw[key])

  const parsed = CatalogService.safeParse(candidate)
  const faulty = new Set(issues.map((issue) => issue.path[1]))
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = [index, ...issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key))]
      if (faulty.has(path[1])) continue
      issues.push({ path, code: issue.code, message: `${path.slice(1).join('.')}: ${issue.message}` })
    }
  } else if (seenCodes.has(parsed.data.service_code)) {
    issues.push({ path: [index, 'service_code'], code: 'duplicate', message: `service_code: "${parsed.data.service_code}" is listed twice` })
  }
  if (!parsed.success || issues.length > 0) {
    const message = `Open311 service ${index} is invalid: ${issues.map((issue) => issue.message).join('; ')}`
    return { ok: false, index, error: schemaError(message, issues, 'service'), coercions }
  }
  seenCodes.add(parsed.data.service_code)
  return { ok: true, index, value: { index, value: parsed.data, extras, coercions } }
}

/**
 * Reads a GeoReport v2 service list into the district's catalog, tolerantly: a numeric
 * `service_code` becomes text, `metadata` given as `"true"`/`"false"` becomes a boolean and a
 * missing one `false`, `type` is read case-insensitively and a missing one as `realtime`, keywords
 * given as a JSON list are accepted; each repair is reported. A service that is still invalid, or
 * repeats an earlier service code, is reported in `errors` and left out of the catalog.
 *
 * @param input - JSON text or the parsed value (an array of service objects)
 * @param options - the district whose list this is
 * @throws CabildoError `E_PARSE` (format `open311`) when the text is not JSON or the value is not
 *   an array; `E_ARGUMENT` when `options.district` is not a district code.
 */
export function parseServiceList(input: unknown, options: ParseServiceListOptions): ServiceListRead {
  const district: unknown = (options as Partial<ParseServiceListOptions> | undefined)?.district
  if (!districtCode.safeParse(district).success) {
    throw new CabildoError('E_ARGUMENT', 'options.district must be a district code (1 to 100 characters)', {
      argument: 'options.district',
      reason: `expected a district code, got ${jsonTypeOf(district)}`,
    })
  }
  const list = requireJsonArray(parseJsonInput(input), 'services')
  const seenCodes = new Set<string>()
  const results = list.map((raw, index) => readService(raw, index, seenCodes))
  const entries: ServiceListEntry[] = []
  const errors: { index: number; error: CabildoError<'E_SCHEMA'> }[] = []
  const coercions: Open311Coercion[] = []
  for (const result of results) {
    if (result.ok) {
      entries.push(result.value)
      coercions.push(...result.value.coercions)
    } else {
      errors.push({ index: result.index, error: result.error })
      coercions.push(...result.coercions)
    }
  }
  const services = entries.map((entry) => entry.value)
  return { catalog: { district: district as string, services }, results, entries, errors, coercions }
}
