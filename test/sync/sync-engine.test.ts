import { beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import {
  createIdentity,
  createMemoryNetwork,
  createMemoryStorage,
  createSpace,
  decodeEnvelope,
  decodeSyncMessage,
  encodeEnvelope,
  encodeSyncMessage,
  headsMessages,
  MANIFEST_DOC,
  openSpace,
  signEnvelope,
  type Identity,
  type SyncEngine,
  type SyncMessage,
  type Transport,
} from '../../src/index'
import { expectSameDocs, openAll, replica, settle, type Replica } from './sync-fixtures'

let root: Identity
let agency: Identity
let staff: Identity
let citizen: Identity
let mallory: Identity

beforeAll(async () => {
  ;[root, agency, staff, citizen, mallory] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity(), createIdentity()])
})

const cityOptions = () => ({ districts: { north: root.did } })

function engines(replicas: readonly Replica[]): SyncEngine[] {
  return replicas.map((r) => r.engine)
}

describe('sync engine: honest replicas', () => {
  it('two Spaces converge: tickets with signed acts, proposals with concurrent text edits, identical docs and resolved views', async () => {
    const network = createMemoryNetwork({ seed: 11 })
    const a = replica(network, 'a', root, cityOptions())
    const b = replica(network, 'b', agency, cityOptions())
    await settle(network, engines([a, b]))

    await a.space.grantRole(agency.did, 'agency:roads')
    const ticket = await a.space.tickets.create({ service_code: 'pothole', district: 'north', agency_responsible: 'roads' })
    const proposal = await a.space.proposals.create({ title: 'Benches', district: 'north', process: 'pb2026', body: 'Ten benches.' })
    await settle(network, engines([a, b]))
    await openAll([a.space, b.space])
    await settle(network, engines([a, b]))

    const atAgency = await b.space.tickets.require(ticket.id)
    await atAgency.acknowledge({ note: 'Seen' })
    await atAgency.close({ note: 'Filled' })
    // Concurrent edits of the same text on both sides.
    ;(await a.space.proposals.require(proposal.id)).text('body').insert(0, 'Revised: ')
    ;(await b.space.proposals.require(proposal.id)).text('body').insert(12, ' in the park')
    await settle(network, engines([a, b]))

    await expectSameDocs([a.space, b.space])
    // Every local edit, the manifest's shard registrations included, left as an envelope.
    for (const r of [a, b]) for (const signed of r.space.signedDocs.list()) expect(signed.unsigned(), `${r.name} ${signed.name}`).toEqual({ clients: [], clocks: 0 })
    const bodies = await Promise.all([a, b].map(async (r) => (await r.space.proposals.require(proposal.id)).get().value.body))
    expect(bodies[0]).toBe(bodies[1])
    expect(bodies[0]).toContain('Revised: ')
    expect(bodies[0]).toContain(' in the park')
    const views = await Promise.all([a, b].map(async (r) => (await r.space.tickets.require(ticket.id)).resolve()))
    expect(views[0]?.status).toBe('closed')
    expect(views[0]?.rejected).toEqual([])
    expect(views[1]).toEqual(views[0])
    expect(a.engine.quarantine()).toEqual([])
    expect(b.engine.quarantine()).toEqual([])
  })

  it('three Spaces converge, and a late joiner catches up on the manifest at once and on each shard when it opens it', async () => {
    const network = createMemoryNetwork({ seed: 12 })
    const replicas = [replica(network, 'root', root, cityOptions()), replica(network, 'staff', staff, cityOptions()), replica(network, 'citizen', citizen, cityOptions())]
    const [r0, r1, r2] = replicas as [Replica, Replica, Replica]
    await r0.space.grantRole(staff.did, 'staff')
    const filed = await r2.space.tickets.create({ service_code: 'graffiti', district: 'north' })
    await r1.space.proposals.create({ title: 'Trees', district: 'north', process: 'pb2026' })
    await settle(network, engines(replicas))
    await openAll(replicas.map((r) => r.space))
    await settle(network, engines(replicas))
    await (await r1.space.tickets.require(filed.id)).acknowledge()
    await settle(network, engines(replicas))
    await expectSameDocs(replicas.map((r) => r.space))

    const late = replica(network, 'late', mallory, cityOptions())
    await settle(network, engines([...replicas, late]))
    expect(late.space.shardNames()).toEqual(r0.space.shardNames())
    expect([...late.space.openDocs().keys()]).toEqual([MANIFEST_DOC]) // lazy: nothing opened yet
    await late.space.doc(filed.shard)
    await settle(network, engines([...replicas, late]))
    const view = await (await late.space.tickets.require(filed.id)).resolve()
    expect(view).toEqual(await (await r0.space.tickets.require(filed.id)).resolve())
    expect(view.status).toBe('acknowledged')
    await openAll([...replicas, late].map((r) => r.space))
    await settle(network, engines([...replicas, late]))
    await expectSameDocs([...replicas, late].map((r) => r.space))
  })

  it('eager: opens every shard the manifest lists, including shards learnt later', async () => {
    const network = createMemoryNetwork({ seed: 13 })
    const a = replica(network, 'a', citizen)
    const archive = replica(network, 'archive', undefined, {}, { eager: true })
    await a.space.tickets.create({ service_code: 'x', district: 'n', requested_datetime: '2026-01-05T10:00:00Z' })
    await settle(network, engines([a, archive]))
    await a.space.tickets.create({ service_code: 'y', district: 'n', requested_datetime: '2026-02-05T10:00:00Z' })
    await settle(network, engines([a, archive]))
    expect([...archive.space.openDocs().keys()].sort()).toEqual([MANIFEST_DOC, 'tickets.2026-01', 'tickets.2026-02'])
    await expectSameDocs([a.space, archive.space])
  })

  it('a Space without identity receives everything; its own edits stay local and are reported as unsigned', async () => {
    const network = createMemoryNetwork({ seed: 14 })
    const writer = replica(network, 'writer', citizen)
    const reader = replica(network, 'reader', undefined)
    const ticket = await writer.space.tickets.create({ service_code: 'pothole', district: 'north' })
    await settle(network, engines([writer, reader]))
    await reader.space.doc(ticket.shard)
    await settle(network, engines([writer, reader]))
    expect((await reader.space.tickets.require(ticket.id)).get().value.service_code).toBe('pothole')

    ;(await reader.space.tickets.require(ticket.id)).update({ status_notes: 'local only' })
    await settle(network, engines([writer, reader]))
    expect((await writer.space.tickets.require(ticket.id)).get().value.status_notes).toBeUndefined()
    const unsigned = reader.space.signedDocs.get(ticket.shard)?.unsigned()
    expect(unsigned?.clocks).toBeGreaterThan(0)
    expect(writer.space.signedDocs.get(ticket.shard)?.unsigned().clocks).toBe(0)
  })

  it('ignores peers of another Space: nothing crosses, and they are listed as foreign', async () => {
    const network = createMemoryNetwork({ seed: 15 })
    const city = replica(network, 'city', citizen)
    const otherSpace = createSpace({ id: 'other-city', identity: staff })
    const other = otherSpace.sync(network.transport(), { peerId: 'other', resyncEvery: 0 })
    const mine = await city.space.tickets.create({ service_code: 'x', district: 'n' })
    const theirs = await otherSpace.tickets.create({ service_code: 'y', district: 'n' })
    await settle(network, [city.engine, other])
    await city.space.doc(theirs.shard)
    await otherSpace.doc(mine.shard)
    other.resync() // its heads reach the city, which ignores them
    await settle(network, [city.engine, other])
    expect(city.engine.peers()).toEqual([expect.objectContaining({ peerId: 'other', status: 'foreign' })])
    expect(other.peers()).toEqual([expect.objectContaining({ peerId: 'city', status: 'foreign' })])
    expect(city.engine.stats()).toMatchObject({ peers: 0, envelopesReceived: 0, envelopesSent: 0 })
    expect(city.engine.stats().ignored).toBeGreaterThan(0)
    expect(await city.space.tickets.get(theirs.id)).toBeUndefined()
    expect(await otherSpace.tickets.get(mine.id)).toBeUndefined()
    expect(city.engine.quarantine()).toEqual([])
  })
})

