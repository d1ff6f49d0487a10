/**
 * The malformed-input corpus (src/testing/malformed/) against every entry point that takes
 * outside bytes or objects. Every case must get a typed `CabildoError` with a code, or the
 * entry point's documented tolerant answer (a guard verdict, a report, a decode failure); the
 * receiving replica's documents must not change (beyond what the sender may write as itself);
 * and the replica must still sync afterwards. Seeded: `SEED=n` replays another corpus.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { CabildoError } from '../../src/errors'
import { sha256Hex } from '../../src/encoding/canonical'
import { appendAct } from '../../src/civic/act-log'
import { fromOpen311, fromOpen311Request } from '../../src/civic/open311/from-open311'
import { parseServiceList } from '../../src/civic/open311/parse-service-list'
import { toOpen311 } from '../../src/civic/open311/to-open311'
import { parsePabulib } from '../../src/civic/pabulib/parse-pabulib'
import { pabulibToElection } from '../../src/civic/pabulib/pabulib-election'
import { verifyRecord } from '../../src/identity/signed-record'
import type { SignedRecord } from '../../src/identity/record-schema'
import { readSignedRecord } from '../../src/identity/record-shape'
import type { Identity } from '../../src/identity/identity'
import { exportBundle, importBundle, inspectBundle } from '../../src/sync/bundle'
import { decodeEnvelope, sessionClientId } from '../../src/sync/envelope-codec'
import { applyDocUpdate } from '../../src/sync/manual-sync'
import { createSpace, type Space } from '../../src/sync/space'
import { decodeSyncMessage, encodeSyncMessage } from '../../src/sync/sync-protocol'
import type { SyncEngine } from '../../src/sync/sync-engine'
import { createMemoryNetwork, type MemoryNetwork } from '../../src/transports/memory-network'
import { createSeededRandom } from '../../src/transports/seeded-random'
import { malformedEnvelopes, malformedUpdates, updateChain, type EnvelopeVerdict } from '../../src/testing/malformed/update-cases'
import { malformedRecords } from '../../src/testing/malformed/record-cases'
import { malformedBundles, malformedSyncMessages } from '../../src/testing/malformed/message-cases'
import { malformedOpen311, malformedPabulib } from '../../src/testing/malformed/import-cases'
import { simulatedIdentity } from '../../src/testing/simulator/sim-district'

const seed = process.env['SEED'] === undefined ? 20261130 : Number(process.env['SEED'])
const rerun = `rerun: SEED=${seed} npx vitest run test/sim/malformed-corpus.test.ts`
const SPACE = 'corpus-city'
const tried: Record<string, number> = {}

let network: MemoryNetwork
let alice: Identity
let bob: Identity
let mallory: Identity
let north: Space
let south: Space
let engines: SyncEngine[]
let shard: string
let ticketId: string
const genuineMessages: Uint8Array[] = []

async function settle(): Promise<void> {
  await network.settle({ idle: async () => void (await Promise.all(engines.map((engine) => engine.idle()))) })
}

/** A hash of every document a Space has open: what must not change. */
function stateOf(space: Space, names?: readonly string[]): string {
  const parts: string[] = []
  for (const [name, doc] of space.openDocs()) {
    if (names && !names.includes(name)) continue
    parts.push(`${name}:${sha256Hex(Y.encodeStateAsUpdate(doc))}`)
  }
  return parts.sort().join('\n')
}

/** An edit at each end reaches the other. */
async function expectStillSyncs(label: string): Promise<void> {
  const a = await north.tickets.require(ticketId)
  const b = await south.tickets.require(ticketId)
  a.update({ status_notes: `north after ${label}` })
  await settle()
  expect(b.get().value.status_notes, `south got north's edit after ${label}`).toBe(`north after ${label}`)
  b.update({ address: `south after ${label}` })
  await settle()
  expect(a.get().value.address, `north got south's edit after ${label}`).toBe(`south after ${label}`)
}

function count(family: string, n = 1): void {
  tried[family] = (tried[family] ?? 0) + n
}

