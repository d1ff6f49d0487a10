import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { fromOpen311 } from '../../../src/civic/open311/from-open311'
import { GEOREPORT_REQUEST_FIELDS, Open311ServiceRequest, isReservedRequestField } from '../../../src/civic/open311/georeport-request'
import { toOpen311 } from '../../../src/civic/open311/to-open311'
import { ServiceTicket, type TicketStatus } from '../../../src/schema/ticket'
import { asStoredTicket, fixtureText, fullTicket } from './helpers'

/** Writes, serialises to JSON text, and reads back: the trip a ticket makes between two systems. */
function roundTrip(tickets: readonly ServiceTicket[], extras?: ReadonlyMap<string, Readonly<Record<string, unknown>>>) {
  const text = JSON.stringify(toOpen311(tickets, extras === undefined ? {} : { extras }))
  return fromOpen311(text, { district: 'some-other-district' })
}

describe('ticket → GeoReport → ticket', () => {
  it('restores every GeoReport field, the district and the archived flag', () => {
    const ticket = fullTicket({ archived: true })
    const read = roundTrip([ticket])
    expect(read.errors).toEqual([])
    expect(read.coercions).toEqual([])
    expect(read.tickets[0] && asStoredTicket(read.tickets[0])).toEqual(ticket)
  })

  it.each(GEOREPORT_REQUEST_FIELDS.filter((field) => field !== 'service_request_id'))('carries %s through the trip', (field) => {
    const ticket = fullTicket({ status: 'closed' })
    const [read] = roundTrip([ticket]).tickets
    expect(ticket[field]).toBeDefined()
    expect(read?.value[field]).toEqual(ticket[field])
  })

  it('carries the ticket id as service_request_id', () => {
    const ticket = fullTicket()
    expect(toOpen311([ticket])[0]?.service_request_id).toBe('tickets.2026-11/abc123')
    expect(roundTrip([ticket]).tickets[0]?.serviceRequestId).toBe('tickets.2026-11/abc123')
  })

  it.each(['open', 'acknowledged', 'in_progress', 'closed'] satisfies TicketStatus[])(
    'restores the lifecycle state %s exactly',
    (status) => {
      const read = roundTrip([fullTicket({ status })])
      expect(read.tickets[0]?.value.status).toBe(status)
      expect(read.coercions).toEqual([])
    },
  )

  it('shows a plain GeoReport consumer only spec statuses', () => {
    const statuses = ['open', 'acknowledged', 'in_progress', 'closed'] satisfies TicketStatus[]
    const requests = toOpen311(statuses.map((status, i) => fullTicket({ id: `tickets.2026-11/t${i}`, status })))
    expect(requests.map((request) => request.status)).toEqual(['open', 'open', 'open', 'closed'])
  })
})

describe('GeoReport → ticket → GeoReport on the constructed sample', () => {
  const first = fromOpen311(fixtureText('requests.json'), { district: 'north' })
  const tickets = first.tickets.map(asStoredTicket)
  const extras = new Map(first.tickets.map((read) => [read.serviceRequestId ?? '', read.extras]))
  const written = toOpen311(tickets, { extras })

  it('writes every readable request strictly to the spec', () => {
    expect(written).toHaveLength(18)
    for (const request of written) expect(Open311ServiceRequest.safeParse(request).success).toBe(true)
    for (const request of written) {
      expect(typeof request.service_request_id).toBe('string')
      expect(['open', 'closed']).toContain(request.status)
    }
  })

  it('reads its own output back to the same tickets and extras, with nothing left to repair', () => {
    const second = fromOpen311(JSON.stringify(written), { district: 'north' })
    expect(second.errors).toEqual([])
    expect(second.coercions).toEqual([])
    expect(second.tickets.map(asStoredTicket)).toEqual(tickets)
    expect(second.tickets.map((read) => read.extras)).toEqual(first.tickets.map((read) => read.extras))
  })

  it('writes vendor fields back out unchanged', () => {
    const request = written.find((r) => r.service_request_id === 'VLN-2026-000104')
    expect(request).toMatchObject({ token: 'b1f0c9e2-7a7e-4c59-9a11-3f2e4d8a9c10', comment_count: 3, interface_used: 'iOS' })
  })
})