describe('sync engine: faults', () => {
  it('recovers a dropped envelope by asking its sender as soon as the next one arrives (want), without any resync', async () => {
    const network = createMemoryNetwork({ seed: 21 })
    const a = replica(network, 'a', citizen)
    const b = replica(network, 'b', staff)
    const ticket = await a.space.tickets.create({ service_code: 'pothole', district: 'north' })
    await settle(network, engines([a, b]))
    await b.space.doc(ticket.shard)
    await settle(network, engines([a, b]))
    // Drop the next envelopes message from a to b.
    network.configure({ dropRate: 1 })
    const entity = await a.space.tickets.require(ticket.id)
    entity.update({ status_notes: 'first' })
    await a.space.signedDocs.get(ticket.shard)?.flush()
    await settle(network, engines([a, b]))
    network.configure({ dropRate: 0 })
    expect((await b.space.tickets.require(ticket.id)).get().value.status_notes).toBeUndefined()
    const wants: SyncMessage[] = []
    const stop = network.tap(({ from, bytes }) => {
      const decoded = decodeSyncMessage(bytes)
      if (from === 'b' && decoded.ok && decoded.message.type === 'want') wants.push(decoded.message)
    })
    entity.update({ status_notes: 'second' })
    await settle(network, engines([a, b]))
    stop()
    expect(wants).toEqual([{ type: 'want', doc: ticket.shard, wants: [expect.objectContaining({ author: citizen.did })] }])
    expect((await b.space.tickets.require(ticket.id)).get().value.status_notes).toBe('second')
    await expectSameDocs([a.space, b.space])
    expect(b.engine.stats().pending).toBe(0)
  })

  it('converges after duplicates, drops, reordering, delays and a partition, once healed and resynced', async () => {
    const network = createMemoryNetwork({ seed: 22, dropRate: 0.2, duplicateRate: 0.2, reorderRate: 0.3, delay: { min: 1, max: 15 } })
    const replicas = [replica(network, 'root', root, cityOptions()), replica(network, 'agency', agency, cityOptions()), replica(network, 'staff', staff, cityOptions())]
    const [r0, r1, r2] = replicas as [Replica, Replica, Replica]
    const all = engines(replicas)
    await r0.space.grantRole(agency.did, 'agency:roads')
    await r0.space.grantRole(staff.did, 'staff')
    const ticket = await r2.space.tickets.create({ service_code: 'pothole', district: 'north', agency_responsible: 'roads' })
    await settle(network, all)
    // Whatever the loss kept from the first exchange, a calm resync brings (everyone has the ticket before the partition).
    network.configure({ dropRate: 0 })
    for (const r of replicas) r.engine.resync()
    await settle(network, all)
    await openAll(replicas.map((r) => r.space))
    await settle(network, all)
    network.configure({ dropRate: 0.2 })

    network.partition([['root'], ['agency', 'staff']])
    await (await r1.space.tickets.require(ticket.id)).acknowledge()
    for (let i = 0; i < 10; i++) (await r0.space.tickets.require(ticket.id)).update({ status_notes: `root note ${i}` })
    await (await r2.space.tickets.require(ticket.id)).update({ description: 'Deep' })
    await settle(network, all)
    network.heal()
    network.configure({ dropRate: 0, duplicateRate: 0, reorderRate: 0 })
    await settle(network, all)
    for (const r of replicas) r.engine.resync()
    await settle(network, all)

    await expectSameDocs(replicas.map((r) => r.space))
    const views = await Promise.all(replicas.map(async (r) => (await r.space.tickets.require(ticket.id)).resolve()))
    expect(views[0]?.status).toBe('acknowledged')
    for (const view of views) expect(view).toEqual(views[0])
    expect(network.stats().duplicated).toBeGreaterThan(0)
    expect(network.stats().reordered).toBeGreaterThan(0)
  })

  it('keeps syncing over a transport with small messages: heads and envelopes are split to fit', async () => {
    const network = createMemoryNetwork({ seed: 23, maxMessageBytes: 4096 })
    const a = replica(network, 'a', citizen)
    const b = replica(network, 'b', staff)
    const proposal = await a.space.proposals.create({ title: 'Long', district: 'north', process: 'p1' })
    const text = proposal.text('body')
    for (let i = 0; i < 60; i++) text.insert(text.length, `sentence ${i}. `)
    await settle(network, engines([a, b]))
    await b.space.doc(proposal.shard)
    await settle(network, engines([a, b]))
    await expectSameDocs([a.space, b.space])
    expect(network.stats().dropped).toBe(0)
    expect(a.engine.stats().oversize).toBe(0)
  })

  it('splits long heads lists to fit the limit: every head sent once, only the first message asks for an answer', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.uint8Array({ minLength: 16, maxLength: 16 })), { maxLength: 200 }), fc.integer({ min: 2100, max: 20_000 }), (entries, limit) => {
        const heads = entries.map(([author, session]) => ({ author: `did:key:z${author}`, session: [...session].map((x) => x.toString(16).padStart(2, '0')).join(''), seq: 1, hash: '00'.repeat(32) }))
        const messages = headsMessages('d', heads, true, limit)
        expect(messages.flatMap((m) => (m.type === 'heads' ? m.heads : []))).toEqual(heads)
        expect(messages.map((m) => m.type === 'heads' && m.reply)).toEqual(messages.map((_, i) => i === 0))
        for (const m of messages) expect(encodeSyncMessage(m).length).toBeLessThanOrEqual(limit)
      }),
      { seed: 42, numRuns: 100 },
    )
  })
})

