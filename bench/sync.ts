/**
 * Costs of authenticated sync, measured in one process and printed as a Markdown table.
 *
 *   npx tsx bench/sync.ts
 *
 * - sign: `signEnvelope` with a real `createIdentity()` key, one envelope at a time;
 * - verify: `createSignatureCheck` + `verifyEnvelopeSignature`, one at a time (one author, so its
 *   key is imported once and cached, as in a busy document);
 * - guard overhead: the same ticket-edit envelopes applied through an `IngressGuard` (with a
 *   real signature check, and with the check stubbed out to show the structural checks alone),
 *   against `Y.applyUpdate` of their raw updates into a fresh document;
 * - out of order: 5,000 envelopes of one session delivered newest first, through the guard and,
 *   for comparison, the first 500 of their raw updates through `Y.applyUpdate` (Yjs keeps what
 *   it cannot integrate yet as pending structs and retries them on every update, so the full
 *   5,000 would take over a minute);
 * - catch-up bytes: a ticket shard of 10,000 tickets, then one day of 800 new tickets and 2,000
 *   updates by 5 staff sessions (one transaction, hence one envelope, per action): the day's
 *   envelopes against `Y.encodeStateAsUpdate(doc, stateVectorBefore)`;
 * - catch-up through the engine: a late joiner catches up a history (1,000 characters typed one
 *   at a time, 100 tickets updated 3 times each, a proposal pasted in 10 pieces; each step signed
 *   before the next) through two sync engines on a memory network: bytes on the wire both ways
 *   and time until settled, with checkpoints off, with the default policy, and (typing) with a
 *   checkpoint made after the last keystroke, against plain Yjs sync of the same documents;
 * - checkpoints, one day of a 100,000-ticket shard: 8,000 new tickets and 20,000 status updates
 *   by 5 staff sessions, one envelope per action, checkpoints as the writer makes them; what a
 *   replica that holds the shard as it was before the day is sent (each session's cheapest plan)
 *   and how long its guard takes, against `Y.encodeStateAsUpdate(doc, stateVectorBefore)`.
 *
 * Tickets are Y.Maps of Open311-like fields with a Y.Text description, in a root map `tickets`.
 * Every run uses a fixed pseudo-random sequence, so the documents are the same from run to run.
 */
import { cpus } from 'node:os'
import { readFileSync } from 'node:fs'
import * as Y from 'yjs'
import {
  IngressGuard,
  SessionWriter,
  createIdentity,
  createMemoryNetwork,
  createSpace,
  createSignatureCheck,
  decodeEnvelope,
  encodeEnvelope,
  encodeEnvelopeBody,
  signEnvelope,
  verifyEnvelopeSignature,
  type Envelope,
  type Identity,
  type SignatureCheck,
  type Space,
} from '../src/index'
import { digest } from 'lib0/hash/sha256'
import { mergeSessionUpdates } from '../src/sync/checkpoint-update'
import { DEFAULT_CHECKPOINT_EVERY } from '../src/sync/signed-doc'
import { SessionLog, type SessionEntry } from '../src/sync/session-log'
import { sessionClientId } from '../src/sync/envelope-codec'
import { toHex } from '../src/encoding/canonical'

const DOC = 'city/tickets.2026-11'
const EDITS = 2_000
const OUT_OF_ORDER = 5_000
/** Raw Yjs retries its pending structs on every update (quadratic): 5,000 reversed ticket edits take over a minute, so a prefix is measured. */
const RAW_OUT_OF_ORDER = 500
const BASE_TICKETS = 10_000
const DAY_NEW = 800
const DAY_UPDATES = 2_000
const STAFF = 5
const KEYSTROKES = 1_000
const SHARD_TICKETS = 100_000
const SHARD_DAY_NEW = 8_000
const SHARD_DAY_UPDATES = 20_000

