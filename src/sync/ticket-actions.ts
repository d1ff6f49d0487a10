/**
 * Signed lifecycle acts on service tickets: `ticket.acknowledge()`, `start()`, `close()`,
 * `reopen()`, and `resolve()` for the authoritative view.
 *
 * ```ts
 * const ticket = await space.tickets.create({ service_code: 'pothole', district: 'north', agency_responsible: 'roads' })
 * await ticket.close({ note: 'Filled' }) // signed by the Space's identity; refused unless it may close
 * const { status, history, rejected } = await ticket.resolve()
 * ```
 * @module
 */
import { CabildoError } from '../errors'
import type { Entity } from '../doc/entity'
import type { CreatePlan } from '../doc/collection'
import { TicketAct, isTicketAct, resolveTicket, type TicketLifecycleOptions, type TicketView } from '../civic/ticket-lifecycle'
import type { PolicyRecord } from '../policy/policy-record'
import type { ServiceTicket, TicketStatus } from '../schema/ticket'
import { asPolicyRecord, boundCreatePlan, refusalError, type CreateContext } from './act-checks'
import type { SpaceActs } from './space-acts'

/** Options of a lifecycle act. */
export interface TicketActOptions {
  /** A note shown with the new status (also written to `status_notes`). */
  readonly note?: string
}

/** The signed lifecycle acts of a ticket entity. */
export interface TicketActions {
  /** Marks the ticket acknowledged. @throws CabildoError `E_FORBIDDEN`, `E_INVALID` when the act would not count. */
  acknowledge(options?: TicketActOptions): Promise<TicketView>
  /** Marks work in progress. @throws CabildoError `E_FORBIDDEN`, `E_INVALID`. */
  start(options?: TicketActOptions): Promise<TicketView>
  /** Closes the ticket. @throws CabildoError `E_FORBIDDEN`, `E_INVALID`. */
  close(options?: TicketActOptions): Promise<TicketView>
  /** Reopens a closed ticket. @throws CabildoError `E_FORBIDDEN`, `E_INVALID`, `E_LATE`. */
  reopen(options?: TicketActOptions): Promise<TicketView>
  /** The authoritative view: status from the verified signed acts, history, conflicts and rejected acts. */
  resolve(): Promise<TicketView>
}

/** The ticket-related services a Space gives its tickets collection. */
export function ticketBehaviour(acts: SpaceActs, options: TicketLifecycleOptions = {}): {
  planCreate: (context: CreateContext) => Promise<CreatePlan>
  extend: (entity: Entity<typeof ServiceTicket>) => TicketActions
} {
  const resolveEntity = async (entity: Entity<typeof ServiceTicket>, extra?: PolicyRecord): Promise<TicketView> => {
    const value = entity.get().value
    const entries = await acts.readAbout(entity.shard, entity.id, isTicketAct(entity.id))
    const authorize = await acts.authorizer(value.district ?? '')
    return resolveTicket({ id: entity.id, agency: value.agency_responsible }, extra ? [...entries, extra] : entries, authorize, options)
  }

  const transition = async (entity: Entity<typeof ServiceTicket>, to: TicketStatus, opts: TicketActOptions = {}): Promise<TicketView> => {
    const before = await resolveEntity(entity)
    const payload = { ticket: entity.id, from: before.status, to, ...(opts.note === undefined ? {} : { note: opts.note }) }
    const record = await acts.sign(entity.shard, TicketAct.transition, payload)
    const preview = asPolicyRecord(record)
    // Resolve with the new act before storing it: an act that would not count is never written.
    const after = await resolveEntity(entity, preview)
    const refused = after.rejected.find((r) => r.hash === preview.hash)
    if (refused) throw refusalError(refused, `Cannot move ticket ${entity.id} from ${before.status} to ${to}`, record.author, `ticket.${to}`)
    if (after.status !== to) {
      throw new CabildoError('E_INVALID', `Ticket ${entity.id} did not move to ${to}`, { reason: 'a concurrent transition won' })
    }
    const doc = await acts.docOf(entity.shard)
    doc.transact(() => {
      acts.append(doc, record)
      // The plain fields mirror the signed status for Open311 readers; the signed acts stay authoritative.
      entity.update({ status: to, ...(opts.note === undefined ? {} : { status_notes: opts.note }) })
    }, acts.localOrigin)
    return after
  }

  return {
    planCreate: boundCreatePlan(acts, TicketAct.file, (ticket, nonce) => ({ ticket, nonce })),
    extend: (entity) => ({
      acknowledge: (o) => transition(entity, 'acknowledged', o),
      start: (o) => transition(entity, 'in_progress', o),
      close: (o) => transition(entity, 'closed', o),
      reopen: (o) => transition(entity, 'open', o),
      resolve: () => resolveEntity(entity),
    }),
  }
}
