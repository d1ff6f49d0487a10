/**
 * The random civic operations a simulated district performs: tickets (created, edited, moved
 * through their signed lifecycle), proposals (created, their body edited as collaborative text,
 * published, supported), a participatory budget (ballots, allocations, closing the vote) and
 * comments. A district of the "newer app" writes tickets with a version-2 schema (one more
 * field), which the others read and edit with version 1.
 *
 * An operation either returns (its edit is in the district's documents), or throws a
 * `CabildoError` whose code says why it would not count (`E_FORBIDDEN`, `E_INVALID`, `E_LATE`,
 * ...), or finds nothing to act on here yet (a record this replica has not received).
 * @module
 */
import { z } from 'zod'
import type { Collection, CollectionOptions } from '../../doc/collection'
import { defineRecordType } from '../../schema/record-type'
import { ServiceTicket } from '../../schema/ticket'
import type { SeededRandom } from '../../transports/seeded-random'
import type { Space } from '../../sync/space'

/** Version 2 of the ticket schema, as a newer app ships it: one more field, `priority`. */
export const SimTicketV2 = defineRecordType({
  name: 'ticket',
  version: 2,
  shape: { ...ServiceTicket.schema.omit({ id: true, schemaVersion: true, archived: true }).shape, priority: z.enum(['low', 'high']).optional() },
  migrations: { 1: (raw) => raw },
})

/** The collection options of version-2 tickets: the same map and shards as the built-in tickets. */
export const simTicketV2Options: CollectionOptions<typeof SimTicketV2, 'requested_datetime'> = {
  type: SimTicketV2,
  mapName: 'tickets',
  scopes: ['tickets'],
  shardOf: (t) => `tickets.${t.requested_datetime.slice(0, 7)}`,
  defaults: ({ now }) => ({ requested_datetime: now }),
  touch: 'updated_datetime',
}

/** The records every district may act on: ids known somewhere in the simulation (a replica may not have them yet). */
export interface CivicWorld {
  readonly tickets: string[]
  readonly proposals: string[]
  /** The participatory budget opened at the start, and its projects. */
  budget: { readonly id: string; readonly projects: readonly string[] } | undefined
}

/** Who performs an operation. */
export interface Actor {
  /** The district code (also its peer id). */
  readonly district: string
  readonly space: Space
  /** Whether it runs the newer app (version-2 tickets). */
  readonly newer: boolean
}

/** An operation's name; `undefined` when there was nothing to act on here. */
export type Operation = (actor: Actor, world: CivicWorld, random: SeededRandom) => Promise<string | undefined>

function pick<T>(random: SeededRandom, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[random.int(0, items.length - 1)]
}

const services = ['pothole', 'streetlight', 'graffiti', 'litter'] as const
const words = ['trees', 'benches', 'shade', 'bike lane', 'fountain', 'library hours', 'crossing']

/** One version-2 tickets collection per Space (a Space keeps every collection it made until it closes). */
const newerTickets = new WeakMap<Space, Collection<typeof SimTicketV2, 'requested_datetime'>>()

function ticketsV2(space: Space): Collection<typeof SimTicketV2, 'requested_datetime'> {
  let tickets = newerTickets.get(space)
  if (!tickets) newerTickets.set(space, (tickets = space.collection(simTicketV2Options)))
  return tickets
}

const createTicket: Operation = async ({ district, space, newer }, world, random) => {
  const input = { service_code: pick(random, services) ?? 'pothole', district, agency_responsible: 'roads', description: `Reported by ${district}` }
  const id = newer
    ? (await ticketsV2(space).create({ ...input, priority: random.next() < 0.5 ? 'low' : 'high' })).id
    : (await space.tickets.create(input)).id
  world.tickets.push(id)
  return newer ? 'ticket.create.v2' : 'ticket.create'
}

const editTicket: Operation = async ({ district, space }, world, random) => {
  const ticket = await space.tickets.get(pick(random, world.tickets) ?? '')
  if (!ticket) return undefined
  const field = random.int(0, 2)
  if (field === 0) ticket.update({ status_notes: `${district} note ${random.int(0, 999)}` })
  else if (field === 1) ticket.update({ address: `${random.int(1, 99)} Calle ${pick(random, words)}` })
  else ticket.update({ description: `${district}: ${pick(random, words)}` })
  return 'ticket.edit'
}