/** A small deterministic generator (mulberry32), so the documents are the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const STATUSES = ['open', 'acknowledged', 'in_progress', 'closed']
const SERVICES = ['pothole', 'streetlight', 'graffiti', 'trash', 'sidewalk']

function addTicket(doc: Y.Doc, id: string, rnd: () => number): void {
  const ticket = new Y.Map<unknown>()
  doc.getMap('tickets').set(id, ticket)
  ticket.set('service_request_id', id)
  ticket.set('service_code', SERVICES[Math.floor(rnd() * SERVICES.length)])
  ticket.set('status', 'open')
  ticket.set('address', `${Math.floor(rnd() * 400) + 1} Calle Mayor`)
  ticket.set('lat', 40.4 + rnd() / 10)
  ticket.set('long', -3.7 + rnd() / 10)
  ticket.set('requested_datetime', '2026-11-24T09:30:00Z')
  ticket.set('description', new Y.Text(`Reported near the bus stop, ${Math.floor(rnd() * 1000)} m from the corner.`))
}

function updateTicket(doc: Y.Doc, id: string, rnd: () => number): void {
  const ticket = doc.getMap('tickets').get(id) as Y.Map<unknown>
  ticket.set('status', STATUSES[Math.floor(rnd() * STATUSES.length)])
  ticket.set('updated_datetime', '2026-11-25T10:00:00Z')
  if (rnd() < 0.3) (ticket.get('description') as Y.Text).insert(0, 'Crew on site. ')
}

/** Signs `count` ticket edits of one session, one envelope per transaction; returns the envelopes. */
async function signedEdits(identity: Identity, count: number, seed: number): Promise<Uint8Array[]> {
  const doc = new Y.Doc()
  const out: Uint8Array[] = []
  const writer = new SessionWriter({ doc, docId: DOC, signer: identity.keyPair, onEnvelope: (bytes) => out.push(bytes) })
  const rnd = random(seed)
  const created = Math.ceil(count / 4)
  for (let i = 0; i < count; i++) {
    doc.transact(() => {
      if (i < created) addTicket(doc, `t${i}`, rnd)
      else updateTicket(doc, `t${Math.floor(rnd() * created)}`, rnd)
    })
    await writer.flush() // one envelope per transaction
  }
  writer.dispose()
  return out
}

function envelopeOf(bytes: Uint8Array): Envelope {
  const decoded = decodeEnvelope(bytes)
  if (!decoded.ok) throw new Error(`bench: envelope does not decode: ${decoded.code}`)
  return decoded.envelope
}

async function time(fn: () => Promise<void> | void): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const perSecond = (count: number, ms: number): string => `${fmt((count / ms) * 1000)}/s`
const micros = (ms: number, count: number): string => `${fmt((ms * 1000) / count, 1)} µs`
const kb = (bytes: number): string => `${fmt(bytes / 1024, 1)} KB`

const rows: Array<[string, string, string]> = []
const row = (what: string, figure: string, note = ''): void => void rows.push([what, figure, note])