describe('sync engine: catch-up cost', () => {
  it('a clean catch-up sends each envelope once, plus a few hundred bytes of hellos and heads', async () => {
    const network = createMemoryNetwork({ seed: 24 })
    // No checkpoints: whether one is signed before b asks would depend on timing (catch-up through checkpoints is tested on its own).
    const a = replica(network, 'a', citizen, { checkpointEvery: 0 })
    const proposal = await a.space.proposals.create({ title: 'T', district: 'north', process: 'p1' })
    const text = proposal.text('body')
    for (let i = 0; i < 300; i++) text.insert(text.length, 'x') // typing: one transaction per character
    for (let i = 0; i < 30; i++) (await a.space.tickets.create({ service_code: 'pothole', district: 'north' })).update({ status_notes: `note ${i}` })
    for (const signed of a.space.signedDocs.list()) await signed.flush()

    let sent = 0
    const stop = network.tap(({ from, bytes }) => {
      if (from === 'a') sent += bytes.length
    })
    const b = replica(network, 'b', staff)
    await settle(network, engines([a, b]))
    await openAll([a.space, b.space])
    await settle(network, engines([a, b]))
    stop()
    await expectSameDocs([a.space, b.space])

    const logs = a.space.signedDocs.list().map((signed) => signed.log())
    const envelopeBytes = logs.flat().reduce((sum, entry) => sum + entry.bytes.length, 0)
    expect(b.engine.stats()).toMatchObject({ envelopesReceived: logs.flat().length, applied: logs.flat().length, duplicates: 0 })
    expect(sent).toBeGreaterThan(envelopeBytes)
    expect(sent).toBeLessThan(envelopeBytes + 200 * logs.length + 1000)
  })
})