const moveTicket: Operation = async ({ space }, world, random) => {
  const ticket = await space.tickets.get(pick(random, world.tickets) ?? '')
  if (!ticket) return undefined
  const to = random.int(0, 3)
  if (to === 0) await ticket.acknowledge()
  else if (to === 1) await ticket.start()
  else if (to === 2) await ticket.close({ note: 'done' })
  else await ticket.reopen({ note: 'not fixed' })
  return ['ticket.acknowledge', 'ticket.start', 'ticket.close', 'ticket.reopen'][to]
}

const createProposal: Operation = async ({ district, space }, world, random) => {
  const proposal = await space.proposals.create({ title: `More ${pick(random, words)}`, district, process: 'pb2027', body: `Proposal of ${district}.` })
  world.proposals.push(proposal.id)
  return 'proposal.create'
}

const editProposalText: Operation = async ({ district, space }, world, random) => {
  const proposal = await space.proposals.get(pick(random, world.proposals) ?? '')
  if (!proposal) return undefined
  const body = proposal.text('body')
  if (random.next() < 0.7 || body.length < 4) {
    body.insert(random.int(0, body.length), ` [${district} ${pick(random, words)}]`)
    return 'proposal.text.insert'
  }
  body.delete(random.int(0, body.length - 3), random.int(1, 3))
  return 'proposal.text.delete'
}

const actOnProposal: Operation = async ({ district, space }, world, random) => {
  const proposal = await space.proposals.get(pick(random, world.proposals) ?? '')
  if (!proposal) return undefined
  const act = random.int(0, 2)
  if (act === 0) await proposal.publish()
  else if (act === 1) await proposal.support()
  else proposal.update({ title: `${pick(random, words)} (${district})` })
  return ['proposal.publish', 'proposal.support', 'proposal.edit'][act]
}

const castBallot: Operation = async ({ space }, world, random) => {
  const budget = world.budget && (await space.budgets.get(world.budget.id))
  if (!budget || !world.budget) return undefined
  const approved = world.budget.projects.filter(() => random.next() < 0.5).slice(0, 2)
  await budget.castBallot({ kind: 'approval', approved })
  return 'budget.ballot'
}

const allocate: Operation = async ({ space }, world, random) => {
  const budget = world.budget && (await space.budgets.get(world.budget.id))
  const project = world.budget && pick(random, world.budget.projects)
  if (!budget || project === undefined) return undefined
  await budget.allocate({ project, amount: String(random.int(1, 8) * 100) })
  return 'budget.allocate'
}

const closeVoting: Operation = async ({ space }, world) => {
  const budget = world.budget && (await space.budgets.get(world.budget.id))
  if (!budget) return undefined
  await budget.closeVoting()
  return 'budget.close'
}

const comment: Operation = async ({ space }, world, random) => {
  const target = pick(random, [...world.tickets, ...world.proposals])
  if (target === undefined || !(await space.tickets.get(target)) && !(await space.proposals.get(target))) return undefined
  const author = space.identity?.did ?? 'anonymous'
  await space.comments.create({ target, author, body: `About ${pick(random, words)}` })
  return 'comment.create'
}

/** The operations and their relative weights. */
export const civicOperations: ReadonlyArray<readonly [Operation, number]> = [
  [createTicket, 3],
  [editTicket, 3],
  [moveTicket, 3],
  [createProposal, 2],
  [editProposalText, 4],
  [actOnProposal, 2],
  [castBallot, 2],
  [allocate, 1],
  [comment, 1],
  [closeVoting, 0.2],
]

/** Draws one operation by weight. */
export function drawOperation(random: SeededRandom): Operation {
  const total = civicOperations.reduce((sum, [, weight]) => sum + weight, 0)
  let at = random.next() * total
  for (const [operation, weight] of civicOperations) {
    at -= weight
    if (at < 0) return operation
  }
  return createTicket
}