beforeAll(async () => {
  ;[alice, bob, mallory] = await Promise.all(['alice', 'bob', 'mallory'].map((label) => simulatedIdentity(seed, label))) as [Identity, Identity, Identity]
  network = createMemoryNetwork({ seed })
  network.tap(({ bytes }) => {
    if (genuineMessages.length < 40) genuineMessages.push(bytes)
  })
  north = createSpace({ id: SPACE, identity: alice, districts: { north: alice.did } })
  south = createSpace({ id: SPACE, identity: bob, districts: { north: alice.did } })
  engines = [north.sync(network.transport(), { peerId: 'north', resyncEvery: 0 }), south.sync(network.transport(), { peerId: 'south', resyncEvery: 0 })]
  const ticket = await north.tickets.create({ service_code: 'pothole', district: 'north', description: 'Deep', agency_responsible: 'roads' })
  ticketId = ticket.id
  shard = ticket.shard
  await north.proposals.create({ title: 'Trees', district: 'north', process: 'pb2027', body: 'Plant trees.' })
  await settle()
  for (const name of north.shardNames()) await south.doc(name)
  await settle()
  ticket.update({ status_notes: 'first note' })
  await settle()
})

afterAll(async () => {
  await Promise.all([north?.close(), south?.close()])
  network?.close()
  const total = Object.values(tried).reduce((a, b) => a + b, 0)
  console.log(`malformed corpus (seed ${seed}): ${total} cases ${JSON.stringify(tried)}`)
})

