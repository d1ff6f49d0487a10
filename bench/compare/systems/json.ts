/**
 * The JSON floor: plain objects in a Map, `JSON.stringify` / `JSON.parse` of the same records.
 * No merging at all (a replica that receives a record replaces its copy): what the data costs
 * with no CRDT. Catch-up sends the records changed since the version the receiver last saw.
 * @module
 */
import type { SignedRecord } from '../../../src/identity/signed-record'
import type { Parts, System, TextReplica, TicketReplica } from '../system'
import type { TicketFields, TicketUpdate } from '../workloads'
import { plainBudget } from './plain-budget'
import { plainTicketId } from './yjs'

type Row = TicketFields & { id: string; status_notes?: string; updated_datetime?: string; _v: number }

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const encode = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value))
const decode = <T>(bytes: Uint8Array): T => JSON.parse(decoder.decode(bytes)) as T

function ticketReplica(): TicketReplica {
  let rows = new Map<string, Row>()
  let version = 0
  const create = (index: number, fields: TicketFields): void => {
    const id = plainTicketId(index)
    rows.set(id, { id, ...fields, _v: ++version })
  }
  const update = (u: TicketUpdate): void => {
    const row = rows.get(plainTicketId(u.ticket)) as Row
    if (u.to !== undefined) row.status = u.to
    row.status_notes = u.note
    row.updated_datetime = u.at
    row._v = ++version
  }
  const receive = (parts: Parts): Row[] => {
    const received: Row[] = []
    for (const part of parts) {
      for (const row of decode<Row[]>(part.bytes)) {
        rows.set(row.id, row)
        version = Math.max(version, row._v)
        received.push(row)
      }
    }
    return received
  }
  return {
    create,
    update,
    createBulk: (items) => items.forEach(([i, f]) => create(i, f)),
    updateBulk: (us) => us.forEach(update),
    settle: async () => undefined,
    encodeFull: async () => [{ name: 'json', bytes: encode([...rows.values()]) }],
    apply: async (parts) => void receive(parts),
    readAll: async () => {
      let count = 0
      for (const row of rows.values()) if (row.status) count++
      return count
    },
    loadMonth: async (parts, month) => receive(parts).filter((row) => row.requested_datetime.startsWith(month) && row.status).length,
    since: async () => version,
    encodeSince: async (token) => [{ name: 'json', bytes: encode([...rows.values()].filter((row) => row._v > (token as number))) }],
    close: async () => {
      rows = new Map()
    },
  }
}

function textReplica(): TextReplica {
  let body = ''
  return {
    insert: (pos, char) => {
      body = body.slice(0, pos) + char + body.slice(pos)
    },
    delete: (pos) => {
      body = body.slice(0, pos) + body.slice(pos + 1)
    },
    bulk: (pos, chars, from, to) => {
      for (let k = from; k < to; k++) {
        const p = pos[k] as number
        body = chars[k] === '' ? body.slice(0, p) + body.slice(p + 1) : body.slice(0, p) + (chars[k] as string) + body.slice(p)
      }
    },
    settle: async () => undefined,
    encodeFull: async () => [{ name: 'json', bytes: encode({ body }) }],
    load: async (parts) => {
      body = decode<{ body: string }>((parts[0] as { bytes: Uint8Array }).bytes).body
      return body
    },
    text: () => body,
    close: async () => {
      body = ''
    },
  }
}

/** The JSON floor. */
export const system: System = {
  name: 'json',
  description: `JSON.stringify / JSON.parse of plain objects (Node ${process.version}); no merging`,
  tickets: async () => ticketReplica(),
  budget: async () => {
    const acts = new Map<string, SignedRecord>()
    let meta: unknown = {}
    return plainBudget({
      put: (entries) => entries.forEach(([hash, record]) => acts.set(hash, record)),
      values: () => [...acts.values()],
      setup: (w) => {
        meta = { total: w.total, projects: w.projects.map((p) => ({ id: p.id, title: p.title, cost: p.cost })) }
      },
      encodeFull: () => [{ name: 'json', bytes: encode({ meta, acts: Object.fromEntries(acts) }) }],
    })
  },
  text: async () => textReplica(),
}