describe('sync engine: catch-up from several peers', () => {
  it('a late joiner asks each session of only one peer: no envelope reaches it twice', async () => {
    const network = createMemoryNetwork({ seed: 25 })
    const replicas = [replica(network, 'a', citizen), replica(network, 'b', staff), replica(network, 'c', agency)]
    for (const r of replicas) {
      const ticket = await r.space.tickets.create({ service_code: 'pothole', district: 'north' })
      ticket.update({ status_notes: `from ${r.name}` })
    }
    await settle(network, engines(replicas))
    await openAll(replicas.map((r) => r.space))
    await settle(network, engines(replicas))

    const late = replica(network, 'late', mallory)
    await settle(network, engines([...replicas, late]))
    await openAll([late.space])
    await settle(network, engines([...replicas, late]))
    await expectSameDocs([...replicas, late].map((r) => r.space))
    const total = late.space.signedDocs.list().reduce((sum, signed) => sum + signed.log().length, 0)
    expect(late.engine.stats()).toMatchObject({ envelopesReceived: total, applied: total, duplicates: 0 })
  })
})

describe('sync engine: hostile peers', () => {
  /** A raw peer that says hello for the city and records what it receives. */
  async function mallorySetup() {
    const network = createMemoryNetwork({ seed: 31 })
    const honest = [replica(network, 'north', citizen), replica(network, 'south', staff)]
    const ticket = await honest[0]!.space.tickets.create({ service_code: 'pothole', district: 'north' })
    const raw = network.join('mallory')
    const inbox: SyncMessage[] = []
    raw.on('message', ({ bytes }) => {
      const decoded = decodeSyncMessage(bytes)
      if (decoded.ok) inbox.push(decoded.message)
    })
    await settle(network, engines(honest))
    for (const r of honest) raw.send(r.name, encodeSyncMessage({ type: 'hello', space: 'city', ask: false }))
    await settle(network, engines(honest))
    await openAll(honest.map((r) => r.space))
    await settle(network, engines(honest))
    // Ask north for every session of the shard it announced.
    const announced = inbox.flatMap((m) => (m.type === 'heads' && m.doc === ticket.shard ? m.heads : []))
    raw.send('north', encodeSyncMessage({ type: 'want', doc: ticket.shard, wants: announced.map(({ author, session }) => ({ author, session, after: 0 })) }))
    await settle(network, engines(honest))
    return { network, honest, ticket, raw, inbox }
  }

  it('garbage, truncated and forged envelopes are refused and quarantined with codes; honest peers still converge', async () => {
    const { network, honest, ticket, raw, inbox } = await mallorySetup()
    const [north, south] = honest as [Replica, Replica]
    const shard = ticket.shard
    // Real envelopes mallory was sent.
    const real = inbox.flatMap((m) => (m.type === 'envelopes' && m.doc === shard ? m.envelopes : []))
    expect(real.length).toBeGreaterThan(0)
    const victim = decodeEnvelope(real[0] as Uint8Array)
    if (!victim.ok) throw new Error('expected a real envelope')

    // 1. Not even a message.
    raw.send('south', new Uint8Array([1, 99, 1, 2, 3]))
    raw.send('south', new Uint8Array([1, 3, 200]))
    // 2. A truncated envelope inside a well-formed message.
    const truncated = (real[0] as Uint8Array).slice(0, 40)
    // 3. The victim's envelope with a different update but the victim's signature.
    const forgedSig = encodeEnvelope({ ...victim.envelope, seq: victim.envelope.seq + 50, prev: new Uint8Array(32), update: new Uint8Array([0, 0]) })
    // 4. Mallory's own signature over an update written under the victim's client id.
    const forger = new Y.Doc()
    Y.applyUpdate(forger, Y.encodeStateAsUpdate(await north.space.doc(shard)))
    forger.clientID = north.space.signedDocs.get(shard)?.writer?.clientId as number
    forger.getMap('tickets').set('forged', 'in the victim\'s name')
    const forgedClient = encodeEnvelope(
      await signEnvelope(mallory.keyPair, { doc: `city/${shard}`, session: new Uint8Array(16).fill(7), seq: 1, prev: new Uint8Array(0), update: Y.encodeStateAsUpdate(forger, Y.encodeStateVector(await north.space.doc(shard))) }),
    )
    raw.send('south', encodeSyncMessage({ type: 'envelopes', doc: shard, envelopes: [truncated, forgedSig, forgedClient] }))
    await settle(network, engines(honest))

    // Honest edits still flow both ways.
    ;(await north.space.tickets.require(ticket.id)).update({ status_notes: 'from north' })
    ;(await south.space.tickets.require(ticket.id)).update({ description: 'from south' })
    await settle(network, engines(honest))
    await expectSameDocs(honest.map((r) => r.space))
    expect((await south.space.tickets.require(ticket.id)).get().value.status_notes).toBe('from north')
    expect(Object.keys((await south.space.doc(shard)).getMap('tickets').toJSON())).not.toContain('forged')

    const quarantined = south.engine.quarantine()
    expect(quarantined.map((q) => [q.peer, q.doc, q.code])).toEqual([
      ['mallory', shard, 'E_UPDATE_MALFORMED'],
      ['mallory', shard, 'E_SIGNATURE'],
      ['mallory', shard, 'E_FORGED_CLIENT'],
    ])
    const stats = south.engine.stats()
    expect(stats.rejected).toBe(3)
    expect(stats.malformed).toBe(4) // two malformed messages, a truncated envelope, a bad signature
    expect(south.engine.peers().find((p) => p.peerId === 'mallory')?.status).toBe('syncing')
  })

  it('ignores a peer that keeps sending malformed messages, until it reconnects', async () => {
    const { network, honest, raw } = await mallorySetup()
    const south = honest[1] as Replica
    const strikes: boolean[] = []
    south.engine.on('malformed', ({ ignored }) => strikes.push(ignored))
    for (let i = 0; i < 20; i++) raw.send('south', new Uint8Array([1, 3, i]))
    await settle(network, engines(honest))
    expect(strikes.filter(Boolean)).toHaveLength(1)
    expect(strikes).toHaveLength(16)
    expect(south.engine.peers().find((p) => p.peerId === 'mallory')).toMatchObject({ status: 'ignored', strikes: 16 })
    const ignoredBefore = south.engine.stats().ignored
    raw.send('south', encodeSyncMessage({ type: 'hello', space: 'city', ask: true }))
    await settle(network, engines(honest))
    expect(south.engine.stats().ignored).toBe(ignoredBefore + 1)
  })

  it('counts an oversized message as a strike and never decodes it', async () => {
    const network = createMemoryNetwork({ seed: 32 })
    const a = replica(network, 'a', citizen, {}, { limits: { maxMessageBytes: 1024 } })
    const raw = network.join('mallory')
    await settle(network, [a.engine])
    const reasons: string[] = []
    a.engine.on('malformed', ({ reason }) => reasons.push(reason))
    raw.send('a', new Uint8Array(2000))
    await settle(network, [a.engine])
    expect(reasons).toEqual(['a message of 2000 bytes exceeds 1024'])
  })

  it('never throws out of a transport listener, whatever the bytes (property)', async () => {
    const network = createMemoryNetwork({ seed: 33 })
    const a = replica(network, 'a', citizen, {}, { limits: { maxStrikes: 1_000_000 } })
    const raw = network.join('mallory')
    await settle(network, [a.engine])
    raw.send('a', encodeSyncMessage({ type: 'hello', space: 'city', ask: false }))
    await settle(network, [a.engine])
    const errors: unknown[] = []
    a.engine.on('error', ({ error }) => errors.push(error))
    const valid = encodeSyncMessage({ type: 'heads', doc: MANIFEST_DOC, reply: true, heads: [{ author: citizen.did, session: 'ab'.repeat(16), seq: 3, hash: 'cd'.repeat(32) }] })
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: valid.length - 1 }).map((n) => valid.slice(0, n)), fc.tuple(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
        const copy = valid.slice()
        copy[i] = (copy[i] as number) ^ x
        return copy
      })), async (bytes) => {
        raw.send('a', bytes)
        await settle(network, [a.engine])
      }),
      { seed: 42, numRuns: 150 },
    )
    expect(errors).toEqual([])
    expect(a.engine.closed).toBe(false)
  })

  it('decodes every message it encodes, and refuses every strict prefix (property)', () => {
    const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(''))
    const author = fc.string({ minLength: 1, maxLength: 20 }).map((s) => `did:key:${s}`)
    const message: fc.Arbitrary<SyncMessage> = fc.oneof(
      fc.record({ type: fc.constant('hello' as const), space: fc.string({ minLength: 1, maxLength: 30 }), ask: fc.boolean() }),
      fc.record({ type: fc.constant('heads' as const), doc: fc.string({ minLength: 1, maxLength: 30 }), reply: fc.boolean(), heads: fc.array(fc.record({ author, session: hex(16), seq: fc.integer({ min: 1, max: 2 ** 40 }), hash: hex(32) }), { maxLength: 5 }) }),
      fc.record({ type: fc.constant('want' as const), doc: fc.string({ minLength: 1, maxLength: 30 }), wants: fc.array(fc.record({ author, session: hex(16), after: fc.nat() }), { maxLength: 5 }) }),
      fc.record({ type: fc.constant('envelopes' as const), doc: fc.string({ minLength: 1, maxLength: 30 }), envelopes: fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 5 }) }),
    )
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodeSyncMessage(m)
        const decoded = decodeSyncMessage(bytes)
        // Lone surrogates have no UTF-8 form: such strings do not survive, and are refused.
        const wellFormed = !/[\uD800-\uDFFF]/.test(JSON.stringify(m).replace(/\\u[0-9a-f]{4}/g, ''))
        if (wellFormed) expect(decoded).toEqual({ ok: true, message: m })
        for (let n = 0; n < bytes.length; n++) expect(decodeSyncMessage(bytes.slice(0, n)).ok).toBe(false)
      }),
      { seed: 42, numRuns: 200 },
    )
    expect(decodeSyncMessage(new Uint8Array([2, 0]))).toMatchObject({ ok: false, kind: 'unsupported' })
  })
})