async function main(): Promise<void> {
  const cpu = cpus()
  const yjsVersion = (JSON.parse(readFileSync(new URL('../node_modules/yjs/package.json', import.meta.url), 'utf8')) as { version: string }).version
  console.log(`Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}; Node ${process.version} (${process.platform}/${process.arch}); yjs ${yjsVersion}\n`)

  const alice = await createIdentity()
  const check = createSignatureCheck()

  // Sign and verify.
  const edits = await signedEdits(alice, EDITS, 1)
  const envelopes = edits.map(envelopeOf)
  const session = globalThis.crypto.getRandomValues(new Uint8Array(16))
  let signed: Envelope[] = []
  await signEnvelope(alice.keyPair, { doc: DOC, session, seq: 1, prev: new Uint8Array(0), update: envelopes[0]?.update ?? new Uint8Array(0) }) // warm-up
  const signMs = await time(async () => {
    signed = []
    for (const [i, e] of envelopes.entries()) {
      signed.push(await signEnvelope(alice.keyPair, { doc: DOC, session, seq: i + 1, prev: i === 0 ? new Uint8Array(0) : new Uint8Array(32).fill(i % 256), update: e.update }))
    }
  })
  row('sign (`signEnvelope`, one at a time)', perSecond(signed.length, signMs), `${fmt(signed.length)} envelopes, ${micros(signMs, signed.length)} each`)
  await verifyEnvelopeSignature(envelopes[0] as Envelope, check) // warm-up: imports the key
  let valid = 0
  const verifyMs = await time(async () => {
    for (const e of envelopes) if (await verifyEnvelopeSignature(e, check)) valid++
  })
  if (valid !== envelopes.length) throw new Error('bench: a genuine envelope failed verification')
  row('verify (`createSignatureCheck` + `verifyEnvelopeSignature`)', perSecond(envelopes.length, verifyMs), `${micros(verifyMs, envelopes.length)} each`)

  // Guard overhead, in order.
  const rawUpdates = envelopes.map((e) => e.update)
  const avgEnvelope = edits.reduce((s, b) => s + b.length, 0) / edits.length
  const avgUpdate = rawUpdates.reduce((s, b) => s + b.length, 0) / rawUpdates.length
  const viaRaw = (): Promise<number> =>
    time(() => {
      const doc = new Y.Doc()
      for (const u of rawUpdates) Y.applyUpdate(doc, u)
    })
  // Best of three (the first warms up): the machine may be shared.
  const rawMs = Math.min(await viaRaw(), await viaRaw(), await viaRaw())
  const viaGuard = async (signatureCheck: SignatureCheck): Promise<number> => {
    const doc = new Y.Doc()
    const guard = new IngressGuard({ doc, docId: DOC, check: signatureCheck })
    return time(async () => {
      for (const bytes of edits) {
        const outcome = await guard.receive(bytes, 'peer')
        if (outcome.status !== 'applied') throw new Error(`bench: envelope ${outcome.status}`)
      }
    })
  }
  const guardMs = Math.min(await viaGuard(check), await viaGuard(check))
  const noSigMs = Math.min(await viaGuard(async () => true), await viaGuard(async () => true))
  row(`raw \`Y.applyUpdate\`, ${fmt(EDITS)} ticket edits in order`, micros(rawMs, EDITS) + ' / update', `updates average ${fmt(avgUpdate)} B`)
  row('`IngressGuard.receive`, same edits as envelopes', micros(guardMs, EDITS) + ' / update', `${fmt(guardMs / rawMs, 1)} × raw; envelopes average ${fmt(avgEnvelope)} B`)
  row('`IngressGuard.receive`, signature check stubbed', micros(noSigMs, EDITS) + ' / update', `${fmt(noSigMs / rawMs, 1)} × raw: decoding, inspection, chain, clocks, delete rule`)

  // Out of order: newest first.
  const many = await signedEdits(alice, OUT_OF_ORDER, 2)
  const reversed = [...many].reverse()
  {
    const doc = new Y.Doc()
    // One peer sends them all: let it park every one (the default cap is 2,000 per peer).
    const guard = new IngressGuard({ doc, docId: DOC, check, limits: { pendingPerPeer: OUT_OF_ORDER } })
    let last: Awaited<ReturnType<IngressGuard['receive']>> | undefined
    const ms = await time(async () => {
      for (const bytes of reversed) last = await guard.receive(bytes, 'peer')
    })
    if (last?.status !== 'applied' || last.released.length !== OUT_OF_ORDER - 1 || guard.pending !== 0) throw new Error('bench: reversed delivery did not complete')
    row(`guard, ${fmt(OUT_OF_ORDER)} envelopes delivered newest first`, `${fmt(ms)} ms`, `until all applied (${micros(ms, OUT_OF_ORDER)} each, signatures included)`)
  }
  {
    const raw = many.slice(0, RAW_OUT_OF_ORDER).reverse().map((b) => envelopeOf(b).update)
    const doc = new Y.Doc()
    const ms = await time(() => {
      for (const u of raw) Y.applyUpdate(doc, u)
    })
    if (doc.store.pendingStructs !== null) throw new Error('bench: raw reversed delivery left pending structs')
    row(`raw \`Y.applyUpdate\`, the first ${fmt(RAW_OUT_OF_ORDER)} of those updates newest first`, `${fmt(ms)} ms`, `until all integrated (${micros(ms, RAW_OUT_OF_ORDER)} each; grows quadratically)`)
  }

  // Catch-up bytes for one day of a ticket shard.
  {
    const rnd = random(3)
    const doc = new Y.Doc()
    for (let i = 0; i < BASE_TICKETS; i += 500) {
      doc.transact(() => {
        for (let j = i; j < Math.min(BASE_TICKETS, i + 500); j++) addTicket(doc, `t${j}`, rnd)
      })
    }
    const baseBytes = Y.encodeStateAsUpdate(doc).length
    const before = Y.encodeStateVector(doc)
    const staff = await Promise.all(Array.from({ length: STAFF }, () => createIdentity()))
    const day: Uint8Array[] = []
    // Staff take turns on one replica (each with its own session), one action per transaction.
    const writers = staff.map((identity) => ({ identity, session: globalThis.crypto.getRandomValues(new Uint8Array(16)) }))
    const subDocs = writers.map(() => new Y.Doc())
    const update0 = Y.encodeStateAsUpdate(doc)
    for (const sub of subDocs) Y.applyUpdate(sub, update0)
    const sessionWriters = writers.map((w, i) => new SessionWriter({ doc: subDocs[i] as Y.Doc, docId: DOC, signer: w.identity.keyPair, session: w.session, onEnvelope: (bytes) => day.push(bytes) }))
    const actions = DAY_NEW + DAY_UPDATES
    let created = 0
    for (let a = 0; a < actions; a++) {
      const k = a % STAFF
      const sub = subDocs[k] as Y.Doc
      // Everyone sees everything so far (as replicas in sync would).
      const sv = Y.encodeStateVector(sub)
      Y.applyUpdate(sub, Y.encodeStateAsUpdate(doc, sv))
      const isNew = created < DAY_NEW && (rnd() < DAY_NEW / actions || actions - a <= DAY_NEW - created)
      const svBefore = Y.encodeStateVector(sub)
      sub.transact(() => {
        if (isNew) addTicket(sub, `n${created}`, rnd)
        else updateTicket(sub, rnd() < 0.3 && created > 0 ? `n${Math.floor(rnd() * created)}` : `t${Math.floor(rnd() * BASE_TICKETS)}`, rnd)
      })
      if (isNew) created++
      await sessionWriters[k]?.flush()
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(sub, svBefore))
    }
    for (const w of sessionWriters) w.dispose()
    if (day.length !== actions) throw new Error(`bench: expected ${actions} envelopes, got ${day.length}`)
    const envelopeBytes = day.reduce((s, b) => s + b.length, 0)
    const updateBytes = day.reduce((s, b) => s + envelopeOf(b).update.length, 0)
    const diff = Y.encodeStateAsUpdate(doc, before).length
    const diffV2 = Y.encodeStateAsUpdateV2(doc, before).length
    row(`catch-up, one day (${fmt(DAY_NEW)} new tickets + ${fmt(DAY_UPDATES)} updates) of a ${fmt(BASE_TICKETS)}-ticket shard: envelopes`, kb(envelopeBytes), `${fmt(day.length)} envelopes, ${fmt(envelopeBytes / day.length)} B each (${kb(updateBytes)} of Yjs updates inside)`)
    row('same day as `Y.encodeStateAsUpdate(doc, stateVectorBefore)`', kb(diff), `envelopes are ${fmt(envelopeBytes / diff, 1)} × this (V2 diff: ${kb(diffV2)}; whole shard: ${kb(baseBytes)} before the day)`)
  }

  await engineCatchUp()
  await shardDayCatchUp()

  console.log('| measure | figure | note |')
  console.log('| --- | --- | --- |')
  for (const [what, figure, note] of rows) console.log(`| ${what} | ${figure} | ${note} |`)
}


