/**
 * Raw Yjs, the floor: the same document layout as cabildo's (a root Y.Map `tickets` of one
 * Y.Map per ticket, a root Y.Map `acts` of signed ballots keyed by hash, a Y.Text body), one
 * document, no validation, no signatures, no policies.
 * @module
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as Y from 'yjs'
import type { SignedRecord } from '../../../src/identity/signed-record'
import type { System, TicketReplica, TextReplica, Parts } from '../system'
import type { TicketFields, TicketUpdate } from '../workloads'
import { plainBudget } from './plain-budget'

// Children run from the repository root (and may run bundled, away from this file).
const version = (JSON.parse(readFileSync(join(process.cwd(), 'node_modules/yjs/package.json'), 'utf8')) as { version: string }).version

/** The id raw systems give ticket `index`. */
export const plainTicketId = (index: number): string => `req-${index.toString(36).padStart(4, '0')}`

function writeTicket(tickets: Y.Map<Y.Map<unknown>>, index: number, fields: TicketFields): void {
  const map = new Y.Map<unknown>()
  tickets.set(plainTicketId(index), map)
  for (const [key, value] of Object.entries(fields)) map.set(key, value)
}

function writeUpdate(tickets: Y.Map<Y.Map<unknown>>, u: TicketUpdate): void {
  const map = tickets.get(plainTicketId(u.ticket)) as Y.Map<unknown>
  if (u.to !== undefined) map.set('status', u.to)
  map.set('status_notes', u.note)
  map.set('updated_datetime', u.at)
}

function ticketReplica(): TicketReplica {
  const doc = new Y.Doc()
  const tickets = doc.getMap<Y.Map<unknown>>('tickets')
  return {
    create: (index, fields) => doc.transact(() => writeTicket(tickets, index, fields)),
    update: (u) => doc.transact(() => writeUpdate(tickets, u)),
    createBulk: (items) => doc.transact(() => items.forEach(([i, f]) => writeTicket(tickets, i, f))),
    updateBulk: (us) => doc.transact(() => us.forEach((u) => writeUpdate(tickets, u))),
    settle: async () => undefined,
    encodeFull: async () => [{ name: 'doc', bytes: Y.encodeStateAsUpdate(doc) }],
    apply: async (parts) => parts.forEach((p) => Y.applyUpdate(doc, p.bytes)),
    readAll: async () => {
      let count = 0
      tickets.forEach((map) => {
        if (map.toJSON()['status']) count++
      })
      return count
    },
    loadMonth: async (parts, month) => {
      parts.forEach((p) => Y.applyUpdate(doc, p.bytes))
      let count = 0
      tickets.forEach((map) => {
        if ((map.get('requested_datetime') as string).startsWith(month) && map.toJSON()['status']) count++
      })
      return count
    },
    since: async () => Y.encodeStateVector(doc),
    encodeSince: async (token) => [{ name: 'doc', bytes: Y.encodeStateAsUpdate(doc, token as Uint8Array) }],
    close: async () => doc.destroy(),
  }
}

function textReplica(): TextReplica {
  const doc = new Y.Doc()
  const text = doc.getText('body')
  return {
    insert: (pos, char) => doc.transact(() => text.insert(pos, char)),
    delete: (pos) => doc.transact(() => text.delete(pos, 1)),
    bulk: (pos, chars, from, to) =>
      doc.transact(() => {
        for (let k = from; k < to; k++) {
          if (chars[k] === '') text.delete(pos[k] as number, 1)
          else text.insert(pos[k] as number, chars[k] as string)
        }
      }),
    settle: async () => undefined,
    encodeFull: async (): Promise<Parts> => [{ name: 'doc', bytes: Y.encodeStateAsUpdate(doc) }],
    load: async (parts) => {
      parts.forEach((p) => Y.applyUpdate(doc, p.bytes))
      return text.toString()
    },
    text: () => text.toString(),
    close: async () => doc.destroy(),
  }
}

/** Raw Yjs. */
export const system: System = {
  name: 'yjs',
  description: `yjs ${version}: Y.Map per ticket in one root Y.Map, one transaction per change`,
  tickets: async () => ticketReplica(),
  budget: async () => {
    const doc = new Y.Doc()
    const acts = doc.getMap<SignedRecord>('acts')
    return plainBudget({
      put: (entries) => doc.transact(() => entries.forEach(([hash, record]) => acts.set(hash, record))),
      values: () => [...acts.values()],
      setup: (w) =>
        doc.transact(() => {
          const projects = doc.getMap<Y.Map<unknown>>('projects')
          for (const p of w.projects) {
            const map = new Y.Map<unknown>()
            projects.set(p.id, map)
            map.set('title', p.title)
            map.set('cost', p.cost)
          }
          doc.getMap('budget').set('total', w.total)
        }),
      encodeFull: () => [{ name: 'doc', bytes: Y.encodeStateAsUpdate(doc) }],
      close: () => doc.destroy(),
    })
  },
  text: async () => textReplica(),
}
