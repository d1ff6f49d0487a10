/**
 * Reading GeoReport v2 service requests into ticket values, tolerantly: known deviations of public
 * servers are repaired and reported, unknown fields are kept, and a broken request is reported on
 * its own while the others are still read.
 *
 * ```ts
 * const read = fromOpen311(await response.text(), { district: 'north' })
 * for (const t of read.tickets) await space.tickets.create(t.value)
 * for (const { index, error } of read.errors) console.warn(index, error.details.issues)
 * ```
 * @module
 */
import { CabildoError, type SchemaIssue } from '../../errors'
import { districtCode } from '../../schema/common'
import type { BaseField } from '../../schema/record-type'
import { ServiceTicket, TicketStatus } from '../../schema/ticket'
import {
  readBoolean,
  readCoordinate,
  readDateTime,
  readIdentifier,
  readMediaUrl,
  readText,
  type FieldRead,
  type Open311Coercion,
} from './field-readers'
import { GeoReportStatus, Open311Extension, isReservedRequestField } from './georeport-request'
import { OPEN311_FORMAT, getOwn, isJsonObject, jsonTypeOf, parseJsonInput, requireJsonArray, schemaError, setOwn, type JsonObject } from './json-input'
import { readVendorStatus, sameGeoReportStatus, toGeoReportStatus } from './lifecycle-mapping'

/** A ticket's own fields, without the base fields the binding assigns (`id`, `schemaVersion`, `archived`): what `create` takes. */
export type Open311TicketValue = Omit<ServiceTicket, BaseField>

/** How to read GeoReport requests. */
export interface FromOpen311Options {
  /**
   * The district of every ticket whose request has no `x_cabildo_district` field. Required:
   * GeoReport has no district (a server serves one jurisdiction), so the caller, who knows which
   * server it asked, names it. A request's own `x_cabildo_district` wins over this value.
   */
  readonly district: string
  /**
   * The UTC offset (`Z` or `±hh:mm`) assumed for date-times published without one, which the spec
   * forbids but servers publish. Default `Z`. Each such assumption is reported as a coercion.
   */
  readonly defaultOffset?: string
}

/** One service request read into a ticket value. */
export interface Open311TicketRead {
  /** Index of the request in the input list (0 for a single request). */
  readonly index: number
  /** The request's `service_request_id` as text, as it arrived (numbers become their decimal text). */
  readonly serviceRequestId: string | undefined
  /** The ticket value, valid against the ticket schema, ready to `create`. */
  readonly value: Open311TicketValue
  /** The ticket's `archived` flag from `x_cabildo_archived`, when the request carries one. */
  readonly archived: boolean | undefined
  /** Fields the request carried that are neither GeoReport's nor cabildo's, kept verbatim. */
  readonly extras: Readonly<Record<string, unknown>>
  /** What had to be repaired to read this request. */
  readonly coercions: readonly Open311Coercion[]
}

/** The outcome of reading one request: the ticket, or the typed error naming the fields at fault. */
export type Open311RequestResult =
  | { readonly ok: true; readonly index: number; readonly value: Open311TicketRead }
  | {
      readonly ok: false
      readonly index: number
      /** `E_SCHEMA`; every issue's `path` starts with the request index, then the field. */
      readonly error: CabildoError<'E_SCHEMA'>
      /** Repairs made before the request was found invalid. */
      readonly coercions: readonly Open311Coercion[]
    }

/** The outcome of reading a list of requests. */
export interface Open311Read {
  /** One result per input request, in input order. */
  readonly results: readonly Open311RequestResult[]
  /** The requests that were read, in input order. */
  readonly tickets: readonly Open311TicketRead[]
  /** The requests that could not be read, in input order. */
  readonly errors: readonly { readonly index: number; readonly error: CabildoError<'E_SCHEMA'> }[]
  /** Every repair made, over all requests, in input order. */
  readonly coercions: readonly Open311Coercion[]
}

