/**
 * Service tickets, aligned with Open311 GeoReport v2 service requests
 * (https://wiki.open311.org/GeoReport_v2#POST_Service_Request): the field names are the spec's,
 * so mapping to and from GeoReport is a rename-free copy; the lifecycle is richer than the
 * spec's `open`/`closed` and maps onto it.
 * @module
 */
import { z } from 'zod'
import { districtCode, isoDateTime } from './common'
import { defineRecordType, type RecordOf } from './record-type'

/** The lifecycle states of a service ticket. `open` and `closed` are GeoReport's; the others refine `open`. */
export const TicketStatus = {
  open: 'open',
  acknowledged: 'acknowledged',
  in_progress: 'in_progress',
  closed: 'closed',
} as const
/** A lifecycle state of a service ticket. */
export type TicketStatus = (typeof TicketStatus)[keyof typeof TicketStatus]

/** A service ticket (an Open311 service request). */
export const ServiceTicket = defineRecordType({
  name: 'ticket',
  version: 1,
  shape: {
    /** GeoReport `service_code`: the kind of service requested. */
    service_code: z.string().min(1).max(100),
    /** GeoReport `service_name`: the human-readable name of the service. */
    service_name: z.string().max(200).optional(),
    /** GeoReport `description`: what the requester reported. */
    description: z.string().max(4_000).optional(),
    /** Lifecycle state. */
    status: z.enum(['open', 'acknowledged', 'in_progress', 'closed']).default('open'),
    /** GeoReport `status_notes`: explanation of the current status. */
    status_notes: z.string().max(4_000).optional(),
    /** GeoReport `agency_responsible`. */
    agency_responsible: z.string().max(200).optional(),
    /** GeoReport `service_notice`: information about the service, e.g. expected response time. */
    service_notice: z.string().max(1_000).optional(),
    /** GeoReport `address`. */
    address: z.string().max(500).optional(),
    /** GeoReport `address_id`. */
    address_id: z.string().max(200).optional(),
    /** GeoReport `zipcode`. */
    zipcode: z.string().max(20).optional(),
    /** GeoReport `lat` (WGS84). */
    lat: z.number().min(-90).max(90).optional(),
    /** GeoReport `long` (WGS84). */
    long: z.number().min(-180).max(180).optional(),
    /** GeoReport `requested_datetime`. Also chooses the ticket's monthly shard. */
    requested_datetime: isoDateTime,
    /** GeoReport `updated_datetime`. */
    updated_datetime: isoDateTime.optional(),
    /** GeoReport `expected_datetime`. */
    expected_datetime: isoDateTime.optional(),
    /** GeoReport `media_url`. */
    media_url: z.url({ protocol: /^https?$/ }).max(2_000).optional(),
    /** The district the ticket was filed in. */
    district: districtCode,
  },
})
/** A service ticket as stored. */
export type ServiceTicket = RecordOf<typeof ServiceTicket>
