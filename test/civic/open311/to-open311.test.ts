import { describe, expect, it } from 'vitest'
import { Open311ServiceRequest } from '../../../src/civic/open311/georeport-request'
import { toOpen311 } from '../../../src/civic/open311/to-open311'
import type { ServiceTicket } from '../../../src/schema/ticket'
import { expectCabildoError, fullTicket } from './helpers'

describe('toOpen311', () => {
  it('writes every GeoReport field of a ticket under its spec name, with the ticket id as service_request_id', () => {
    const [request] = toOpen311([fullTicket()])
    expect(request).toEqual({
      service_request_id: 'tickets.2026-11/abc123',
      status: 'open',
      status_notes: 'Crew scheduled for Thursday.',
      service_name: 'Pothole',
      service_code: 'pothole',
      description: 'Deep pothole in the right lane.',
      agency_responsible: 'Public Works',
      service_notice: 'Usually filled within 5 working days.',
      requested_datetime: '2026-11-01T08:12:44+01:00',
      updated_datetime: '2026-11-02T09:00:00+01:00',
      expected_datetime: '2026-11-08T17:00:00+01:00',
      address: 'Calle del Olmo 14',
      address_id: 'A-30771',
      zipcode: '28014',
      lat: 40.41552,
      long: -3.69871,
      media_url: 'https://media.example.org/101.jpg',
      x_cabildo_status: 'in_progress',
      x_cabildo_district: 'north',
    })
  })

  it('lists the spec fields first, in the spec order, then the extension fields', () => {
    const [request] = toOpen311([fullTicket({ archived: true })])
    expect(Object.keys(request ?? {})).toEqual([
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
      'x_cabildo_status',
      'x_cabildo_district',
      'x_cabildo_archived',
    ])
  })

  it.each([
    ['open', 'open'],
    ['acknowledged', 'open'],
    ['in_progress', 'open'],
    ['closed', 'closed'],
  ] as const)('projects the lifecycle state %s onto the GeoReport status %s and keeps it in x_cabildo_status', (state, spec) => {
    const [request] = toOpen311([fullTicket({ status: state })])
    expect(request?.status).toBe(spec)
    expect(request?.x_cabildo_status).toBe(state)
  })

  it('omits absent optional fields instead of writing null, and writes x_cabildo_archived only when the ticket has the flag', () => {
    const minimal: ServiceTicket = {
      id: 'tickets.2026-11/min',
      schemaVersion: 1,
      service_code: 'noise',
      status: 'open',
      requested_datetime: '2026-11-03T23:10:00Z',
      district: 'north',
    }
    const [plain, archived] = toOpen311([minimal, { ...minimal, archived: false }])
    expect(plain).toEqual({
      service_request_id: 'tickets.2026-11/min',
      status: 'open',
      service_code: 'noise',
      requested_datetime: '2026-11-03T23:10:00Z',
      x_cabildo_status: 'open',
      x_cabildo_district: 'north',
    })
    expect(archived?.x_cabildo_archived).toBe(false)
  })

  it('writes output that the strict GeoReport schema accepts: string ids, numeric coordinates, open/closed status', () => {
    const requests = toOpen311([fullTicket(), fullTicket({ id: 'tickets.2026-11/b', status: 'closed', lat: -0, long: 0 })])
    for (const request of requests) expect(Open311ServiceRequest.safeParse(request).success).toBe(true)
    expect(Object.is(requests[1]?.lat, 0)).toBe(true)
    expect(JSON.parse(JSON.stringify(requests))).toEqual(requests)
  })

  it('writes the extra fields given for a ticket id after the ticket fields', () => {
    const extras = new Map([['tickets.2026-11/abc123', { token: 't-1', comment_count: 3, extended_attributes: { x: 1 } }]])
    const [request, other] = toOpen311([fullTicket(), fullTicket({ id: 'tickets.2026-11/other' })], { extras })
    expect(request).toMatchObject({ token: 't-1', comment_count: 3, extended_attributes: { x: 1 } })
    expect(other).not.toHaveProperty('token')
  })

  it('refuses an extra field that would overwrite a GeoReport or cabildo field', () => {
    for (const name of ['status', 'lat', 'x_cabildo_district']) {
      const error = expectCabildoError('E_ARGUMENT', () =>
        toOpen311([fullTicket()], { extras: new Map([['tickets.2026-11/abc123', { [name]: 'x' }]]) }),
      )
      expect(error.details.argument).toBe('options.extras')
      expect(error.details.reason).toContain(name)
    }
  })

  it('rejects an invalid ticket with E_SCHEMA issues whose path starts at the ticket index', () => {
    const bad = { ...fullTicket(), lat: 123 } as ServiceTicket
    const error = expectCabildoError('E_SCHEMA', () => toOpen311([fullTicket(), bad]))
    expect(error.details.issues.map((issue) => issue.path)).toEqual([[1, 'lat']])
    expect(error.path).toEqual([1, 'lat'])
  })

  it('rejects a non-list argument with E_ARGUMENT', () => {
    expectCabildoError('E_ARGUMENT', () => toOpen311(fullTicket() as unknown as ServiceTicket[]))
  })
})