const ticketValueSchema = ServiceTicket.schema.omit({ id: true, schemaVersion: true, archived: true })
const lifecycleStates: ReadonlySet<string> = new Set(Object.values(TicketStatus))
const offsetPattern = /^(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/

const textFields = [
  'status_notes',
  'service_name',
  'service_code',
  'description',
  'agency_responsible',
  'service_notice',
  'address',
  'address_id',
  'zipcode',
] as const
const dateTimeFields = ['requested_datetime', 'updated_datetime', 'expected_datetime'] as const
const coordinateFields = ['lat', 'long'] as const

interface ResolvedOptions {
  readonly district: string
  readonly defaultOffset: string
}

function resolveOptions(options: FromOpen311Options): ResolvedOptions {
  const given = options as Partial<FromOpen311Options> | undefined
  const district: unknown = given?.district
  if (!districtCode.safeParse(district).success) {
    throw new CabildoError('E_ARGUMENT', 'options.district must be a district code (1 to 100 characters)', {
      argument: 'options.district',
      reason: `expected a district code, got ${jsonTypeOf(district)}`,
    })
  }
  const defaultOffset = given?.defaultOffset ?? 'Z'
  if (!offsetPattern.test(defaultOffset)) {
    throw new CabildoError('E_ARGUMENT', 'options.defaultOffset must be "Z" or an offset such as "+01:00"', {
      argument: 'options.defaultOffset',
      reason: `expected Z or ±hh:mm, got ${JSON.stringify(defaultOffset)}`,
    })
  }
  return { district: district as string, defaultOffset }
}

/** Collects the repairs and issues of one request while its fields are read. */
class RequestReader {
  readonly coercions: Open311Coercion[] = []
  readonly issues: SchemaIssue[] = []

  constructor(readonly index: number) {}

  accept<T>(field: string, read: FieldRead<T>): T | undefined {
    if (read.kind === 'invalid') {
      this.issues.push({ path: [this.index, field], code: read.code, message: `${field}: ${read.message}` })
      return undefined
    }
    if (read.note !== undefined) this.coercions.push({ index: this.index, field, ...read.note })
    return read.kind === 'value' ? read.value : undefined
  }

  coerce(field: string, from: unknown, to: unknown, reason: string): void {
    this.coercions.push({ index: this.index, field, from, to, reason })
  }
}

/**
 * The lifecycle state of a request. The spec's `status` decides open or closed; a cabildo
 * `x_cabildo_status` with the same projection refines it; one that contradicts `status` was left
 * stale by a system that changed `status` without knowing the extension, so `status` wins.
 */
function readLifecycle(raw: JsonObject, reader: RequestReader): TicketStatus {
  const rawStatus = getOwn(raw, 'status')
  const rawExtension = getOwn(raw, Open311Extension.status)
  let extension: TicketStatus | undefined
  if (typeof rawExtension === 'string' && lifecycleStates.has(rawExtension)) extension = rawExtension as TicketStatus
  else if (rawExtension !== undefined && rawExtension !== null) {
    reader.coerce(Open311Extension.status, rawExtension, undefined, 'not a cabildo lifecycle state; ignored')
  }

  let fromStatus: TicketStatus | undefined
  if (rawStatus === GeoReportStatus.open || rawStatus === GeoReportStatus.closed) fromStatus = rawStatus
  else if (typeof rawStatus === 'string') fromStatus = readVendorStatus(rawStatus)

  let state: TicketStatus
  if (fromStatus === undefined) state = extension ?? TicketStatus.open
  else if (extension !== undefined && sameGeoReportStatus(extension, fromStatus)) state = extension
  else {
    state = fromStatus
    if (extension !== undefined) {
      reader.coerce(Open311Extension.status, extension, state, `contradicts status ${JSON.stringify(rawStatus)}; status wins`)
    }
  }

  if (rawStatus !== toGeoReportStatus(state)) {
    const reason =
      rawStatus === undefined || rawStatus === null
        ? `missing status read as ${state}`
        : fromStatus === undefined
          ? `unrecognised status read as ${state}`
          : `status word read as the lifecycle state ${state}`
    reader.coerce('status', rawStatus, state, reason)
  }
  return state
}

function readDistrict(raw: JsonObject, reader: RequestReader, fallback: string): string {
  const rawDistrict = getOwn(raw, Open311Extension.district)
  const district = reader.accept(Open311Extension.district, readText(rawDistrict))
  if (district === '') {
    reader.coerce(Open311Extension.district, rawDistrict, fallback, 'empty district read as the default district')
    return fallback
  }
  return district ?? fallback
}

/** Reads one request; never throws. */
function readRequest(raw: unknown, index: number, options: ResolvedOptions): Open311RequestResult {
  if (!isJsonObject(raw)) {
    const issue: SchemaIssue = {
      path: [index],
      code: 'invalid_type',
      message: `expected a service request object, got ${jsonTypeOf(raw)}`,
    }
    return { ok: false, index, error: schemaError(`Open311 request ${index}: ${issue.message}`, [issue], ServiceTicket.name), coercions: [] }
  }
  const reader = new RequestReader(index)
  const candidate: JsonObject = {}
  const put = (field: string, value: unknown): void => {
    if (value !== undefined) setOwn(candidate, field, value)
  }

  const serviceRequestId = reader.accept('service_request_id', readIdentifier(getOwn(raw, 'service_request_id')))
  put('status', readLifecycle(raw, reader))
  for (const field of textFields) put(field, reader.accept(field, readText(getOwn(raw, field))))
  for (const field of dateTimeFields) put(field, reader.accept(field, readDateTime(getOwn(raw, field), options.defaultOffset)))
  for (const field of coordinateFields) put(field, reader.accept(field, readCoordinate(getOwn(raw, field))))
  put('media_url', reader.accept('media_url', readMediaUrl(getOwn(raw, 'media_url'))))
  const districtFromRequest = getOwn(raw, Open311Extension.district) !== undefined
  put('district', readDistrict(raw, reader, options.district))
  const archived = reader.accept(Open311Extension.archived, readBoolean(getOwn(raw, Open311Extension.archived)))

  const extras: JsonObject = {}
  for (const key of Object.keys(raw)) if (!isReservedRequestField(key)) setOwn(extras, key, raw[key])

  const parsed = ticketValueSchema.safeParse(candidate)
  const faulty = new Set(reader.issues.map((issue) => issue.path[1]))
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [first, ...rest] = issue.path
      // The ticket's `district` is the request's `x_cabildo_district` when it came from there.
      const field = first === 'district' && districtFromRequest ? Open311Extension.district : String(first)
      if (faulty.has(field)) continue
      reader.issues.push({ path: [index, field, ...rest.map((key) => (typeof key === 'symbol' ? String(key) : key))], code: issue.code, message: `${field}: ${issue.message}` })
    }
  }
  if (!parsed.success || reader.issues.length > 0) {
    const message = `Open311 request ${index} is invalid: ${reader.issues.map((issue) => issue.message).join('; ')}`
    return { ok: false, index, error: schemaError(message, reader.issues, ServiceTicket.name), coercions: reader.coercions }
  }
  const value: Open311TicketValue = parsed.data
  return { ok: true, index, value: { index, serviceRequestId, value, archived, extras, coercions: reader.coercions } }
}

