/**
 * The ticket lifecycle and GeoReport v2's two statuses. Writing projects the lifecycle onto
 * `open`/`closed` (GeoReport v2, "status": "open" or "closed"); reading also understands the status
 * words real servers publish ("Received", "In Progress", "Closed - Completed", ...).
 * @module
 */
import { TicketStatus } from '../../schema/ticket'
import { GeoReportStatus } from './georeport-request'

/**
 * The GeoReport status of a lifecycle state: `closed` stays `closed`; `open`, `acknowledged` and
 * `in_progress` are all still open to a GeoReport client.
 */
export function toGeoReportStatus(status: TicketStatus): GeoReportStatus {
  return status === TicketStatus.closed ? GeoReportStatus.closed : GeoReportStatus.open
}

/** True when two lifecycle states have the same GeoReport projection (both open, or both closed). */
export function sameGeoReportStatus(a: TicketStatus, b: TicketStatus): boolean {
  return toGeoReportStatus(a) === toGeoReportStatus(b)
}

/**
 * Status words seen on public GeoReport endpoints, normalised (lower case, separators as one space).
 * Ambiguous words lean to the less advanced state: a ticket read as `open` can still progress,
 * one wrongly read as `closed` would be hidden.
 */
const VENDOR_STATUSES: ReadonlyMap<string, TicketStatus> = new Map<string, TicketStatus>([
  ...['open', 'new', 'submitted', 'received', 'pending', 'reopened', 're opened', 'unassigned', 'registered', 'reported'].map(
    (word) => [word, TicketStatus.open] as const,
  ),
  ...['acknowledged', 'accepted', 'assigned', 'confirmed', 'under review', 'in review', 'reviewed', 'triaged'].map(
    (word) => [word, TicketStatus.acknowledged] as const,
  ),
  ...['in progress', 'inprogress', 'work in progress', 'in process', 'processing', 'investigating', 'scheduled', 'started', 'work started'].map(
    (word) => [word, TicketStatus.in_progress] as const,
  ),
  ...['closed', 'completed', 'complete', 'resolved', 'fixed', 'done', 'cancelled', 'canceled', 'rejected', 'duplicate', 'invalid', 'archived'].map(
    (word) => [word, TicketStatus.closed] as const,
  ),
])

/** Lower case, punctuation and runs of whitespace collapsed to single spaces. */
function normaliseWord(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\s_.-]+/g, ' ')
    .trim()
}

/**
 * Reads a status word from a GeoReport server into the lifecycle, or `undefined` when the word is
 * not recognised. Compound words (`"Closed - Completed"`, `"Open: Assigned"`) are split on `-`, `:`,
 * `/`, `–` and `—`: the first recognised part decides open or closed, and a later part of the same
 * projection may refine it (`"Open - In Progress"` reads as `in_progress`).
 */
export function readVendorStatus(text: string): TicketStatus | undefined {
  const whole = VENDOR_STATUSES.get(normaliseWord(text))
  if (whole !== undefined) return whole
  const parts = text
    .split(/[-:/\u2013\u2014]+/)
    .map((part) => VENDOR_STATUSES.get(normaliseWord(part)))
    .filter((status): status is TicketStatus => status !== undefined)
  const [first, ...rest] = parts
  if (first === undefined) return undefined
  const refinement = rest.find((status) => status !== TicketStatus.open && sameGeoReportStatus(status, first))
  return first === TicketStatus.open && refinement !== undefined ? refinement : first
}
