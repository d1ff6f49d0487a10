/**
 * cabildo through its public API: a Space with a district root identity (so every local
 * transaction is signed into an envelope, and lifecycle acts are signed records), tickets by
 * `space.tickets.create`, transitions by the signed ticket acts (`acknowledge`, `start`,
 * `close`), notes by `ticket.update`; monthly ticket shards (the default rule). A fresh replica
 * receives Yjs state by `applyDocUpdate` (trusted path) or envelopes through the ingress guards
 * (`exportBundle` / `importBundle`, the signed path).
 * @module
 */
import * as Y from 'yjs'
import type { SignedRecord } from '../../../src/identity/signed-record'
import { createVerifier } from '../../../src/identity/verifier'
import { identityFromKeyPair } from '../../../src/identity/identity'
import { keyPairFromSeed } from '../../../src/identity/keys'
import { actLogOf, appendAct, verifyActs } from '../../../src/civic/act-log'
import { resolveBudget, type BudgetView } from '../../../src/civic/budget-tally'
import { isFailedRecord, type PolicyEntry } from '../../../src/policy/policy-record'
import { greedyOutcome } from '../../../src/civic/budgeting/greedy'
import type { BallotChoice } from '../../../src/schema/budget'
import { createSpace, type Space } from '../../../src/sync/space'
import { applyDocUpdate } from '../../../src/sync/manual-sync'
import { exportBundle, importBundle } from '../../../src/sync/bundle'
import type { WireHead } from '../../../src/sync/sync-protocol'
import { MANIFEST_DOC } from '../../../src/sync/shard-set'
import type { BudgetReplica, Parts, SignedPath, System, TextReplica, TicketReplica } from '../system'
import { AGENCIES, BUDGET_NONCE, BUDGET_SHARD_KEY, DISTRICTS, MAX_APPROVED, ROOT_SEED, SPACE_ID, budgetIds, prng, type BudgetWorkload, type TicketUpdate } from '../workloads'

const remote = Object.freeze({ bench: 'received' })
const ACTIONS = { acknowledged: 'acknowledge', in_progress: 'start', closed: 'close' } as const

/** Deterministic record keys: queued ones first (to match the workload's ids), then seeded ones. */
function keySource(seed: number): { next: () => string; queue: string[] } {
  const rnd = prng(seed)
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
  const queue: string[] = []
  return {
    queue,
    next: () => queue.shift() ?? Array.from({ length: 16 }, () => alphabet[Math.floor(rnd() * 62)]).join(''),
  }
}

async function rootSpace(keys = keySource(1), clock?: { at: string }): Promise<Space> {
  const root = identityFromKeyPair(await keyPairFromSeed(ROOT_SEED))
  const space = createSpace({
    id: SPACE_ID,
    identity: root,
    districts: Object.fromEntries(DISTRICTS.map((d) => [d, root.did])),
    randomKey: keys.next,
    ...(clock ? { now: () => new Date(clock.at) } : {}),
  })
  await space.grantRole(root.did, 'staff')
  for (const agency of AGENCIES) await space.grantRole(root.did, `agency:${agency}`)
  return space
}

async function readerSpace(): Promise<Space> {
  const root = await keyPairFromSeed(ROOT_SEED)
  return createSpace({ id: SPACE_ID, districts: Object.fromEntries(DISTRICTS.map((d) => [d, root.did])) })
}

async function encodeAll(space: Space, since?: ReadonlyMap<string, Uint8Array>): Promise<Parts> {
  // Every known shard is opened so that the parts cover the whole Space (the manifest first).
  for (const name of space.shardNames()) await space.doc(name)
  return [...space.openDocs()].map(([name, doc]) => ({ name, bytes: Y.encodeStateAsUpdate(doc, since?.get(name)) }))
}

/** A whole shard's state is one update: at 1,000,000 tickets a month holds 1.4 million structs. */
const UNLIMITED = { maxBytes: Number.POSITIVE_INFINITY, limits: { maxStructs: Number.POSITIVE_INFINITY, maxDeleteRanges: Number.POSITIVE_INFINITY } }