const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((byte, i) => byte === b[i])

/** A history written into a Space, in the Space's transactions, each signed before the next. */
interface History {
  readonly name: string
  write(space: Space): Promise<string[]>
}

/** Runs `count` steps, waiting after each until every local transaction is signed (one envelope per step). */
async function signedSteps(space: Space, count: number, step: (i: number) => Promise<void> | void): Promise<void> {
  for (let i = 0; i < count; i++) {
    await step(i)
    for (const signed of space.signedDocs.list()) await signed.writer?.flush()
  }
}

const histories: readonly History[] = [
  {
    name: `${fmt(KEYSTROKES)} characters typed, one transaction each`,
    async write(space) {
      const proposal = await space.proposals.create({ title: 'Plaza', district: 'north', process: 'p1' })
      const text = proposal.text('body')
      await signedSteps(space, KEYSTROKES, () => text.insert(text.length, 'abcdefghijklmnopqrstuvwxyz'[text.length % 26] as string))
      return [proposal.shard]
    },
  },
  {
    name: '100 tickets created, then 3 updates each',
    async write(space) {
      const tickets: Array<Awaited<ReturnType<Space['tickets']['create']>>> = []
      await signedSteps(space, 100, async () => void tickets.push(await space.tickets.create({ service_code: 'pothole', district: 'north' })))
      await signedSteps(space, 300, (i) => (tickets[i % 100] as (typeof tickets)[number]).update({ status_notes: `note ${i}` }))
      return [...new Set(tickets.map((t) => t.shard))]
    },
  },
  {
    name: 'a proposal pasted in 10 transactions of 1 KB',
    async write(space) {
      const proposal = await space.proposals.create({ title: 'Plaza', district: 'north', process: 'p1' })
      const text = proposal.text('body')
      await signedSteps(space, 10, (i) => text.insert(text.length, `${i}`.repeat(1024)))
      return [proposal.shard]
    },
  },
]