describe('sync engine: restart and storage', () => {
  it('a Space reopened from storage keeps its envelope log: its heads survive, and a new peer catches up on everything from it alone', async () => {
    const storage = createMemoryStorage()
    const network = createMemoryNetwork({ seed: 41 })
    const first = await openSpace({ id: 'city', identity: citizen, storage })
    const ticket = await first.tickets.create({ service_code: 'pothole', district: 'north' })
    const proposal = await first.proposals.create({ title: 'Benches', district: 'north', process: 'pb2026', body: 'Ten' })
    proposal.text('body').insert(3, ' benches')
    await first.flush()
    const headsBefore = new Map([...first.openDocs().keys()].map((name) => [name, first.signedDocs.get(name)?.heads()]))
    await first.close()

    const second = await openSpace({ id: 'city', identity: citizen, storage })
    for (const name of headsBefore.keys()) await second.doc(name)
    for (const [name, heads] of headsBefore) expect(second.signedDocs.get(name)?.heads(), name).toEqual(heads)
    for (const name of headsBefore.keys()) expect(second.signedDocs.get(name)?.unsigned().clocks, name).toBe(0)
    ;(await second.tickets.require(ticket.id)).update({ status_notes: 'after restart' })

    const a = { name: 'a', space: second, engine: second.sync(network.transport(), { peerId: 'a', resyncEvery: 0 }) }
    const fresh = replica(network, 'fresh', staff)
    await settle(network, engines([a, fresh]))
    await openAll([second, fresh.space])
    await settle(network, engines([a, fresh]))
    await expectSameDocs([second, fresh.space])
    expect((await fresh.space.proposals.require(proposal.id)).get().value.body).toBe('Ten benches')
    expect((await fresh.space.tickets.require(ticket.id)).get().value.status_notes).toBe('after restart')
    expect(fresh.engine.quarantine()).toEqual([])
    await second.close()
  })

  it('a failed append of the envelope log is reported, then repaired by the next flush; compaction keeps the chains whole', async () => {
    let failing = false
    const failures: string[] = []
    const storage = createMemoryStorage({
      faults: (operation, key) => {
        if (failing && operation === 'append' && key.endsWith('#envelopes')) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' })
      },
    })
    const space = await openSpace({ id: 'city', identity: citizen, storage, compactEvery: 3, onStorageError: (e) => failures.push(e.message) })
    const ticket = await space.tickets.create({ service_code: 'pothole', district: 'north' })
    const entity = await space.tickets.require(ticket.id)
    for (let i = 0; i < 5; i++) entity.update({ status_notes: `before ${i}` })
    await space.flush()
    failing = true
    entity.update({ status_notes: 'while the disk is full' })
    await space.signedDocs.get(ticket.shard)?.writer?.flush()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(failures.some((message) => message.includes(`${ticket.shard}#envelopes`) && message.includes('ENOSPC'))).toBe(true)
    failing = false
    for (let i = 0; i < 5; i++) entity.update({ status_notes: `after ${i}` })
    await space.flush()
    const heads = space.signedDocs.get(ticket.shard)?.heads()
    await space.close()

    const errors: unknown[] = []
    const reopened = await openSpace({ id: 'city', identity: citizen, storage })
    const offErrors = reopened.signedDocs.on('error', ({ error }) => errors.push(error))
    await reopened.doc(ticket.shard)
    expect(reopened.signedDocs.get(ticket.shard)?.heads()).toEqual(heads)
    expect(reopened.signedDocs.get(ticket.shard)?.unsigned().clocks).toBe(0)
    expect(errors).toEqual([])
    offErrors()
    await reopened.close()
  })

  it('stores envelopes received from peers too, so a replica serves them after its own restart', async () => {
    const storage = createMemoryStorage()
    const network = createMemoryNetwork({ seed: 42 })
    const origin = replica(network, 'origin', citizen)
    const ticket = await origin.space.tickets.create({ service_code: 'pothole', district: 'north' })
    const keeper = await openSpace({ id: 'city', storage })
    const keeperEngine = keeper.sync(network.transport(), { peerId: 'keeper', resyncEvery: 0, eager: true })
    await settle(network, [origin.engine, keeperEngine])
    await keeper.close()
    origin.engine.close()

    const reopened = await openSpace({ id: 'city', storage })
    const network2 = createMemoryNetwork({ seed: 43 })
    const served = reopened.sync(network2.transport(), { peerId: 'keeper', resyncEvery: 0 })
    const late = replica(network2, 'late', staff)
    await settle(network2, [served, late.engine])
    await reopened.doc(ticket.shard)
    await late.space.doc(ticket.shard)
    await settle(network2, [served, late.engine])
    expect((await late.space.tickets.require(ticket.id)).get().value.service_code).toBe('pothole')
    await expectSameDocs([reopened, late.space])
    await reopened.close()
  })
})

