/**
 * Reliability figures, printed as Markdown tables:
 *
 *   npx tsx bench/reliability.ts
 *
 * - pending queue: 5,000 envelopes of one session arrive before their first one (from five
 *   peers, newest first and shuffled); the time from the first envelope's arrival until every
 *   one of them is applied. Signature checks happened when each arrived, so this is the
 *   release path alone.
 * - amplification: hostile inputs of every entry point that takes outside bytes (tiny ones
 *   that announce huge counts or ranges, the V2 bomb, deep JSON, a pending flood, large text),
 *   each measured as memory growth per input byte: transient (heap + array buffers right after
 *   the call) and retained (after a garbage collection). The worst ratio is printed last.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { createIdentity } from '../src/identity/identity'
import { IngressGuard } from '../src/sync/ingress-guard'
import { SessionWriter } from '../src/sync/session-writer'
import { createSignatureCheck } from '../src/sync/signature-check'
import { encodeEnvelope, sessionClientId } from '../src/sync/envelope-codec'
import { signEnvelope } from '../src/sync/envelope-signing'
import { inspectUpdate } from '../src/sync/update-inspector'
import { decodeSyncMessage, SYNC_PROTOCOL_VERSION, SyncMessageType } from '../src/sync/sync-protocol'
import { decodeEnvelope } from '../src/sync/envelope-codec'
import { createSpace } from '../src/sync/space'
import { applyDocUpdate } from '../src/sync/manual-sync'
import { importBundle, BUNDLE_MAGIC } from '../src/sync/bundle'
import { parsePabulib } from '../src/civic/pabulib/parse-pabulib'
import { fromOpen311 } from '../src/civic/open311/from-open311'
import { v2BombUpdate } from '../src/testing/byzantine/damage-attacks'
import { createSeededRandom } from '../src/transports/seeded-random'
import { digest } from 'lib0/hash/sha256'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const DOC = 'city/tickets.2026-11'
const PENDING = 5_000
const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 2 })
const memory = (): number => {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

async function pendingQueue(order: 'newest first' | 'shuffled'): Promise<{ ms: number; receiveMs: number }> {
  const alice = await createIdentity()
  const source = new Y.Doc()
  const envelopes: Uint8Array[] = []
  const writer = new SessionWriter({ doc: source, docId: DOC, signer: alice.keyPair, onEnvelope: (bytes) => envelopes.push(bytes) })
  const text = source.getText('body')
  for (let i = 0; i <= PENDING; i++) {
    text.insert(text.length, String(i % 10))
    await writer.flush() // one envelope per edit
  }
  const doc = new Y.Doc()
  const guard = new IngressGuard({ doc, docId: DOC, check: createSignatureCheck() })
  const later = envelopes.slice(1)
  if (order === 'newest first') later.reverse()
  else {
    const random = createSeededRandom(7)
    for (let i = later.length - 1; i > 0; i--) {
      const j = random.int(0, i)
      ;[later[i], later[j]] = [later[j] as Uint8Array, later[i] as Uint8Array]
    }
  }
  const received = performance.now()
  await Promise.all(later.map((bytes, i) => guard.receive(bytes, `peer-${i % 5}`)))
  const receiveMs = performance.now() - received
  if (guard.pending !== PENDING) throw new Error(`expected ${PENDING} pending, got ${guard.pending}`)
  const start = performance.now()
  const outcome = await guard.receive(envelopes[0] as Uint8Array, 'peer-0')
  const ms = performance.now() - start
  if (outcome.status !== 'applied' || outcome.released.length !== PENDING || doc.getText('body').toString() !== text.toString()) throw new Error('not all applied')
  return { ms, receiveMs }
}

interface Amplification {
  readonly name: string
  readonly bytes: number
  readonly transient: number
  readonly retained: number
}

async function measure(name: string, bytes: number, run: () => Promise<unknown> | unknown): Promise<Amplification> {
  gc()
  const before = memory()
  let kept: unknown = await run()
  const transient = Math.max(0, memory() - before)
  gc()
  const retained = Math.max(0, memory() - before)
  kept = undefined
  void kept
  return { name, bytes, transient, retained }
}

function varUintMessage(write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder()
  write(e)
  return encoding.toUint8Array(e)
}

async function amplification(): Promise<Amplification[]> {
  const mallory = await createIdentity()
  const session = new Uint8Array(16).fill(3)
  const client = sessionClientId(mallory.did, session)
  const sign = async (update: Uint8Array, s = session, seq = 1, prev = new Uint8Array(0)) => encodeEnvelope(await signEnvelope(mallory.keyPair, { doc: DOC, session: s, seq, prev, update }))
  const results: Amplification[] = []
  const hugeStructs = varUintMessage((e) => { encoding.writeVarUint(e, 1); encoding.writeVarUint(e, 30_000_000); encoding.writeVarUint(e, client); encoding.writeVarUint(e, 0) })
  const censorship = varUintMessage((e) => { encoding.writeVarUint(e, 1); encoding.writeVarUint(e, 1); encoding.writeVarUint(e, client); encoding.writeVarUint(e, 0); encoding.writeUint8(e, 0); encoding.writeVarUint(e, 8_000_000); encoding.writeVarUint(e, 0) })
  const hugeDeletes = varUintMessage((e) => { encoding.writeVarUint(e, 0); encoding.writeVarUint(e, 1); encoding.writeVarUint(e, client); encoding.writeVarUint(e, 1); encoding.writeVarUint(e, 0); encoding.writeVarUint(e, 2 ** 40) })
  const bomb = v2BombUpdate()
  results.push(await measure('inspectUpdate: 30 million structs declared', hugeStructs.length, () => inspectUpdate(hugeStructs)))
  results.push(await measure('inspectUpdate: a GC range of 8 million clocks', censorship.length, () => inspectUpdate(censorship)))
  results.push(await measure('inspectUpdate: a delete range of 2^40 clocks', hugeDeletes.length, () => inspectUpdate(hugeDeletes)))
  results.push(await measure('inspectUpdate: the V2 bomb read as V1', bomb.length, () => inspectUpdate(bomb)))
  const hand = createSpace({ id: 'city' })
  await hand.doc('tickets.2026-11')
  results.push(await measure('applyDocUpdate: 30 million structs declared', hugeStructs.length, () => applyDocUpdate(hand, 'tickets.2026-11', hugeStructs).catch((e: unknown) => e)))
  const guardDoc = new Y.Doc()
  const guard = new IngressGuard({ doc: guardDoc, docId: DOC, check: createSignatureCheck() })
  for (const [name, update] of [['30 million structs declared', hugeStructs], ['a GC range of 8 million clocks', censorship], ['the V2 bomb', bomb]] as const) {
    const envelope = await sign(update, digest(new TextEncoder().encode(name)).slice(0, 16))
    results.push(await measure(`guard: a signed envelope carrying ${name}`, envelope.length, () => guard.receive(envelope, 'mallory')))
  }
  const message = varUintMessage((e) => { encoding.writeVarUint(e, SYNC_PROTOCOL_VERSION); encoding.writeVarUint(e, SyncMessageType.envelopes); encoding.writeVarString(e, '_manifest'); encoding.writeVarUint(e, 1_000_000_000) })
  results.push(await measure('decodeSyncMessage: a billion envelopes announced', message.length, () => decodeSyncMessage(message)))
  const envelopeLike = varUintMessage((e) => { encoding.writeVarUint(e, 1); encoding.writeVarUint(e, 2 ** 31) })
  results.push(await measure('decodeEnvelope: a doc id of 2^31 bytes announced', envelopeLike.length, () => decodeEnvelope(envelopeLike)))
  const bundleBody = varUintMessage((e) => { encoding.writeUint8Array(e, BUNDLE_MAGIC); encoding.writeVarUint(e, 1); for (const t of ['city', '2026-11-30T12:00:00Z', '']) encoding.writeVarString(e, t); encoding.writeVarUint(e, 1_000_000_000) })
  const bundle = new Uint8Array([...bundleBody, ...digest(bundleBody)])
  results.push(await measure('importBundle: a billion documents announced', bundle.length, () => importBundle(hand, bundle).catch((e: unknown) => e)))
  const deep = `[${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}]`
  results.push(await measure('fromOpen311: JSON nested 5,000 deep', deep.length, () => { try { return fromOpen311(deep, { district: 'north' }) } catch (e) { return e } }))
  const votes = `META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\n${Array.from({ length: 100_000 }, (_, i) => `${i};1`).join('\n')}\n`
  results.push(await measure('parsePabulib: 100,000 votes (kept as the instance)', votes.length, () => parsePabulib(votes)))
  // What a peer can make a replica hold: envelopes that wait for a predecessor never sent.
  const flood: Uint8Array[] = []
  const floodSession = new Uint8Array(16).fill(9)
  const floodClient = sessionClientId(mallory.did, floodSession)
  for (let i = 2; i <= 2_001; i++) {
    const d = new Y.Doc()
    d.clientID = floodClient
    d.getMap('m').set(`k${i}`, 'x'.repeat(100))
    flood.push(await sign(Y.encodeStateAsUpdate(d), floodSession, i, new Uint8Array(32).fill(i % 256)))
  }
  const floodGuard = new IngressGuard({ doc: new Y.Doc(), docId: DOC, check: createSignatureCheck() })
  results.push(await measure('guard: 2,000 envelopes waiting for a predecessor never sent (kept)', flood.reduce((s, b) => s + b.length, 0), async () => {
    for (const bytes of flood) await floodGuard.receive(bytes, 'mallory')
    return floodGuard
  }))
  const text = new Y.Doc()
  text.clientID = client + 1
  const big = new Y.Doc()
  big.clientID = sessionClientId(mallory.did, new Uint8Array(16).fill(11))
  big.getMap('notes').set('n', new Y.Text('x'.repeat(1_000_000)))
  const bigEnvelope = await sign(Y.encodeStateAsUpdate(big), new Uint8Array(16).fill(11))
  const bigDoc = new Y.Doc()
  const bigGuard = new IngressGuard({ doc: bigDoc, docId: DOC, check: createSignatureCheck() })
  results.push(await measure('guard: a 1 MB text applied (kept in the document)', bigEnvelope.length, async () => {
    await bigGuard.receive(bigEnvelope, 'mallory')
    return bigDoc
  }))
  await hand.close()
  return results
}

const newest = await pendingQueue('newest first')
const shuffled = await pendingQueue('shuffled')
console.log('| pending queue | figure |\n| --- | --- |')
console.log(`| ${fmt(PENDING)} envelopes waiting, newest first: time until all applied once the first arrives | ${fmt(newest.ms)} ms (receiving them: ${fmt(newest.receiveMs)} ms) |`)
console.log(`| ${fmt(PENDING)} envelopes waiting, shuffled: time until all applied once the first arrives | ${fmt(shuffled.ms)} ms (receiving them: ${fmt(shuffled.receiveMs)} ms) |`)
console.log('\n| input | bytes | transient growth | retained growth |\n| --- | --- | --- | --- |')
const rows = await amplification()
// Per-byte ratios of inputs of a few bytes only measure the allocator's bookkeeping: those are
// judged by their absolute growth, the larger ones by growth per input byte.
const LARGE = 4096
const cell = (growth: number, bytes: number): string => `${fmt(growth / 1024)} KiB${bytes >= LARGE ? ` (${fmt(growth / bytes)} per byte)` : ''}`
for (const r of rows) console.log(`| ${r.name} | ${fmt(r.bytes)} | ${cell(r.transient, r.bytes)} | ${cell(r.retained, r.bytes)} |`)
const small = rows.filter((r) => r.bytes < LARGE)
const large = rows.filter((r) => r.bytes >= LARGE)
const most = (list: Amplification[], of: (r: Amplification) => number): Amplification => list.reduce((a, b) => (of(b) > of(a) ? b : a))
const t = most(large, (r) => r.transient / r.bytes)
const k = most(large, (r) => r.retained / r.bytes)
const s = most(small, (r) => r.transient)
console.log(`\nworst ratio (inputs >= ${LARGE} bytes): transient ${fmt(t.transient / t.bytes)} bytes per input byte (${t.name}); retained ${fmt(k.retained / k.bytes)} (${k.name})`)
console.log(`largest growth from an input under ${LARGE} bytes: ${fmt(s.transient / 1024)} KiB transient (${s.name})`)