/**
 * A late joiner catches up a history through two engines on a memory network: bytes on the wire
 * both ways (hellos, heads, wants, envelopes) and time until settled, with checkpoints off, with
 * the default policy, and (for typing) with a checkpoint made after the last keystroke; against
 * plain Yjs sync of the same documents (each one's state vector, then its diff against it).
 */
async function engineCatchUp(): Promise<void> {
  for (const history of histories) {
    const runs: ReadonlyArray<readonly [string, number, boolean]> = [
      ['no checkpoints', 0, false],
      [`checkpoints (default, every ${DEFAULT_CHECKPOINT_EVERY})`, DEFAULT_CHECKPOINT_EVERY, false],
      ...(history === histories[0] ? [['default, plus `checkpoint()` after the last keystroke', DEFAULT_CHECKPOINT_EVERY, true] as const] : []),
    ]
    for (const [label, checkpointEvery, final] of runs) {
      const network = createMemoryNetwork({ seed: 1 })
      const author = createSpace({ id: 'city', identity: await createIdentity(), checkpointEvery })
      const a = author.sync(network.transport(), { peerId: 'a', resyncEvery: 0 })
      const shards = await history.write(author)
      if (final) for (const shard of shards) await author.signedDocs.checkpoint(shard)
      await author.flush()
      let bytes = 0
      const stop = network.tap((message) => void (bytes += message.bytes.length))
      const late = createSpace({ id: 'city', identity: await createIdentity() })
      const b = late.sync(network.transport(), { peerId: 'b', resyncEvery: 0 })
      const settle = (): Promise<number> => network.settle({ idle: async () => void (await Promise.all([a.idle(), b.idle()])) })
      const ms = await time(async () => {
        await settle()
        for (const shard of shards) await late.doc(shard)
        await settle()
      })
      stop()
      let yjsBytes = 0
      for (const [name, doc] of author.openDocs()) {
        if (!equalBytes(Y.encodeStateAsUpdate(doc), Y.encodeStateAsUpdate(await late.doc(name)))) throw new Error(`bench: ${name} differs after catch-up`)
        yjsBytes += Y.encodeStateAsUpdate(doc, Y.encodeStateVector(new Y.Doc())).length + Y.encodeStateVector(doc).length
      }
      const note = `${fmt(b.stats().envelopesReceived)} envelopes, ${fmt(ms)} ms until settled; plain Yjs sync: ${kb(yjsBytes)}, this is ${fmt(bytes / yjsBytes, 1)} ×`
      row(`catch-up through two engines, ${history.name}: ${label}`, kb(bytes), note)
      a.close()
      b.close()
      await Promise.all([author.close(), late.close()])
    }
  }
}

