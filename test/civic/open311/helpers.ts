/**
 * Shared test helpers for the Open311 tests.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CabildoError, type CabildoErrorCode } from '../../../src/errors'
import { ServiceTicket } from '../../../src/schema/ticket'
import type { Open311TicketRead } from '../../../src/civic/open311/from-open311'

/** Reads a fixture file of `test/fixtures/open311/` as text. */
export function fixtureText(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../../fixtures/open311/${name}`, import.meta.url)), 'utf8')
}

/** Runs `fn`, expects it to throw a `CabildoError` of `code`, and returns it. */
export function expectCabildoError<C extends CabildoErrorCode>(code: C, fn: () => unknown): CabildoError<C> {
  try {
    fn()
  } catch (err) {
    if (CabildoError.is(err, code)) return err
    throw new Error(`expected CabildoError ${code}, got ${String(err)}`)
  }
  throw new Error(`expected CabildoError ${code}, nothing was thrown`)
}

/** The stored ticket a read request becomes when created under its original id at the current schema version. */
export function asStoredTicket(read: Open311TicketRead): ServiceTicket {
  if (read.serviceRequestId === undefined) throw new Error(`request ${read.index} has no service_request_id`)
  const ticket: ServiceTicket = { id: read.serviceRequestId, schemaVersion: ServiceTicket.version, ...read.value }
  if (read.archived !== undefined) ticket.archived = read.archived
  return ticket
}

/** A complete, valid ticket with every GeoReport field set. */
export function fullTicket(overrides: Partial<ServiceTicket> = {}): ServiceTicket {
  return {
    id: 'tickets.2026-11/abc123',
    schemaVersion: ServiceTicket.version,
    service_code: 'pothole',
    service_name: 'Pothole',
    description: 'Deep pothole in the right lane.',
    status: 'in_progress',
    status_notes: 'Crew scheduled for Thursday.',
    agency_responsible: 'Public Works',
    service_notice: 'Usually filled within 5 working days.',
    address: 'Calle del Olmo 14',
    address_id: 'A-30771',
    zipcode: '28014',
    lat: 40.41552,
    long: -3.69871,
    requested_datetime: '2026-11-01T08:12:44+01:00',
    updated_datetime: '2026-11-02T09:00:00+01:00',
    expected_datetime: '2026-11-08T17:00:00+01:00',
    media_url: 'https://media.example.org/101.jpg',
    district: 'north',
    ...overrides,
  }
}
