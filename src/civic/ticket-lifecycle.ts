/**
 * The lifecycle of a service ticket as signed acts: who may acknowledge, start, close and reopen
 * it, resolved by a state machine over the ticket's verified transition records.
 *
 * | transition | who |
 * | --- | --- |
 * | open → acknowledged | district `staff`, or the assigned agency (`agency:<agency_responsible>`) |
 * | open, acknowledged → in_progress | the assigned agency (`staff` when none is assigned) |
 * | open, acknowledged, in_progress → closed | the assigned agency (`staff` when none is assigned) |
 * | closed → open (reopen) | `staff` at any time; the requester within `reopenWindow` clock ticks of the close |
 *
 * The requester is whoever signed the ticket's `ticket.file` act with a nonce that binds the
 * ticket's key to their did (see `boundKey`): an unsigned `requester` field could be forged.
 * Concurrent transitions from the same state: the first in the total order (clock, author,
 * hash) wins, the others are reported as `lost` conflicts.
 * @module
 */
import { z } from 'zod'
import type { Conflict, Rejected } from '../policy/merge-policy'
import { isFailedRecord, type Authorize, type PolicyEntry } from '../policy/policy-record'
import { enteredWithin, stateMachine, type AcceptedTransition } from '../policy/state-machine'
import { TicketStatus } from '../schema/ticket'
import { boundCreation } from './bound-key'

/** Record types of ticket acts. */
export const TicketAct = {
  /** Filing: binds the ticket to its requester. Payload `{ ticket, nonce }`. */
  file: 'ticket.file',
  /** A lifecycle transition. Payload `{ ticket, from, to, note? }`. */
  transition: 'ticket.transition',
} as const

const status = z.enum(['open', 'acknowledged', 'in_progress', 'closed'])

/** The payload of a `ticket.transition` act. */
export const ticketTransitionPayload = z.strictObject({
  ticket: z.string().min(1).max(200),
  from: status,
  to: status,
  note: z.string().max(4_000).optional(),
})
/** The payload of a `ticket.transition` act. */
export type TicketTransitionPayload = z.infer<typeof ticketTransitionPayload>

/** The payload of a `ticket.file` act. */
export const ticketFilePayload = z.strictObject({ ticket: z.string().min(1).max(200), nonce: z.string().min(1).max(64) })

/** Options of the ticket lifecycle. */
export interface TicketLifecycleOptions {
  /** How many Lamport clock ticks after a close its requester may still reopen it. Default 1000. */
  readonly reopenWindow?: number
}

/** The resolved state of a ticket. */
export interface TicketView {
  /** The authoritative status: the result of the accepted signed transitions. */
  readonly status: TicketStatus
  /** Who filed the ticket (a did), when a valid filing act exists. */
  readonly requester: string | undefined
  /** The accepted transitions, oldest first. */
  readonly history: readonly AcceptedTransition<TicketStatus>[]
  /** Transitions that lost a race. */
  readonly conflicts: readonly Conflict[]
  /** Acts that do not count, with their codes. */
  readonly rejected: readonly Rejected[]
}

/** Whether a raw act-log value is an act about the ticket `id` (checked again after verification). */
export function isTicketAct(id: string): (value: unknown) => boolean {
  return (value) => {
    const v = value as { type?: unknown; payload?: { ticket?: unknown } } | null
    return (v?.type === TicketAct.file || v?.type === TicketAct.transition) && v.payload?.ticket === id
  }
}

/**
 * The requester of ticket `id`: the author of the first (in the total order) verified filing act
 * whose nonce binds the ticket's key to that author.
 */
export function ticketRequester(id: string, entries: readonly PolicyEntry[]): string | undefined {
  return boundCreation(id, entries, TicketAct.file, (p) => ticketFilePayload.safeParse(p).data, (p) => p.ticket)?.author
}

/**
 * Resolves a ticket from its verified acts. Pure: the same acts give the same view everywhere.
 * @param ticket - the ticket's id and assigned agency (read from the record)
 * @param entries - the ticket's acts, verified (failed ones included, to be reported)
 * @param authorize - the district roster's role check
 */
export function resolveTicket(
  ticket: { readonly id: string; readonly agency?: string | undefined },
  entries: readonly PolicyEntry[],
  authorize: Authorize,
  options: TicketLifecycleOptions = {},
): TicketView {
  const requester = ticketRequester(ticket.id, entries)
  const agencyRole = ticket.agency ? `agency:${ticket.agency}` : 'staff'
  const withRequester: Authorize = (author, role, clock) => (role === 'requester' ? author === requester : authorize(author, role, clock))
  const machine = stateMachine<TicketStatus>({
    states: Object.values(TicketStatus),
    initial: 'open',
    authorize: withRequester,
    transitions: [
      { from: 'open', to: 'acknowledged', role: ['staff', agencyRole] },
      { from: ['open', 'acknowledged'], to: 'in_progress', role: agencyRole },
      { from: ['open', 'acknowledged', 'in_progress'], to: 'closed', role: agencyRole },
      { from: 'closed', to: 'open', role: 'staff' },
      { from: 'closed', to: 'open', role: 'requester', guard: enteredWithin<TicketStatus>('closed', options.reopenWindow ?? 1000) },
    ],
  })
  const transitions = entries.filter((e) => isFailedRecord(e) || e.type === TicketAct.transition)
  const { view, conflicts, rejected } = machine.resolve(transitions)
  return { status: view.state, requester, history: view.history, conflicts, rejected }
}