describe('property: any valid ticket round-trips', () => {
  const two = (min: number, max: number) => fc.integer({ min, max }).map((n) => String(n).padStart(2, '0'))
  const dateTime = fc
    .record({
      year: fc.integer({ min: 1970, max: 2099 }).map(String),
      month: two(1, 12),
      day: two(1, 28),
      hour: two(0, 23),
      minute: two(0, 59),
      second: two(0, 59),
      fraction: fc.option(fc.integer({ min: 0, max: 999_999 }).map((n) => `.${n}`), { nil: '' }),
      offset: fc.oneof(fc.constant('Z'), fc.tuple(fc.constantFrom('+', '-'), two(0, 14), fc.constantFrom('00', '30', '45')).map((p) => `${p[0]}${p[1]}:${p[2]}`)),
    })
    .map((d) => `${d.year}-${d.month}-${d.day}T${d.hour}:${d.minute}:${d.second}${d.fraction}${d.offset}`)
  const text = (maxLength: number) => fc.string({ maxLength, unit: 'binary' })
  // JSON has no negative zero: -0 is the same point as 0 and is written as 0.
  const degrees = (limit: number) => fc.double({ min: -limit, max: limit, noNaN: true }).map((x) => (x === 0 ? 0 : x))
  const url = fc.webUrl({ withQueryParameters: true, withFragments: true }).filter((u) => z.url().safeParse(u).success)

  const ticket = fc.record(
    {
      id: fc.string({ minLength: 1, maxLength: 200, unit: 'binary' }),
      schemaVersion: fc.constant(ServiceTicket.version),
      archived: fc.boolean(),
      service_code: fc.string({ minLength: 1, maxLength: 100, unit: 'binary' }),
      service_name: text(200),
      description: text(4_000),
      status: fc.constantFrom('open', 'acknowledged', 'in_progress', 'closed'),
      status_notes: text(300),
      agency_responsible: text(200),
      service_notice: text(300),
      address: text(500),
      address_id: text(200),
      zipcode: text(20),
      lat: degrees(90),
      long: degrees(180),
      requested_datetime: dateTime,
      updated_datetime: dateTime,
      expected_datetime: dateTime,
      media_url: url,
      district: fc.string({ minLength: 1, maxLength: 100, unit: 'binary' }),
    },
    { requiredKeys: ['id', 'schemaVersion', 'service_code', 'status', 'requested_datetime', 'district'] },
  ) as fc.Arbitrary<ServiceTicket>

  it('restores every field after toOpen311 → JSON text → fromOpen311, with no coercion', () => {
    fc.assert(
      fc.property(ticket, (t) => {
        expect(ServiceTicket.schema.safeParse(t).success).toBe(true)
        const requests = toOpen311([t])
        expect(Open311ServiceRequest.safeParse(requests[0]).success).toBe(true)
        const read = fromOpen311(JSON.stringify(requests), { district: 'fallback' })
        expect(read.coercions).toEqual([])
        expect(read.tickets.map(asStoredTicket)).toEqual([t])
      }),
      { seed: 42, numRuns: 300 },
    )
  })

  it('keeps any extra JSON fields through the trip', () => {
    const extraKey = fc.string({ minLength: 1, maxLength: 20 }).filter((key) => !isReservedRequestField(key) && key !== '__proto__')
    fc.assert(
      fc.property(ticket, fc.dictionary(extraKey, fc.jsonValue(), { maxKeys: 5 }), (t, extras) => {
        const read = roundTrip([t], new Map([[t.id, extras]]))
        expect(read.tickets[0]?.extras).toEqual(JSON.parse(JSON.stringify(extras)))
      }),
      { seed: 42, numRuns: 200 },
    )
  })
})
