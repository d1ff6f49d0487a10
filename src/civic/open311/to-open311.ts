/**
 * Writing tickets as GeoReport v2 service requests, strictly to the spec, plus cabildo's documented
 * extension fields so that a ticket → GeoReport → ticket round trip loses nothing.
 *
 * ```ts
 * const requests = toOpen311(await space.tickets.list())
 * response.end(JSON.stringify(requests)) // GET requests.json
 * ```
 * @module
 */
import { CabildoError, type SchemaIssue } from '../../errors'
import { ServiceTicket } from '../../schema/ticket'
import { GEOREPORT_REQUEST_FIELDS, Open311Extension, isReservedRequestField, type Open311ServiceRequest } from './georeport-request'
import { setOwn, schemaError, type JsonObject } from './json-input'
import { toGeoReportStatus } from './lifecycle-mapping'

/** How to write tickets as GeoReport requests. */
export interface ToOpen311Options {
  /**
   * Extra fields to write with each ticket, keyed by ticket id: typically the `extras` a
   * {@link fromOpen311} read kept, so vendor fields survive a round trip. They may not use a
   * GeoReport field name or a cabildo extension name.
   */
  readonly extras?: ReadonlyMap<string, Readonly<Record<string, unknown>>>
}

/** JSON has no negative zero; write the same point as `0` so the object equals its JSON text. */
function coordinate(value: number): number {
  return value === 0 ? 0 : value
}

/**
 * Writes tickets as a GeoReport v2 service request list (the body of `GET requests.json`).
 *
 * Guarantees: every output request is valid against {@link Open311ServiceRequest}; `service_request_id`
 * is the ticket id unchanged; `status` is `open` or `closed` and `x_cabildo_status` holds the full
 * lifecycle state; `x_cabildo_district` holds the district; `x_cabildo_archived` is written when the
 * ticket has an `archived` flag; absent optional fields are omitted, never written as `null`.
 * {@link fromOpen311} reads the output back to the same ticket values, with no coercions.
 *
 * @param tickets - stored tickets (validated against the ticket schema)
 * @param options - per-ticket extra fields to write back out
 * @throws CabildoError `E_SCHEMA` when a ticket is invalid (issue paths start with the ticket's
 *   index); `E_ARGUMENT` when `tickets` is not a list or an extra field uses a reserved name.
 */
export function toOpen311(tickets: readonly ServiceTicket[], options: ToOpen311Options = {}): Open311ServiceRequest[] {
  if (!Array.isArray(tickets)) {
    throw new CabildoError('E_ARGUMENT', 'toOpen311 expects a list of tickets', { argument: 'tickets', reason: 'not an array' })
  }
  const issues: SchemaIssue[] = []
  const valid: ServiceTicket[] = []
  tickets.forEach((ticket: unknown, index) => {
    const parsed = ServiceTicket.schema.safeParse(ticket)
    if (parsed.success) valid.push(parsed.data)
    else {
      for (const issue of parsed.error.issues) {
        const path = [index, ...issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key))]
        issues.push({ path, code: issue.code, message: `${path.join('.')}: ${issue.message}` })
      }
    }
  })
  if (issues.length > 0) {
    throw schemaError(`Cannot write invalid tickets as Open311: ${issues.map((issue) => issue.message).join('; ')}`, issues, ServiceTicket.name)
  }
  return valid.map((ticket) => writeRequest(ticket, options.extras?.get(ticket.id)))
}

function writeRequest(ticket: ServiceTicket, extras: Readonly<Record<string, unknown>> | undefined): Open311ServiceRequest {
  const { id, status, district, archived } = ticket
  const spec: Record<string, unknown> = { ...ticket, service_request_id: id, status: toGeoReportStatus(status) }
  if (ticket.lat !== undefined) spec.lat = coordinate(ticket.lat)
  if (ticket.long !== undefined) spec.long = coordinate(ticket.long)
  const out: JsonObject = {}
  for (const field of GEOREPORT_REQUEST_FIELDS) if (spec[field] !== undefined) out[field] = spec[field]
  out[Open311Extension.status] = status
  out[Open311Extension.district] = district
  if (archived !== undefined) out[Open311Extension.archived] = archived
  if (extras !== undefined) {
    for (const key of Object.keys(extras)) {
      if (isReservedRequestField(key)) {
        throw new CabildoError('E_ARGUMENT', `Extra field "${key}" of ticket ${id} would overwrite a GeoReport or cabildo field`, {
          argument: 'options.extras',
          reason: `reserved field name "${key}"`,
        })
      }
      setOwn(out, key, extras[key])
    }
  }
  return out as Open311ServiceRequest
}