/**
 * Reads a GeoReport v2 service request list (the JSON of `GET requests.json`), tolerantly: each
 * request is read on its own, repairs are reported in `coercions`, broken requests in `errors`,
 * and the valid ones are returned in `tickets`.
 *
 * @param input - JSON text, or the parsed JSON value (an array of request objects)
 * @param options - the default district (required) and the offset assumed for naive date-times
 * @throws CabildoError `E_PARSE` (format `open311`) when the text is not JSON or the value is not an array;
 *   `E_ARGUMENT` when the options are unusable. Invalid requests never throw: they are in `errors`.
 */
export function fromOpen311(input: unknown, options: FromOpen311Options): Open311Read {
  const resolved = resolveOptions(options)
  const list = requireJsonArray(parseJsonInput(input), 'service requests')
  const results = list.map((raw, index) => readRequest(raw, index, resolved))
  const tickets: Open311TicketRead[] = []
  const errors: { index: number; error: CabildoError<'E_SCHEMA'> }[] = []
  const coercions: Open311Coercion[] = []
  for (const result of results) {
    if (result.ok) {
      tickets.push(result.value)
      coercions.push(...result.value.coercions)
    } else {
      errors.push({ index: result.index, error: result.error })
      coercions.push(...result.coercions)
    }
  }
  return { results, tickets, errors, coercions }
}

/**
 * Reads one GeoReport v2 service request (the JSON of `GET request/<id>.json`, which the spec
 * wraps in a one-element list, or the bare object), with the same repairs as {@link fromOpen311},
 * and throws when the request is invalid.
 *
 * @param input - JSON text or a parsed value: a request object or a list holding exactly one
 * @param options - as for {@link fromOpen311}, plus the `index` to start error paths with (default 0)
 * @throws CabildoError `E_SCHEMA` with issues whose `path` is `[index, field, ...]`; `E_PARSE` for
 *   text that is not JSON or a list not of exactly one request; `E_ARGUMENT` for unusable options.
 */
export function fromOpen311Request(input: unknown, options: FromOpen311Options & { readonly index?: number }): Open311TicketRead {
  const resolved = resolveOptions(options)
  let raw = parseJsonInput(input)
  if (Array.isArray(raw)) {
    if (raw.length !== 1) {
      const reason = `expected one service request, got a list of ${raw.length}`
      throw new CabildoError('E_PARSE', `Open311 input: ${reason}`, { format: OPEN311_FORMAT, reason })
    }
    raw = raw[0]
  }
  const result = readRequest(raw, options.index ?? 0, resolved)
  if (!result.ok) throw result.error
  return result.value
}