describe('sync engine: several transports', () => {
  async function bridged(relay: boolean) {
    const tabs = createMemoryNetwork({ seed: 51 })
    const wan = createMemoryNetwork({ seed: 52 })
    const hub = createSpace({ id: 'city', identity: root })
    const hubEngines = [hub.sync(tabs.transport(), { peerId: 'hub', resyncEvery: 0, relay }), hub.sync(wan.transport(), { peerId: 'hub', resyncEvery: 0, relay })]
    const tab = replica(tabs, 'tab', citizen)
    const remote = replica(wan, 'remote', staff)
    const settleBoth = async () => {
      for (let i = 0; i < 3; i++) {
        await settle(tabs, [hubEngines[0] as SyncEngine, tab.engine])
        await settle(wan, [hubEngines[1] as SyncEngine, remote.engine])
      }
    }
    await settleBoth()
    return { hub, hubEngines, tab, remote, settleBoth }
  }

  it('with relay, a hub on two transports forwards live edits from one side to the other', async () => {
    const { hub, tab, remote, settleBoth } = await bridged(true)
    const ticket = await tab.space.tickets.create({ service_code: 'pothole', district: 'north' })
    await settleBoth()
    await hub.doc(ticket.shard)
    await remote.space.doc(ticket.shard)
    await settleBoth()
    ;(await tab.space.tickets.require(ticket.id)).update({ status_notes: 'live' })
    await settleBoth()
    expect((await remote.space.tickets.require(ticket.id)).get().value.status_notes).toBe('live')
    await expectSameDocs([tab.space, hub, remote.space])
  })

  it('without relay, the other side catches up at the next heads exchange', async () => {
    const { hub, hubEngines, tab, remote, settleBoth } = await bridged(false)
    const ticket = await tab.space.tickets.create({ service_code: 'pothole', district: 'north' })
    await settleBoth()
    await hub.doc(ticket.shard)
    await remote.space.doc(ticket.shard)
    await settleBoth()
    ;(await tab.space.tickets.require(ticket.id)).update({ status_notes: 'later' })
    await settleBoth()
    expect((await remote.space.tickets.require(ticket.id)).get().value.status_notes).toBeUndefined()
    hubEngines[1]?.resync()
    await settleBoth()
    expect((await remote.space.tickets.require(ticket.id)).get().value.status_notes).toBe('later')
  })
})

describe('sync engine: lifecycle', () => {
  it('stops when its Space closes, and closing twice is harmless', async () => {
    const network = createMemoryNetwork({ seed: 61 })
    const a = replica(network, 'a', citizen)
    const closes: Array<string | undefined> = []
    a.engine.on('close', ({ reason }) => closes.push(reason))
    await a.space.close()
    expect(a.engine.closed).toBe(true)
    a.engine.close()
    expect(closes).toEqual(['the Space closed'])
    expect(() => a.space.sync(network.transport())).toThrowError(expect.objectContaining({ code: 'E_CLOSED' }) as Error)
  })

  it('refuses invalid limits', () => {
    const space = createSpace({ id: 'city' })
    const transport: Transport = createMemoryNetwork().transport()
    expect(() => space.sync(transport, { limits: { maxStrikes: 0 } })).toThrowError(expect.objectContaining({ code: 'E_ARGUMENT' }) as Error)
    expect(() => space.sync(transport, { resyncEvery: -1 })).toThrowError(expect.objectContaining({ code: 'E_ARGUMENT' }) as Error)
  })
})