async function applyAll(space: Space, parts: Parts): Promise<void> {
  for (const part of parts) await applyDocUpdate(space, part.name, part.bytes, UNLIMITED)
}

function signedPath(space: () => Space): SignedPath {
  return {
    exportAll: () => exportBundle(space(), { now: () => new Date(0) }),
    importBundle: async (bytes) => {
      const report = await importBundle(space(), bytes)
      return report.docs.flatMap((doc) => [
        ...doc.rejected.map((r) => `${doc.name}: ${r.code}: ${r.reason}`),
        ...(doc.pending > 0 ? [`${doc.name}: ${doc.pending} still pending`] : []),
      ])
    },
    heads: async () => {
      const heads: Record<string, readonly WireHead[]> = {}
      for (const name of [MANIFEST_DOC, ...space().shardNames()]) {
        await space().doc(name)
        const signed = space().signedDocs.get(name)
        if (signed) heads[name] = signed.heads()
      }
      return heads
    },
    exportSince: (heads) => exportBundle(space(), { heads: heads as Record<string, readonly WireHead[]>, now: () => new Date(0) }),
  }
}

async function ticketReplica(writer: boolean): Promise<TicketReplica & { signed: SignedPath }> {
  const clock = { at: '2026-01-01T00:00:00.000Z' }
  const space = writer ? await rootSpace(keySource(11), clock) : await readerSpace()
  const ids: string[] = []
  const update = async (u: TicketUpdate): Promise<void> => {
    const entity = await space.tickets.require(ids[u.ticket] as string)
    clock.at = u.at
    if (u.to === undefined) entity.update({ status_notes: u.note })
    else await entity[ACTIONS[u.to]]({ note: u.note })
  }
  const read = async (shards?: string[]): Promise<number> => {
    let count = 0
    for (const entity of await space.tickets.list(shards ? { shards } : {})) if (entity.get().value.status) count++
    return count
  }
  return {
    create: async (index, fields) => {
      ids[index] = (await space.tickets.create(fields)).id
    },
    update,
    // Past the cap: the creates of a batch run concurrently, as an import would make them (the
    // session writer then merges the transactions made while a signature is in flight).
    createBulk: async (items) => {
      const made = await Promise.all(items.map(([, fields]) => space.tickets.create(fields)))
      items.forEach(([index], k) => (ids[index] = (made[k] as { id: string }).id))
    },
    // Past the cap: each ticket's updates in order, different tickets concurrently, all at the
    // batch's last time (the clock is the Space's, shared by the concurrent updates).
    updateBulk: async (us) => {
      const byTicket = new Map<number, TicketUpdate[]>()
      for (const u of us) byTicket.set(u.ticket, [...(byTicket.get(u.ticket) ?? []), u])
      const at = us[us.length - 1]?.at ?? clock.at
      await Promise.all(
        [...byTicket.values()].map(async (list) => {
          for (const u of list) await update({ ...u, at })
        }),
      )
    },
    settle: () => space.flush(),
    encodeFull: () => encodeAll(space),
    apply: (parts) => applyAll(space, parts),
    readAll: () => read(),
    loadMonth: async (parts, month) => {
      const shard = `tickets.${month}`
      await applyAll(space, parts.filter((p) => p.name === MANIFEST_DOC || p.name === shard))
      return read([shard])
    },
    since: async () => {
      for (const name of space.shardNames()) await space.doc(name)
      return new Map([...space.openDocs()].map(([name, doc]) => [name, Y.encodeStateVector(doc)]))
    },
    encodeSince: (token) => encodeAll(space, token as Map<string, Uint8Array>),
    close: () => space.close(),
    signed: signedPath(() => space),
  }
}

/** Ballots as they arrive from voters' devices: written by another document, applied here as a remote update. */
function receive(doc: Y.Doc, ballots: readonly SignedRecord[]): void {
  const peer = new Y.Doc()
  peer.transact(() => ballots.forEach((b) => appendAct(peer, b, null)))
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(peer), remote)
  peer.destroy()
}

