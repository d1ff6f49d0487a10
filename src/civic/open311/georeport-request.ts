/**
 * The GeoReport v2 service request as cabildo writes it: the spec's fields
 * (https://wiki.open311.org/GeoReport_v2#GET_Service_Requests, "Response") plus three
 * documented `x_cabildo_*` extension fields that carry what the spec cannot say.
 * @module
 */
import { z } from 'zod'
import { isoDateTime } from '../../schema/common'
import { TicketStatus } from '../../schema/ticket'

/** The two statuses GeoReport v2 defines. */
export const GeoReportStatus = { open: 'open', closed: 'closed' } as const
/** A GeoReport v2 status: `open` or `closed`. */
export type GeoReportStatus = (typeof GeoReportStatus)[keyof typeof GeoReportStatus]

/**
 * The names of cabildo's extension fields. GeoReport consumers ignore fields they do not know,
 * so these ride along without breaking a plain client, and let cabildo read back exactly what it wrote.
 * - `status`: the full lifecycle state (`open | acknowledged | in_progress | closed`); the spec's
 *   `status` field carries its `open`/`closed` projection.
 * - `district`: the district the ticket was filed in.
 * - `archived`: the ticket's `archived` flag, written only when the ticket has one.
 */
export const Open311Extension = {
  status: 'x_cabildo_status',
  district: 'x_cabildo_district',
  archived: 'x_cabildo_archived',
} as const
/** The name of one cabildo extension field. */
export type Open311Extension = (typeof Open311Extension)[keyof typeof Open311Extension]

/** The service request fields GeoReport v2 defines, in the order the spec lists them. */
export const GEOREPORT_REQUEST_FIELDS = [
  'service_request_id',
  'status',
  'status_notes',
  'service_name',
  'service_code',
  'description',
  'agency_responsible',
  'service_notice',
  'requested_datetime',
  'updated_datetime',
  'expected_datetime',
  'address',
  'address_id',
  'zipcode',
  'lat',
  'long',
  'media_url',
] as const
/** The name of one GeoReport v2 service request field. */
export type GeoReportRequestField = (typeof GEOREPORT_REQUEST_FIELDS)[number]

const specFields: ReadonlySet<string> = new Set(GEOREPORT_REQUEST_FIELDS)
const extensionFields: ReadonlySet<string> = new Set(Object.values(Open311Extension))

/** True when `key` is a GeoReport v2 service request field or one of cabildo's extension fields. */
export function isReservedRequestField(key: string): boolean {
  return specFields.has(key) || extensionFields.has(key)
}

/**
 * A spec-valid GeoReport v2 service request as {@link toOpen311} writes it: ids are strings, `status`
 * is `open` or `closed`, coordinates are numbers, date-times carry an offset, `media_url` is one URL.
 * Unknown fields are allowed (the spec permits them), so the schema is loose: use it to check that
 * output is strict, or that a server's output is.
 */
export const Open311ServiceRequest = z.looseObject({
  service_request_id: z.string().min(1),
  status: z.enum([GeoReportStatus.open, GeoReportStatus.closed]),
  status_notes: z.string().optional(),
  service_name: z.string().optional(),
  service_code: z.string().min(1),
  description: z.string().optional(),
  agency_responsible: z.string().optional(),
  service_notice: z.string().optional(),
  requested_datetime: isoDateTime,
  updated_datetime: isoDateTime.optional(),
  expected_datetime: isoDateTime.optional(),
  address: z.string().optional(),
  address_id: z.string().optional(),
  zipcode: z.string().optional(),
  lat: z.number().min(-90).max(90).optional(),
  long: z.number().min(-180).max(180).optional(),
  media_url: z.url().optional(),
  x_cabildo_status: z
    .enum([TicketStatus.open, TicketStatus.acknowledged, TicketStatus.in_progress, TicketStatus.closed])
    .optional(),
  x_cabildo_district: z.string().min(1).optional(),
  x_cabildo_archived: z.boolean().optional(),
})
/** A spec-valid GeoReport v2 service request (with cabildo's extension fields and any extras). */
export type Open311ServiceRequest = z.infer<typeof Open311ServiceRequest>
