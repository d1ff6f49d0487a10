/**
 * Automerge 3 through its ordinary JavaScript API: a root map `tickets` of one map per ticket,
 * scalar strings as `ImmutableString` (last writer wins, as Yjs map entries; Automerge 3 would
 * otherwise make every string a collaborative text), ballots as opaque JSON strings (as Yjs
 * stores them), the body as Automerge text; one `change` per change; `save` / `load`, catch-up
 * by `saveSince(heads)` and `loadIncremental`.
 * @module
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as A from '@automerge/automerge'
import type { SignedRecord } from '../../../src/identity/signed-record'
import type { Parts, System, TextReplica, TicketReplica } from '../system'
import type { TicketFields, TicketUpdate } from '../workloads'
import { plainBudget } from './plain-budget'
import { plainTicketId } from './yjs'

// Children run from the repository root (and may run bundled, away from this file).
const version = (JSON.parse(readFileSync(join(process.cwd(), 'node_modules/@automerge/automerge/package.json'), 'utf8')) as { version: string }).version

type Scalar = A.ImmutableString | number
type TicketDoc = { tickets: Record<string, Record<string, Scalar>> }

const S = (text: string): A.ImmutableString => new A.ImmutableString(text)
const str = (value: unknown): string => String(value)

function scalars(fields: TicketFields): Record<string, Scalar> {
  const out: Record<string, Scalar> = {}
  for (const [key, value] of Object.entries(fields)) out[key] = typeof value === 'number' ? value : S(value)
  return out
}

function writeUpdate(doc: TicketDoc, u: TicketUpdate): void {
  const t = doc.tickets[plainTicketId(u.ticket)] as Record<string, Scalar>
  if (u.to !== undefined) t['status'] = S(u.to)
  t['status_notes'] = S(u.note)
  t['updated_datetime'] = S(u.at)
}

function ticketReplica(writer: boolean): TicketReplica {
  let doc: A.Doc<TicketDoc> = writer ? A.from<TicketDoc>({ tickets: {} }) : A.init<TicketDoc>()
  const count = (month?: string): number => {
    const tickets = doc.tickets
    let n = 0
    for (const id of Object.keys(tickets)) {
      const t = tickets[id] as Record<string, Scalar>
      if (month !== undefined && !str(t['requested_datetime']).startsWith(month)) continue
      if (str(t['status']).length > 0) n++
    }
    return n
  }
  const load = (parts: Parts): void => {
    for (const p of parts) doc = A.loadIncremental(doc, p.bytes)
  }
  return {
    create: (index, fields) => {
      doc = A.change(doc, (d) => {
        d.tickets[plainTicketId(index)] = scalars(fields)
      })
    },
    update: (u) => {
      doc = A.change(doc, (d) => writeUpdate(d, u))
    },
    createBulk: (items) => {
      doc = A.change(doc, (d) => {
        const tickets = d.tickets
        for (const [i, f] of items) tickets[plainTicketId(i)] = scalars(f)
      })
    },
    updateBulk: (us) => {
      doc = A.change(doc, (d) => us.forEach((u) => writeUpdate(d, u)))
    },
    settle: async () => undefined,
    encodeFull: async () => [{ name: 'save', bytes: A.save(doc) }],
    apply: async (parts) => load(parts),
    readAll: async () => count(),
    loadMonth: async (parts, month) => {
      load(parts)
      return count(month)
    },
    since: async () => A.getHeads(doc),
    encodeSince: async (token) => [{ name: 'since', bytes: A.saveSince(doc, token as A.Heads) }],
    close: async () => A.free(doc),
  }
}

function textReplica(writer: boolean): TextReplica {
  let doc: A.Doc<{ body: string }> = writer ? A.from({ body: '' }) : A.init<{ body: string }>()
  return {
    insert: (pos, char) => {
      doc = A.change(doc, (d) => A.splice(d, ['body'], pos, 0, char))
    },
    delete: (pos) => {
      doc = A.change(doc, (d) => A.splice(d, ['body'], pos, 1))
    },
    bulk: (pos, chars, from, to) => {
      doc = A.change(doc, (d) => {
        for (let k = from; k < to; k++) {
          if (chars[k] === '') A.splice(d, ['body'], pos[k] as number, 1)
          else A.splice(d, ['body'], pos[k] as number, 0, chars[k] as string)
        }
      })
    },
    settle: async () => undefined,
    encodeFull: async () => [{ name: 'save', bytes: A.save(doc) }],
    load: async (parts) => {
      for (const p of parts) doc = A.loadIncremental(doc, p.bytes)
      return doc.body
    },
    text: () => doc.body,
    close: async () => A.free(doc),
  }
}

/** Automerge 3. */
export const system: System = {
  name: 'automerge',
  description: `@automerge/automerge ${version}: map per ticket, ImmutableString scalars, one change per change`,
  tickets: async (writer) => ticketReplica(writer),
  budget: async () => {
    type BudgetDoc = { acts: Record<string, A.ImmutableString>; projects: Record<string, Record<string, A.ImmutableString>>; total: A.ImmutableString }
    let doc = A.from<BudgetDoc>({ acts: {}, projects: {}, total: S('0') })
    return plainBudget({
      put: (entries) => {
        doc = A.change(doc, (d) => {
          const acts = d.acts
          for (const [hash, record] of entries) acts[hash] = S(JSON.stringify(record))
        })
      },
      values: () => {
        const acts = doc.acts
        return Object.keys(acts).map((hash) => JSON.parse(str(acts[hash])) as SignedRecord)
      },
      setup: (w) => {
        doc = A.change(doc, (d) => {
          for (const p of w.projects) d.projects[p.id] = { title: S(p.title), cost: S(p.cost) }
          d.total = S(w.total)
        })
      },
      encodeFull: () => [{ name: 'save', bytes: A.save(doc) }],
      close: () => A.free(doc),
    })
  },
  text: async (writer) => textReplica(writer),
}