/** An entry of a session's log, as the bench keeps it. */
interface BenchEntry extends SessionEntry {
  readonly order: number
}

/**
 * One staff session signing its actions the way `SessionWriter` does (one envelope per action,
 * a checkpoint of the session once `DEFAULT_CHECKPOINT_EVERY` envelopes were signed since the
 * last one and they weigh at least as much as it plus their updates), so that five sessions can
 * share one document.
 */
class BenchSession {
  readonly client: number
  readonly log = new SessionLog<BenchEntry>()
  checkpointBytes = 0
  readonly #identity: Identity
  readonly #session = globalThis.crypto.getRandomValues(new Uint8Array(16))
  #seq = 0
  #prev = new Uint8Array(0)
  #since: Uint8Array[] = []
  #bytesSince = 0
  #last: { update: Uint8Array; size: number } | undefined

  constructor(identity: Identity) {
    this.#identity = identity
    this.client = sessionClientId(identity.did, this.#session)
  }

  async sign(update: Uint8Array, order: () => number): Promise<void> {
    const envelope = await signEnvelope(this.#identity.keyPair, { doc: DOC, session: this.#session, seq: this.#seq + 1, prev: this.#prev, update })
    const bytes = encodeEnvelope(envelope)
    this.#prev = digest(encodeEnvelopeBody(envelope))
    this.#seq++
    this.log.add({ seq: this.#seq, hash: toHex(this.#prev), bytes, order: order() })
    this.#since.push(update)
    this.#bytesSince += bytes.length - update.length
    if (this.#since.length < DEFAULT_CHECKPOINT_EVERY || this.#bytesSince < (this.#last?.size ?? 0)) return
    const merged = mergeSessionUpdates(this.#last === undefined ? this.#since : [this.#last.update, ...this.#since])
    const checkpoint = await signEnvelope(this.#identity.keyPair, { doc: DOC, session: this.#session, seq: this.#seq, prev: new Uint8Array(0), update: merged, checkpoint: { from: 1, last: this.#prev } })
    const checkpointBytes = encodeEnvelope(checkpoint)
    this.checkpointBytes += checkpointBytes.length
    this.log.add({ seq: this.#seq, hash: toHex(digest(encodeEnvelopeBody(checkpoint))), checkpoint: { from: 1, last: toHex(this.#prev) }, bytes: checkpointBytes, order: order() })
    this.#last = { update: merged, size: checkpointBytes.length }
    this.#since = []
    this.#bytesSince = 0
  }
}

/** Delivers envelopes to a fresh guard over `base`, in one batch; returns the milliseconds until every one applied. */
async function deliver(base: Uint8Array, envelopes: readonly Uint8Array[], check: SignatureCheck, expected: Y.Doc): Promise<number> {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, base)
  const guard = new IngressGuard({ doc, docId: DOC, check })
  const ms = await time(async () => {
    // All at once, as one sync message (or one bundle) hands them over.
    for (const outcome of await Promise.all(envelopes.map((bytes) => guard.receive(bytes, 'peer')))) {
      if (outcome.status === 'rejected') throw new Error(`bench: ${outcome.code} ${outcome.reason}`)
    }
  })
  if (guard.pending !== 0 || !equalBytes(Y.encodeStateVector(doc), Y.encodeStateVector(expected))) throw new Error('bench: the catch-up did not complete')
  return ms
}

/**
 * One day of a large ticket shard: 5 staff sessions take turns on one document (each action
 * under its session's client id), one envelope per action, checkpoints as the writer makes them.
 * A replica that holds the shard as it was before the day gets each session's cheapest plan.
 */
async function shardDayCatchUp(): Promise<void> {
  const rnd = random(4)
  const doc = new Y.Doc()
  for (let i = 0; i < SHARD_TICKETS; i += 1000) {
    doc.transact(() => {
      for (let j = i; j < Math.min(SHARD_TICKETS, i + 1000); j++) addTicket(doc, `t${j}`, rnd)
    })
  }
  const base = Y.encodeStateAsUpdate(doc)
  const before = Y.encodeStateVector(doc)
  const sessions = await Promise.all(Array.from({ length: STAFF }, async () => new BenchSession(await createIdentity())))
  let captured: Uint8Array | undefined
  doc.on('update', (update: Uint8Array) => void (captured = update))
  let counter = 0
  const order = (): number => counter++
  const actions = SHARD_DAY_NEW + SHARD_DAY_UPDATES
  let created = 0
  for (let a = 0; a < actions; a++) {
    const session = sessions[a % STAFF] as BenchSession
    doc.clientID = session.client
    const isNew = created < SHARD_DAY_NEW && (rnd() < SHARD_DAY_NEW / actions || actions - a <= SHARD_DAY_NEW - created)
    captured = undefined
    doc.transact(() => {
      if (isNew) addTicket(doc, `n${created}`, rnd)
      else {
        const ticket = doc.getMap('tickets').get(rnd() < 0.3 && created > 0 ? `n${Math.floor(rnd() * created)}` : `t${Math.floor(rnd() * SHARD_TICKETS)}`) as Y.Map<unknown>
        ticket.set('status', STATUSES[Math.floor(rnd() * STATUSES.length)])
        ticket.set('updated_datetime', '2026-11-25T10:00:00Z')
      }
    })
    if (isNew) created++
    if (captured === undefined) throw new Error('bench: an action wrote nothing')
    await session.sign(captured, order)
  }
  const plain = sessions.flatMap((s) => Array.from({ length: s.log.head }, (_, i) => s.log.envelopeAt(i + 1) as BenchEntry))
  const planned = sessions.flatMap((s) => s.log.plan(0)).sort((x, y) => x.order - y.order)
  const plainBytes = plain.reduce((sum, e) => sum + e.bytes.length, 0)
  const plannedBytes = planned.reduce((sum, e) => sum + e.bytes.length, 0)
  const checkpointTraffic = sessions.reduce((sum, s) => sum + s.checkpointBytes, 0)
  const diff = Y.encodeStateAsUpdate(doc, before)
  const diffV2 = Y.encodeStateAsUpdateV2(doc, before)
  const check = createSignatureCheck()
  const plannedMs = await deliver(base, planned.map((e) => e.bytes), check, doc)
  const plainMs = await deliver(base, plain.sort((x, y) => x.order - y.order).map((e) => e.bytes), check, doc)
  const fresh = new Y.Doc()
  Y.applyUpdate(fresh, base)
  const rawMs = await time(() => Y.applyUpdate(fresh, diff))
  const shard = `one day (${fmt(SHARD_DAY_NEW)} new tickets + ${fmt(SHARD_DAY_UPDATES)} status updates, ${STAFF} staff sessions) of a ${fmt(SHARD_TICKETS)}-ticket shard`
  row(`catch-up, ${shard}: every envelope`, kb(plainBytes), `${fmt(plain.length)} envelopes, ${fmt(plainBytes / diff.length, 1)} × the Yjs diff; ${fmt(plainMs)} ms through a guard`)
  row('same day, each session\'s cheapest plan (its latest checkpoint and the envelopes after it)', kb(plannedBytes), `${fmt(planned.length)} envelopes (${fmt(planned.filter((e) => e.checkpoint !== undefined).length)} checkpoints), ${fmt(plannedBytes / diff.length, 1)} × the Yjs diff; ${fmt(plannedMs)} ms through a guard`)
  row('same day as `Y.encodeStateAsUpdate(doc, stateVectorBefore)`', kb(diff.length), `V2: ${kb(diffV2.length)}; whole shard before the day: ${kb(base.length)}; applying it (with the base) took ${fmt(rawMs)} ms`)
  row('checkpoints the sessions signed during the day (sent live to every peer)', kb(checkpointTraffic), `${fmt(checkpointTraffic / plainBytes * 100)} % on top of the day's envelopes`)
}

await main()