describe(`malformed input corpus (${rerun})`, () => {
  it('Yjs updates to applyDocUpdate: a typed error with nothing changed, or applied as hand sync (which authenticates nothing) does; including decodable updates Yjs could not integrate', async () => {
    const random = createSeededRandom(seed + 1)
    const baseline = Y.encodeStateAsUpdate(await north.doc(shard))
    const chain = updateChain(await north.doc(shard), 4242, [
      (d) => (d.getMap('tickets').get(ticketId) as Y.Map<unknown>).set('status_notes', 'hand-synced'),
      (d) => d.getMap('notes').set('n', new Y.Text('a note')),
      (d) => (d.getMap('notes').get('n') as Y.Text).insert(0, 'edited: '),
    ])
    const maxBytes = 64 * 1024
    const cases = malformedUpdates({ random, chain, maxBytes })
    const fresh = async (): Promise<Space> => {
      const space = createSpace({ id: SPACE })
      await applyDocUpdate(space, shard, baseline)
      return space
    }
    let victim = await fresh()
    const outcomes: Record<string, number> = {}
    const wrong: string[] = []
    for (const c of cases) {
      const before = stateOf(victim)
      try {
        await applyDocUpdate(victim, shard, c.input, { maxBytes })
        outcomes['applied'] = (outcomes['applied'] ?? 0) + 1
        if (stateOf(victim) !== before) {
          await victim.close()
          victim = await fresh()
        }
      } catch (error) {
        if (!(error instanceof CabildoError) || !['E_UPDATE_MALFORMED', 'E_UPDATE_TOO_LARGE'].includes(error.code)) wrong.push(`${c.name}: ${String(error)}`)
        else if (stateOf(victim) !== before) wrong.push(`${c.name}: ${error.code}, but the document changed`)
        else outcomes[error.code] = (outcomes[error.code] ?? 0) + 1
      }
    }
    await victim.close()
    count('yjs-update', cases.length)
    expect(wrong, `${wrong.length} of ${cases.length} cases answered wrongly (${rerun})`).toEqual([])
    expect(outcomes['E_UPDATE_MALFORMED']).toBeGreaterThan(0)
    expect(outcomes['E_UPDATE_TOO_LARGE']).toBe(1)
  })

  it('envelopes into a document\'s ingress guard: each gets one of its verdicts, only the sender\'s own content can change the document, and the replica still syncs', async () => {
    const random = createSeededRandom(seed + 2)
    const signed = north.signedDocs.get(shard)
    if (!signed) throw new Error('the shard is open')
    const cases = await malformedEnvelopes({
      random,
      signer: mallory.keyPair,
      docId: `${SPACE}/${shard}`,
      otherDocId: `${SPACE}/process.pb2027`,
      victim: alice.did,
      genuine: signed.log().slice(0, 4).map((entry) => entry.bytes),
      base: signed.doc,
    })
    const wrong: string[] = []
    const verdicts: Record<string, number> = {}
    for (const c of cases) {
      const records = JSON.stringify(signed.doc.getMap('tickets').toJSON())
      const before = Y.decodeStateVector(Y.encodeStateVector(signed.doc))
      let outcome: Awaited<ReturnType<typeof signed.receive>>
      try {
        outcome = await signed.receive(c.input, { peerId: 'mallory', via: {} })
      } catch (error) {
        wrong.push(`${c.name}: receive threw ${String(error)}`)
        continue
      }
      const verdict: EnvelopeVerdict = outcome.status === 'rejected' ? outcome.code : outcome.status === 'applied' ? 'applied-own' : outcome.status
      verdicts[verdict] = (verdicts[verdict] ?? 0) + 1
      if (!c.expect.includes(verdict)) wrong.push(`${c.name}: ${verdict}${outcome.status === 'rejected' ? ` (${outcome.reason})` : ''}, expected one of ${c.expect.join(', ')}`)
      const after = Y.decodeStateVector(Y.encodeStateVector(signed.doc))
      const decoded = decodeEnvelope(c.input)
      const own = decoded.ok ? sessionClientId(decoded.envelope.author, decoded.envelope.session) : undefined
      for (const [client, clock] of after) {
        if (clock !== before.get(client) && !(verdict === 'applied-own' && client === own)) wrong.push(`${c.name}: client ${client} moved from ${before.get(client) ?? 0} to ${clock}`)
      }
      if (JSON.stringify(signed.doc.getMap('tickets').toJSON()) !== records) wrong.push(`${c.name}: the records changed`)
    }
    count('envelope', cases.length)
    expect(wrong, `${wrong.length} of ${cases.length} cases answered wrongly (${rerun})`).toEqual([])
    expect(Object.keys(verdicts).length).toBeGreaterThan(5)
    await expectStillSyncs('malformed envelopes')
  })

  it('signed records: verification refuses each with a code; written into an act log, none counts', async () => {
    const random = createSeededRandom(seed + 3)
    const doc = await north.doc(shard)
    const genuine = [...doc.getMap('acts').values()].map((value) => readSignedRecord(value)).find((record): record is SignedRecord => record !== undefined)
    if (!genuine) throw new Error('the shard has a creation act')
    const cases = await malformedRecords({ random, genuine, signer: mallory, victim: alice.did, otherDoc: `${SPACE}/process.pb2027` })
    const wrong: string[] = []
    for (const c of cases) {
      let verdict: string
      try {
        const result = await verifyRecord(c.input, { doc: genuine.doc })
        verdict = result.ok ? 'valid' : result.code
      } catch (error) {
        verdict = `threw ${String(error)}`
      }
      if (!(c.expect as readonly string[]).includes(verdict)) wrong.push(`${c.name}: ${verdict}, expected one of ${c.expect.join(', ')}`)
    }
    count('signed-record', cases.length)
    expect(wrong, `${wrong.length} of ${cases.length} cases answered wrongly (${rerun})`).toEqual([])

    // A hostile app writes the record-shaped ones into the act log: the ticket's view does not move.
    const ticket = await north.tickets.require(ticketId)
    const before = await ticket.resolve()
    const shaped = cases.filter((c) => ['bad-signature', 'wrong-doc', 'wrong-author', 'non-canonical'].includes(c.family) && typeof c.input === 'object' && c.input !== null)
    for (const c of shaped) appendAct(doc, c.input as SignedRecord, 'hostile app')
    const after = await ticket.resolve()
    expect(after.status).toBe(before.status)
    expect(after.history).toEqual(before.history)
    expect(after.rejected.length).toBeGreaterThan(before.rejected.length)
    for (const rejected of after.rejected) expect(['E_SIGNATURE', 'E_INVALID', 'E_FORBIDDEN']).toContain(rejected.code)
    await expectStillSyncs('malformed records')
  })

  it('sync protocol messages: decoding never throws; through the engine nothing changes, and the peer still syncs', async () => {
    const random = createSeededRandom(seed + 4)
    const cases = malformedSyncMessages({ random, genuine: genuineMessages.slice(0, 12) })
    const wrong: string[] = []
    for (const c of cases) {
      try {
        const decoded = decodeSyncMessage(c.input)
        if (!decoded.ok && !['malformed', 'unsupported'].includes(decoded.kind)) wrong.push(`${c.name}: kind ${decoded.kind}`)
      } catch (error) {
        wrong.push(`${c.name}: threw ${String(error)}`)
      }
    }
    expect(wrong, `decoding (${rerun})`).toEqual([])
    const names = [...north.openDocs().keys()]
    const before = stateOf(north, names)
    const hello = encodeSyncMessage({ type: 'hello', space: SPACE, ask: false })
    let transport = network.join('mallory')
    for (const [i, c] of cases.entries()) {
      if (i % 12 === 0) {
        // Strikes end with the peer ignored: come back as a new connection, as an attacker would.
        transport.close()
        transport = network.join('mallory')
        await settle()
        network.inject('mallory', 'north', hello)
      }
      network.inject('mallory', 'north', c.input)
      if (i % 50 === 0) await settle()
    }
    await settle()
    transport.close()
    await settle()
    count('sync-message', cases.length)
    expect(stateOf(north, names)).toBe(before)
    expect(engines[0]?.stats().malformed).toBeGreaterThan(0)
    await expectStillSyncs('malformed messages')
  })

  it('decodeSyncMessage never throws on any bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const decoded = decodeSyncMessage(bytes)
        return decoded.ok || decoded.kind === 'malformed' || decoded.kind === 'unsupported'
      }),
      { seed, numRuns: 2000 },
    )
    count('sync-message-property', 2000)
  })

  it('bundles: E_PARSE or E_ARGUMENT with nothing imported, or a report whose every refusal has a code; nothing changes', async () => {
    const random = createSeededRandom(seed + 5)
    const genuine = await exportBundle(north, { now: () => new Date('2026-11-30T12:00:00Z') })
    const envelopes = (north.signedDocs.get(shard)?.log() ?? []).map((entry) => entry.bytes)
    const cases = malformedBundles({ random, genuine, spaceId: SPACE, envelopes, shard })
    const wrong: string[] = []
    const names = [...north.openDocs().keys()]
    const outcomes: Record<string, number> = {}
    for (const c of cases) {
      const before = stateOf(north, names)
      try {
        inspectBundle(c.input)
      } catch (error) {
        if (!CabildoError.is(error, 'E_PARSE')) wrong.push(`${c.name}: inspect threw ${String(error)}`)
      }
      try {
        const report = await importBundle(north, c.input)
        outcomes['report'] = (outcomes['report'] ?? 0) + 1
        if (report.totals.applied > 0) wrong.push(`${c.name}: applied ${report.totals.applied} envelopes the replica already had`)
        for (const doc of report.docs) {
          for (const refused of doc.rejected) if (!refused.code) wrong.push(`${c.name}: a refusal without a code`)
          if (doc.error !== undefined && !doc.error.code) wrong.push(`${c.name}: a document error without a code`)
        }
      } catch (error) {
        if (!(CabildoError.is(error, 'E_PARSE') || CabildoError.is(error, 'E_ARGUMENT'))) wrong.push(`${c.name}: threw ${String(error)}`)
        else outcomes[error.code] = (outcomes[error.code] ?? 0) + 1
      }
      if (stateOf(north, names) !== before) wrong.push(`${c.name}: the documents changed`)
      for (const [name, doc] of north.openDocs()) {
        if (!names.includes(name) && Y.encodeStateVector(doc).length > 1) wrong.push(`${c.name}: ${name} was created with content`)
      }
    }
    count('bundle', cases.length)
    expect(wrong, `${wrong.length} of ${cases.length} cases answered wrongly (${rerun})`).toEqual([])
    expect(outcomes['E_PARSE']).toBeGreaterThan(0)
    expect(outcomes['report']).toBeGreaterThan(0)
    await expectStillSyncs('malformed bundles')
  })

  it('Open311 requests and service lists: a typed error or the tolerant report, never anything else', async () => {
    const random = createSeededRandom(seed + 6)
    const tickets = (await north.tickets.list()).map((t) => t.get().value)
    const fixture = readFileSync(new URL('../fixtures/open311/requests.json', import.meta.url), 'utf8')
    const services = readFileSync(new URL('../fixtures/open311/services.json', import.meta.url), 'utf8')
    const genuine = JSON.stringify([...(JSON.parse(fixture) as unknown[]), ...toOpen311(tickets as Parameters<typeof toOpen311>[0])])
    const wrong: string[] = []
    const expectTyped = (name: string, run: () => { errors: ReadonlyArray<{ error: CabildoError }> } | unknown): void => {
      try {
        const read = run() as { errors?: ReadonlyArray<{ error: unknown }> }
        for (const { error } of read.errors ?? []) if (!CabildoError.is(error, 'E_SCHEMA')) wrong.push(`${name}: a reported error that is no E_SCHEMA`)
      } catch (error) {
        if (!(error instanceof CabildoError)) wrong.push(`${name}: threw ${String(error)}`)
      }
    }
    const cases = malformedOpen311({ random, genuine })
    for (const c of cases) {
      expectTyped(c.name, () => fromOpen311(c.input, { district: 'north' }))
      expectTyped(`${c.name} (one request)`, () => fromOpen311Request(Array.isArray(c.input) ? c.input.slice(0, 1) : c.input, { district: 'north' }))
    }
    const serviceCases = malformedOpen311({ random, genuine: services, edits: 100 })
    for (const c of serviceCases) expectTyped(`services: ${c.name}`, () => parseServiceList(c.input, { district: 'north' }))
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expectTyped(`json ${JSON.stringify(value)?.slice(0, 80)}`, () => fromOpen311(value, { district: 'north' }))
        expectTyped(`json list ${JSON.stringify(value)?.slice(0, 80)}`, () => fromOpen311([value], { district: 'north' }))
      }),
      { seed, numRuns: 500 },
    )
    count('open311', cases.length * 2 + serviceCases.length + 1000)
    expect(wrong.slice(0, 20), `${wrong.length} cases answered wrongly (${rerun})`).toEqual([])
  })

  it('Pabulib text: E_PARSE or an instance, and E_PARSE or an election from it, never anything else', () => {
    const random = createSeededRandom(seed + 7)
    const genuine = 'META\nkey;value\ndescription;"Test; with ""quotes"""\nbudget;345795.50\nvote_type;cumulative\nrule;greedy\nmax_sum_points;3\n' +
      'PROJECTS\nproject_id;cost;name;selected\nL18/01;15000.25;"""Radość Życia""";1\nL18/02;0,5;Park;0\nL18/03;2000;Pool;1\n' +
      'VOTES\nvoter_id;vote;points;age\n1;L18/01,L18/02;2,1;30\n2;L18/02;3;\n3;;;41\n4;L18/03,L18/01;1,1;22\n'
    const wrong: string[] = []
    const parse = (name: string, text: string): void => {
      try {
        pabulibToElection(parsePabulib(text))
      } catch (error) {
        if (!CabildoError.is(error, 'E_PARSE')) wrong.push(`${name}: threw ${String(error).slice(0, 200)}`)
      }
    }
    expect(() => pabulibToElection(parsePabulib(genuine))).not.toThrow()
    const cases = malformedPabulib({ random, genuine })
    for (const c of cases) parse(c.name, c.input)
    const lines = fc.constantFrom('META', 'PROJECTS', 'VOTES', 'key;value', 'budget;10', 'vote_type;approval', 'vote_type;ordinal', 'project_id;cost', 'voter_id;vote', 'voter_id;vote;points', '1;5', '2;5', '1;1,2', '2;2;1', ';;', '"', '1;"a;b"')
    fc.assert(fc.property(fc.array(lines, { maxLength: 20 }), (picked) => parse(picked.join('|'), picked.join('\n'))), { seed, numRuns: 1000 })
    count('pabulib', cases.length + 1000)
    expect(wrong.slice(0, 20), `${wrong.length} cases answered wrongly (${rerun})`).toEqual([])
  })
})
