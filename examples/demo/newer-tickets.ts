/**
 * District South's app is a release ahead: its tickets carry an accessibility field that the
 * other districts' apps (on the built-in version 1 schema) do not know. They keep it intact when
 * they edit such a ticket, and never lower its schema version.
 */
import { z } from 'zod'
import { defaultShardRules, defineRecordType, ServiceTicket, type Collection, type Space } from '../../src/index'

/** The ticket schema, version 2: version 1 plus how the problem affects step-free access. */
export const TicketV2 = defineRecordType({
  name: 'ticket',
  version: 2,
  shape: {
    ...ServiceTicket.schema.omit({ id: true, schemaVersion: true, archived: true }).shape,
    /** Whether the problem blocks a step-free route (new in version 2). */
    accessibility: z.enum(['unaffected', 'step-free-route-blocked']).optional(),
  },
  fields: ServiceTicket.fields,
  migrations: { 1: (fields) => fields },
})

/** The tickets of a Space, read and written with the version 2 schema. */
export function ticketsV2(space: Space): Collection<typeof TicketV2> {
  return space.collection({ type: TicketV2, mapName: 'tickets', scopes: ['tickets'], shardOf: defaultShardRules.tickets })
}
