/**
 * Loro: the same layout in a LoroDoc (a root LoroMap `tickets` of one LoroMap per ticket, a root
 * LoroMap `acts` of ballots as plain values, a LoroText body), one commit per change; full state
 * as a snapshot, catch-up as an update from the receiver's version vector.
 * @module
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { LoroDoc, LoroMap, type VersionVector } from 'loro-crdt'
import type { SignedRecord } from '../../../src/identity/signed-record'
import type { Parts, System, TextReplica, TicketReplica } from '../system'
import type { TicketFields, TicketUpdate } from '../workloads'
import { plainBudget } from './plain-budget'
import { plainTicketId } from './yjs'

// Children run from the repository root (and may run bundled, away from this file).
const version = (JSON.parse(readFileSync(join(process.cwd(), 'node_modules/loro-crdt/package.json'), 'utf8')) as { version: string }).version

function writeTicket(tickets: LoroMap, index: number, fields: TicketFields): void {
  const map = tickets.setContainer(plainTicketId(index), new LoroMap())
  for (const [key, value] of Object.entries(fields)) map.set(key, value)
}

function writeUpdate(tickets: LoroMap, u: TicketUpdate): void {
  const map = tickets.get(plainTicketId(u.ticket)) as LoroMap
  if (u.to !== undefined) map.set('status', u.to)
  map.set('status_notes', u.note)
  map.set('updated_datetime', u.at)
}

const snapshot = (doc: LoroDoc): Parts => [{ name: 'snapshot', bytes: doc.export({ mode: 'snapshot' }) }]

function ticketReplica(): TicketReplica {
  const doc = new LoroDoc()
  const tickets = doc.getMap('tickets')
  const all = (): Record<string, Record<string, unknown>> => tickets.toJSON() as Record<string, Record<string, unknown>>
  return {
    create: (index, fields) => {
      writeTicket(tickets, index, fields)
      doc.commit()
    },
    update: (u) => {
      writeUpdate(tickets, u)
      doc.commit()
    },
    createBulk: (items) => {
      items.forEach(([i, f]) => writeTicket(tickets, i, f))
      doc.commit()
    },
    updateBulk: (us) => {
      us.forEach((u) => writeUpdate(tickets, u))
      doc.commit()
    },
    settle: async () => undefined,
    encodeFull: async () => snapshot(doc),
    apply: async (parts) => void doc.importBatch(parts.map((p) => p.bytes)),
    readAll: async () => Object.values(all()).filter((t) => t['status']).length,
    loadMonth: async (parts, month) => {
      doc.importBatch(parts.map((p) => p.bytes))
      return Object.values(all()).filter((t) => (t['requested_datetime'] as string).startsWith(month) && t['status']).length
    },
    since: async () => doc.oplogVersion(),
    encodeSince: async (token) => [{ name: 'update', bytes: doc.export({ mode: 'update', from: token as VersionVector }) }],
    close: async () => doc.free(),
  }
}

function textReplica(): TextReplica {
  const doc = new LoroDoc()
  const text = doc.getText('body')
  return {
    insert: (pos, char) => {
      text.insert(pos, char)
      doc.commit()
    },
    delete: (pos) => {
      text.delete(pos, 1)
      doc.commit()
    },
    bulk: (pos, chars, from, to) => {
      for (let k = from; k < to; k++) {
        if (chars[k] === '') text.delete(pos[k] as number, 1)
        else text.insert(pos[k] as number, chars[k] as string)
      }
      doc.commit()
    },
    settle: async () => undefined,
    encodeFull: async () => snapshot(doc),
    load: async (parts) => {
      doc.importBatch(parts.map((p) => p.bytes))
      return text.toString()
    },
    text: () => text.toString(),
    close: async () => doc.free(),
  }
}

/** Loro. */
export const system: System = {
  name: 'loro',
  description: `loro-crdt ${version}: LoroMap per ticket in one root LoroMap, one commit per change, snapshot export`,
  tickets: async () => ticketReplica(),
  budget: async () => {
    const doc = new LoroDoc()
    const acts = doc.getMap('acts')
    return plainBudget({
      put: (entries) => {
        for (const [hash, record] of entries) acts.set(hash, record as never)
        doc.commit()
      },
      values: () => Object.values(acts.toJSON() as Record<string, SignedRecord>),
      setup: (w) => {
        const projects = doc.getMap('projects')
        for (const p of w.projects) {
          const map = projects.setContainer(p.id, new LoroMap())
          map.set('title', p.title)
          map.set('cost', p.cost)
        }
        doc.getMap('budget').set('total', w.total)
        doc.commit()
      },
      encodeFull: () => snapshot(doc),
      close: () => doc.free(),
    })
  },
  text: async () => textReplica(),
}
