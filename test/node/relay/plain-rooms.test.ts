import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as encoding from 'lib0/encoding'
import { encodeAwarenessUpdate, Awareness } from 'y-protocols/awareness'
import { writeUpdate } from 'y-protocols/sync'
import type { WebSocket } from 'ws'
import * as Y from 'yjs'
import { createIdentity, createMemoryNetwork, createSpace, type Identity, type Space, type SyncEngine } from '../../../src/index'
import { openFileSpace } from '../../../src/node/file-space'
import { createPlainRooms, type PlainRooms, type PlainRoomsEvents, type PlainRoomsOptions } from '../../../src/node/relay/plain-rooms'
import { decodeEnvelope } from '../../../src/sync/envelope-codec'
import type { SignedDoc } from '../../../src/sync/signed-doc'
import { closed, plainClient, plainServer, rawSocket, until, type PlainClient, type PlainServer } from './plain-fixtures'

const ROOM = 'city/process.p1'
let relayIdentity: Identity
let northIdentity: Identity
const cleanups: Array<() => unknown> = []

beforeAll(async () => {
  ;[relayIdentity, northIdentity] = await Promise.all([createIdentity(), createIdentity()])
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Setup {
  readonly relay: Space
  readonly north: Space
  readonly engines: readonly SyncEngine[]
  readonly plain: PlainRooms
  readonly server: PlainServer
  /** Steps the memory network between the relay's Space and north until both are idle. */
  settle(): Promise<void>
  /** A y-websocket client of `room` as `params` (identity, access), closed after the test. */
  client(params: Record<string, string>, room?: string, doc?: Y.Doc): PlainClient
  /** Every `refused` event so far. */
  readonly refusals: Array<PlainRoomsEvents['refused']>
  /** Every `dropped` event so far. */
  readonly drops: Array<PlainRoomsEvents['dropped']>
}

/** The relay's Space (no identity, as a relay runs it) synced with north's over a memory network, and a plain handler on a real socket. */
async function setup(options: { relay?: Space; plain?: Partial<PlainRoomsOptions> } = {}): Promise<Setup> {
  const network = createMemoryNetwork({ seed: 5 })
  const relay = options.relay ?? createSpace({ id: 'city' })
  const north = createSpace({ id: 'city', identity: northIdentity })
  const engines = [relay.sync(network.transport(), { peerId: 'relay', eager: true, relay: true, resyncEvery: 0 }), north.sync(network.transport(), { peerId: 'north', resyncEvery: 0 })]
  const plain = createPlainRooms({ identity: relayIdentity, accept: ['city/*'], pingEvery: 0, ...options.plain })
  const server = await plainServer(plain, () => relay)
  const refusals: Array<PlainRoomsEvents['refused']> = []
  const drops: Array<PlainRoomsEvents['dropped']> = []
  plain.on('refused', (event) => refusals.push(event))
  plain.on('dropped', (event) => drops.push(event))
  const clients: PlainClient[] = []
  cleanups.push(async () => {
    for (const client of clients) client.destroy()
    await server.close()
    await plain.close()
    await north.close()
    await relay.close()
  })
  return {
    relay,
    north,
    engines,
    plain,
    server,
    refusals,
    drops,
    settle: async () => void await network.settle({ idle: async () => void (await Promise.all([...engines.map((engine) => engine.idle()), plain.idle()])) }),
    client(params, room = ROOM, doc) {
      const client = plainClient(server.url, room, params, doc)
      clients.push(client)
      return client
    },
  }
}

function body(doc: Y.Doc, id: string): Y.Text {
  return ((doc.getMap('proposals').get(id) as Y.Map<unknown> | undefined)?.get('body') as Y.Text | undefined) ?? new Y.Text()
}

/** North's proposal, synced to the relay. */
async function proposalOnRelay(s: Setup): Promise<{ id: string; shard: string; relayDoc: Y.Doc; signed: SignedDoc }> {
  const proposal = await s.north.proposals.create({ title: 'Benches', district: 'north', process: 'p1', body: 'Ten benches.' })
  await s.settle()
  const relayDoc = await s.relay.doc(proposal.shard)
  await until(() => body(relayDoc, proposal.id).toString() === 'Ten benches.', 'the relay has the proposal')
  return { id: proposal.id, shard: proposal.shard, relayDoc, signed: s.relay.signedDocs.get(proposal.shard) as SignedDoc }
}

async function synced(client: PlainClient, id: string, text: string): Promise<void> {
  await until(() => client.provider.synced && body(client.doc, id).toString() === text, `the plain client holds "${text}"`)
}

/** A sync update message (y-websocket framing). */
function updateMessage(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  writeUpdate(encoder, update)
  return encoding.toUint8Array(encoder)
}

function awarenessMessage(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1)
  encoding.writeVarUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

/** What `edit` does to a copy of `doc` working under `clientID`, as one update. */
function editAs(doc: Y.Doc, clientID: number, edit: (copy: Y.Doc) => void): Uint8Array {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  copy.clientID = clientID
  const before = Y.encodeStateVector(copy)
  edit(copy)
  return Y.encodeStateAsUpdate(copy, before)
}

describe('plain y-websocket rooms', () => {
  it('a WebsocketProvider and a cabildo Space edit the same room and converge; the Space receives envelopes the relay signed, vouching for the plain client', async () => {
    const s = await setup()
    const { id, shard, signed } = await proposalOnRelay(s)
    const alice = s.client({ identity: 'alice' })
    await synced(alice, id, 'Ten benches.')
    body(alice.doc, id).insert(0, 'Twenty. ')
    ;(await s.north.proposals.require(id)).text('body').insert(12, ' by the river')
    const northText = async () => (await s.north.proposals.require(id)).get().value.body ?? ''
    await until(async () => {
      await s.settle()
      const text = await northText()
      return text.includes('Twenty') && text.includes('river') && body(alice.doc, id).toString() === text
    }, 'convergence')
    expect(await northText()).toBe('Twenty. Ten benches. by the river')
    const vouched = (s.north.signedDocs.get(shard) as SignedDoc).log().flatMap((entry) => {
      const decoded = decodeEnvelope(entry.bytes)
      return decoded.ok && decoded.envelope.vouched ? [decoded.envelope] : []
    })
    expect(vouched.length).toBeGreaterThan(0)
    expect(vouched.every((envelope) => envelope.author === relayIdentity.did)).toBe(true)
    expect(vouched[0]?.vouched).toEqual([{ client: alice.doc.clientID, identity: 'alice' }])
    expect(s.engines[1]?.quarantine()).toEqual([])
    expect(signed.unsigned()).toEqual({ clients: [], clocks: 0 }) // every plain byte is covered by a vouched envelope
    expect(s.refusals).toEqual([])
  })

  it('a plain client writing under another identity\'s client id is refused and nothing changes; the owner carries on', async () => {
    const s = await setup()
    const { id, relayDoc } = await proposalOnRelay(s)
    const alice = s.client({ identity: 'alice' })
    await synced(alice, id, 'Ten benches.')
    body(alice.doc, id).insert(0, 'A')
    await until(() => body(relayDoc, id).toString() === 'ATen benches.', 'alice\'s edit')
    const bob = s.client({ identity: 'bob' })
    await synced(bob, id, 'ATen benches.')
    const before = Y.encodeStateAsUpdate(relayDoc)
    const own = bob.doc.clientID
    bob.doc.clientID = alice.doc.clientID
    body(bob.doc, id).insert(0, 'B') // sent at once, under Alice's client id
    bob.doc.clientID = own
    await until(() => s.refusals.length > 0, 'the refusal')
    expect(s.refusals[0]).toMatchObject({ room: ROOM, identity: 'bob', code: 'E_FORGED_CLIENT' })
    await until(() => bob.closeCodes.includes(4403), 'bob\'s connection closed')
    expect(Y.encodeStateAsUpdate(relayDoc)).toEqual(before)
    body(alice.doc, id).insert(1, 'a')
    await until(() => body(relayDoc, id).toString() === 'AaTen benches.', 'alice carries on')
  })

  it('a forged "already seen" range and an anonymous delete of a signed record are refused; nothing changes anywhere', async () => {
    const s = await setup()
    const { id, relayDoc } = await proposalOnRelay(s)
    const alice = s.client({ identity: 'alice' })
    await synced(alice, id, 'Ten benches.')
    body(alice.doc, id).insert(0, 'A')
    await until(() => body(relayDoc, id).toString() === 'ATen benches.', 'alice\'s edit')
    const before = Y.encodeStateAsUpdate(relayDoc)

    // A 12-byte-style range: one GC struct claiming 1,000,000 of Alice's future clocks.
    const gc = encoding.createEncoder()
    for (const n of [1, 1, alice.doc.clientID, Y.getState(relayDoc.store, alice.doc.clientID)]) encoding.writeVarUint(gc, n)
    encoding.writeUint8(gc, 0)
    encoding.writeVarUint(gc, 1_000_000)
    encoding.writeVarUint(gc, 0)
    const mallory = await rawSocket(`${s.server.url}/${ROOM}?identity=mallory`)
    const malloryClosed = closed(mallory)
    mallory.send(updateMessage(encoding.toUint8Array(gc)))
    expect(await malloryClosed).toBe(4403)

    const carol = s.client({ identity: 'carol' })
    await synced(carol, id, 'ATen benches.')
    carol.doc.getMap('proposals').delete(id)
    await until(() => carol.closeCodes.includes(4403), 'carol\'s connection closed')
    expect(s.refusals.map(({ identity, code }) => `${identity} ${code}`)).toEqual(['mallory E_FORGED_CLIENT', 'carol E_FORBIDDEN_DELETE'])
    expect(Y.encodeStateAsUpdate(relayDoc)).toEqual(before)
    await s.settle()
    expect((await s.north.proposals.require(id)).get().value.body).toBe('ATen benches.')
    body(alice.doc, id).insert(1, 'a')
    await until(() => body(relayDoc, id).toString() === 'AaTen benches.', 'alice still writes')
  })

  it('a client that reconnects as the same identity carries on, offline edits included', async () => {
    const s = await setup()
    const { id, relayDoc } = await proposalOnRelay(s)
    const alice = s.client({ identity: 'alice' })
    await synced(alice, id, 'Ten benches.')
    body(alice.doc, id).insert(0, 'A')
    await until(() => body(relayDoc, id).toString() === 'ATen benches.', 'alice\'s edit')
    alice.provider.disconnect()
    body(alice.doc, id).insert(1, ' offline')
    ;(await s.north.proposals.require(id)).text('body').insert(0, 'N')
    await s.settle()
    alice.provider.connect()
    await until(() => body(relayDoc, id).toString() === body(alice.doc, id).toString() && body(relayDoc, id).toString().includes('offline') && body(relayDoc, id).toString().includes('N'), 'the reconnect')
    expect(s.refusals).toEqual([])
  })

  it('client ownership survives a restart of the relay (file storage)', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'cabildo-plain-'))
    cleanups.push(() => rm(directory, { recursive: true, force: true }))
    const first = await setup({ relay: await openFileSpace({ id: 'city', directory }) })
    const { id, shard, relayDoc } = await proposalOnRelay(first)
    const aliceDoc = new Y.Doc()
    const alice = first.client({ identity: 'alice' }, ROOM, aliceDoc)
    await synced(alice, id, 'Ten benches.')
    body(aliceDoc, id).insert(0, 'A')
    await until(() => body(relayDoc, id).toString() === 'ATen benches.', 'alice\'s edit')
    await first.plain.idle()
    alice.provider.destroy()
    for (const cleanup of cleanups.splice(1).reverse()) await cleanup() // the first relay stops; the directory stays

    const relay = await openFileSpace({ id: 'city', directory })
    const second = await setup({ relay })
    const doc = await relay.doc(shard)
    expect(body(doc, id).toString()).toBe('ATen benches.')
    const bob = await rawSocket(`${second.server.url}/${ROOM}?identity=bob`)
    const bobClosed = closed(bob)
    bob.send(updateMessage(editAs(doc, aliceDoc.clientID, (copy) => body(copy, id).insert(0, 'B'))))
    expect(await bobClosed).toBe(4403)
    expect(second.refusals).toEqual([expect.objectContaining({ identity: 'bob', code: 'E_FORGED_CLIENT' })])
    body(aliceDoc, id).insert(1, 'a') // offline, then back as the same identity
    second.client({ identity: 'alice' }, ROOM, aliceDoc)
    await until(() => body(doc, id).toString() === 'AaTen benches.', 'alice carries on after the restart')
  })

  it('rooms not accepted (and the manifest) refuse plain clients; by default no room accepts them', async () => {
    const s = await setup({ plain: { accept: [ROOM] } })
    await proposalOnRelay(s)
    const other = s.client({ identity: 'alice' }, 'city/process.p2')
    const manifest = s.client({ identity: 'alice' }, 'city/_manifest')
    await until(() => other.closeCodes.includes(4404) && manifest.closeCodes.includes(4404), 'the refusals')
    const closedByDefault = createPlainRooms({ identity: relayIdentity, pingEvery: 0 })
    const server = await plainServer(closedByDefault, () => s.relay)
    cleanups.push(() => server.close())
    const socket = await rawSocket(`${server.url}/${ROOM}?identity=alice`)
    expect(await closed(socket)).toBe(4404)
    await closedByDefault.close()
  })

  it('read-only and anonymous connections read the room but cannot write', async () => {
    const s = await setup()
    const { id, relayDoc } = await proposalOnRelay(s)
    const press = s.client({ identity: 'press', access: 'read' })
    const anonymous = s.client({})
    await synced(press, id, 'Ten benches.')
    await synced(anonymous, id, 'Ten benches.')
    ;(await s.north.proposals.require(id)).text('body').insert(0, 'N')
    await s.settle()
    await until(() => body(press.doc, id).toString() === 'NTen benches.', 'the reader follows')
    const before = Y.encodeStateAsUpdate(relayDoc)
    body(press.doc, id).insert(0, 'P')
    body(anonymous.doc, id).insert(0, 'X')
    await until(() => press.closeCodes.includes(4403) && anonymous.closeCodes.includes(4403), 'both refused')
    expect(s.refusals.map(({ code }) => code)).toEqual(['E_FORBIDDEN', 'E_FORBIDDEN'])
    expect(Y.encodeStateAsUpdate(relayDoc)).toEqual(before)
  })

  it('garbage messages close the sender and never break the room for honest clients; the handler never fails', async () => {
    const s = await setup({ plain: { limits: { maxStrikes: 4 } } })
    const { id, relayDoc } = await proposalOnRelay(s)
    const alice = s.client({ identity: 'alice' })
    await synced(alice, id, 'Ten benches.')
    const garbage = [Uint8Array.from([0, 9, 0]), Uint8Array.from([7]), Uint8Array.from([0, 0, 5, 1]), Uint8Array.from([1, 3, 255, 255, 255])]
    const mallory = await rawSocket(`${s.server.url}/${ROOM}?identity=mallory`)
    const malloryClosed = closed(mallory)
    mallory.send('hello') // a text frame
    for (const bytes of garbage.slice(0, 3)) mallory.send(bytes)
    expect(await malloryClosed).toBe(4400)
    // Seeded random bytes from more sockets: whatever they do, the handler never fails (no 1011).
    let seed = 20261125
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const sockets: WebSocket[] = []
    for (let i = 0; i < 10; i++) {
      const socket = await rawSocket(`${s.server.url}/${ROOM}?identity=noise${i}`)
      sockets.push(socket)
      for (let m = 0; m < 10; m++) socket.send(Uint8Array.from({ length: 1 + Math.floor(random() * 40) }, (_, k) => (k === 0 ? Math.floor(random() * 4) : Math.floor(random() * 256))))
    }
    body(alice.doc, id).insert(0, 'A')
    ;(await s.north.proposals.require(id)).text('body').insert(12, '!')
    await s.plain.idle()
    await until(async () => {
      await s.settle()
      return body(alice.doc, id).toString() === 'ATen benches.!' && (await s.north.proposals.require(id)).get().value.body === 'ATen benches.!'
    }, 'the honest edits')
    expect(body(relayDoc, id).toString()).toBe('ATen benches.!')
    const late = s.client({ identity: 'dora' })
    await synced(late, id, 'ATen benches.!')
    for (const socket of sockets) socket.terminate()
    expect(s.drops.filter(({ code }) => code === 1011)).toEqual([])
    expect(s.drops.every(({ identity }) => identity === 'mallory' || identity?.startsWith('noise'))).toBe(true)
  })

  it('relays awareness between the room\'s plain clients, but not presence under a client id another connection presents', async () => {
    const s = await setup()
    const { id } = await proposalOnRelay(s)
    const alice = s.client({ identity: 'alice' })
    const bob = s.client({ identity: 'bob' })
    await synced(alice, id, 'Ten benches.')
    await synced(bob, id, 'Ten benches.')
    alice.provider.awareness.setLocalStateField('user', { name: 'Ana' })
    await until(() => (bob.provider.awareness.getStates().get(alice.doc.clientID)?.user as { name?: string } | undefined)?.name === 'Ana', 'bob sees Ana')
    // Mallory presents herself under Alice's client id, with a higher clock.
    const fake = new Awareness(new Y.Doc())
    fake.clientID = alice.doc.clientID
    fake.meta.set(alice.doc.clientID, { clock: 1_000, lastUpdated: 0 })
    fake.states.set(alice.doc.clientID, { user: { name: 'Mallory' } })
    const mallory = await rawSocket(`${s.server.url}/${ROOM}?identity=mallory`)
    mallory.send(awarenessMessage(encodeAwarenessUpdate(fake, [alice.doc.clientID])))
    mallory.send(awarenessMessage(new Uint8Array(64 * 1024))) // over the size limit: dropped
    fake.destroy()
    await s.plain.idle()
    bob.provider.awareness.setLocalStateField('user', { name: 'Bo' })
    await until(() => (alice.provider.awareness.getStates().get(bob.doc.clientID)?.user as { name?: string } | undefined)?.name === 'Bo', 'alice sees Bo')
    expect((bob.provider.awareness.getStates().get(alice.doc.clientID)?.user as { name?: string }).name).toBe('Ana')
    alice.provider.disconnect()
    await until(() => !bob.provider.awareness.getStates().has(alice.doc.clientID), 'alice left')
    mallory.terminate()
  })
})