async function budgetReplica(): Promise<BudgetReplica> {
  const keys = keySource(21)
  const space = await rootSpace(keys)
  const { shard, docId, budgetId } = await budgetIds()
  let workload: BudgetWorkload | undefined
  let entries: PolicyEntry[] = []
  let view: BudgetView | undefined
  const budget = async () => space.budgets.require(budgetId)
  return {
    setup: async (w) => {
      workload = w
      keys.queue.push(BUDGET_SHARD_KEY, BUDGET_NONCE)
      const created = await space.budgets.create({ title: 'PB 2027', total: w.total, currency: 'EUR', district: 'north', votingMethod: { kind: 'approval', maxProjects: MAX_APPROVED } })
      if (created.id !== budgetId) throw new Error(`bench: budget id ${created.id}, expected ${budgetId}`)
      for (const p of w.projects) {
        keys.queue.push(p.key)
        const project = await space.projects.create({ budget: budgetId, title: p.title, cost: p.cost, district: 'north' })
        if (project.id !== p.id) throw new Error(`bench: project id ${project.id}, expected ${p.id}`)
      }
      await created.openVoting({ eligibility: 'anyone' })
      await space.flush()
    },
    ingest: async (ballots, batch) => {
      const doc = await space.doc(shard)
      for (let start = 0; start < ballots.length; start += batch) receive(doc, ballots.slice(start, start + batch))
    },
    encodeFull: () => encodeAll(space),
    verify: async () => {
      const doc = await space.doc(shard)
      entries = await verifyActs([...actLogOf(doc).entries()], docId, createVerifier())
      return entries.filter((e) => !isFailedRecord(e) && e.type === 'budget.ballot').length
    },
    fold: async () => {
      const roster = await space.roster('north')
      const w = workload as BudgetWorkload
      view = resolveBudget(budgetId, entries, {
        authorize: (author, role, clock) => roster?.hasRole(author, role, clock) ?? false,
        authorizeKey: 'bench',
        total: w.total,
        projects: w.projects.map((p) => p.id),
      })
      return view.ballots.length
    },
    outcome: async () => {
      const w = workload as BudgetWorkload
      const ballots = (view as BudgetView).ballots.map((b) => (b.payload as { choice: BallotChoice }).choice)
      return greedyOutcome({ total: w.total, projects: w.projects.map((p) => ({ id: p.id, cost: p.cost })), ballots }).selected
    },
    warm: async () => void (await (await budget()).resolve()),
    addBallot: async (ballot: SignedRecord) => {
      receive(await space.doc(shard), [ballot])
      return (await (await budget()).resolve()).ballots.length
    },
    close: () => space.close(),
  }
}

async function textReplica(writer: boolean): Promise<TextReplica> {
  const space = writer ? await rootSpace(keySource(31)) : await readerSpace()
  let body: Y.Text | undefined
  let id = ''
  if (writer) {
    const proposal = await space.proposals.create({ title: 'Accessible playgrounds in every district', district: 'north', process: 'pb2027', body: '' })
    id = proposal.id
    body = proposal.text('body')
  }
  const text = (): Y.Text => body as Y.Text
  return {
    insert: (pos, char) => text().insert(pos, char),
    delete: (pos) => text().delete(pos, 1),
    bulk: (pos, chars, from, to) => {
      const t = text()
      ;(t.doc as Y.Doc).transact(() => {
        for (let k = from; k < to; k++) {
          if (chars[k] === '') t.delete(pos[k] as number, 1)
          else t.insert(pos[k] as number, chars[k] as string)
        }
      })
    },
    settle: () => space.flush(),
    encodeFull: () => encodeAll(space),
    load: async (parts) => {
      await applyAll(space, parts)
      const [proposal] = await space.proposals.list()
      // The Y.Text itself: the trace ends above the schema's 100,000-character body limit, so a
      // validated read (`get()`) reports the body as an issue instead of returning it.
      return proposal ? proposal.text('body').toString() : ''
    },
    text: () => (id === '' ? '' : text().toString()),
    close: () => space.close(),
  }
}

/** cabildo. */
export const system: System = {
  name: 'cabildo',
  description: 'cabildo (this repository): typed collections, signed envelopes per transaction, signed ticket acts, monthly shards',
  tickets: (writer) => ticketReplica(writer),
  budget: budgetReplica,
  text: textReplica,
}
