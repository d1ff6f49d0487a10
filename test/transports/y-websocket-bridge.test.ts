import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { bridgeYWebsocket, CabildoError, createIdentity, createSpace, type Space, type YWebsocketBridge, type YWebsocketBridgeEvents, type YWebsocketBridgeOptions } from '../../src/index'
import { createPlainRooms } from '../../src/node/relay/plain-rooms'
import { startRelay } from '../../src/node/relay/relay'
import { decodeEnvelope } from '../../src/sync/envelope-codec'
import { startYWebsocketServer, type YWebsocketServer } from '../helpers/y-websocket-server'
import { district } from '../node/relay/relay-fixtures'
import { plainClient, until, type PlainClient } from '../node/relay/plain-fixtures'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

const WS = WebSocket as unknown as typeof globalThis.WebSocket

async function server(options: { port?: number; docs?: Map<string, Y.Doc> } = {}): Promise<YWebsocketServer> {
  const started = await startYWebsocketServer(options)
  cleanup.push(() => started.close())
  return started
}

function space(options: Parameters<typeof createSpace>[0] = { id: 'city' }): Space {
  const created = createSpace(options)
  cleanup.push(() => created.close())
  return created
}

async function bridge(of: Space, shard: string, url: string, options: Partial<YWebsocketBridgeOptions> = {}): Promise<YWebsocketBridge> {
  const created = await bridgeYWebsocket(of, shard, { url, WebSocketPolyfill: WS, maxBackoffTime: 200, ...options })
  cleanup.push(() => created.destroy())
  return created
}

function client(url: string, room: string): PlainClient {
  const created = plainClient(url, room, {})
  cleanup.push(() => created.destroy())
  return created
}

function entry(doc: Y.Doc, collection: string, id: string): Y.Map<unknown> | undefined {
  return doc.getMap(collection).get(id) as Y.Map<unknown> | undefined
}

function body(doc: Y.Doc, id: string): string {
  return (entry(doc, 'proposals', id)?.get('body') as Y.Text | undefined)?.toString() ?? ''
}

/** A y-websocket sync message (type 0) of the given sync type carrying `payload`. */
function syncMessage(syncType: number, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarUint(encoder, syncType)
  encoding.writeVarUint8Array(encoder, payload)
  return encoding.toUint8Array(encoder)
}

describe('y-websocket bridge', () => {
  it('a bridged Space and a plain y-websocket client edit one shard and converge; a second bridged Space reads the typed records', async () => {
    const yws = await server()
    const north = space({ id: 'city', identity: await createIdentity() })
    const proposal = await north.proposals.create({ title: 'Benches', district: 'north', process: 'p1', body: 'Ten benches.' })
    const northBridge = await bridge(north, proposal.shard, yws.url)
    expect(northBridge.room).toBe(`city/${proposal.shard}`)
    await northBridge.whenSynced()
    expect(northBridge.status).toBe('connected')

    const ana = client(yws.url, northBridge.room)
    await until(() => body(ana.doc, proposal.id) === 'Ten benches.', 'the plain client receives the proposal')
    ;(entry(ana.doc, 'proposals', proposal.id)?.get('body') as Y.Text).insert(0, 'Twenty. ')
    ;(await north.proposals.require(proposal.id)).text('body').insert(12, ' by the river')
    const northBody = async (): Promise<string> => (await north.proposals.require(proposal.id)).get().value.body ?? ''
    await until(async () => {
      const text = await northBody()
      return text === body(ana.doc, proposal.id) && text.includes('Twenty') && text.includes('river')
    }, 'convergence', 20_000)

    // The plain client's content is unsigned: the shard holds it, no envelope covers it.
    expect(north.signedDocs.get(proposal.shard)?.unsigned().clients).toContain(ana.doc.clientID)

    const south = space()
    const southBridge = await bridge(south, proposal.shard, yws.url)
    await southBridge.whenSynced()
    const seen = await south.proposals.require(proposal.id)
    expect(seen.get().value).toMatchObject({ title: 'Benches', district: 'north', body: await northBody() })
  })

  it('refuses malformed, oversized and forged updates without touching the shard, and keeps syncing', async () => {
    const yws = await server()
    const north = space()
    const ticket = await north.tickets.create({ service_code: 'pothole', district: 'north', description: 'A hole' })
    const northBridge = await bridge(north, ticket.shard, yws.url, { maxUpdateBytes: 4096 })
    const rejected: Array<YWebsocketBridgeEvents['rejected']> = []
    northBridge.on('rejected', (event) => rejected.push(event))
    await northBridge.whenSynced()
    const shard = await north.doc(ticket.shard)
    const before = Y.encodeStateAsUpdate(shard)

    const source = new Y.Doc()
    source.getText('notes').insert(0, 'a note long enough to cut in half')
    const valid = Y.encodeStateAsUpdate(source)
    yws.inject(northBridge.room, syncMessage(2, valid.subarray(0, Math.floor(valid.length / 2)))) // truncated update
    const big = new Y.Doc()
    big.getText('notes').insert(0, 'x'.repeat(10_000))
    yws.inject(northBridge.room, syncMessage(1, Y.encodeStateAsUpdate(big))) // oversized sync step 2
    const forger = new Y.Doc()
    forger.clientID = shard.clientID
    forger.getText('notes').insert(0, 'y'.repeat(Y.getState(shard.store, shard.clientID) + 10))
    yws.inject(northBridge.room, syncMessage(2, Y.encodeStateAsUpdate(forger))) // this replica's client id
    yws.inject(northBridge.room, new Uint8Array(0)) // no message type at all
    yws.inject(northBridge.room, new Uint8Array([9, 1, 2])) // a message type y-websocket does not have
    yws.inject(northBridge.room, syncMessage(0, new Uint8Array([255]))) // sync step 1 with a broken state vector
    await until(() => rejected.length === 6, 'six refusals')

    expect(rejected.map(({ error, message }) => [error.code, message])).toEqual([
      ['E_UPDATE_MALFORMED', 'update'],
      ['E_UPDATE_TOO_LARGE', 'sync-step-2'],
      ['E_FORGED_CLIENT', 'update'],
      ['E_UPDATE_MALFORMED', 'unknown'],
      ['E_UPDATE_MALFORMED', 'unknown'],
      ['E_UPDATE_MALFORMED', 'unknown'],
    ])
    expect(rejected.every(({ error }) => error instanceof CabildoError)).toBe(true)
    expect(rejected[1]?.error.details).toMatchObject({ limit: 4096 })
    expect(Y.encodeStateAsUpdate(shard)).toEqual(before)
    expect(northBridge.status).toBe('connected')

    const ana = client(yws.url, northBridge.room)
    await until(() => entry(ana.doc, 'tickets', ticket.id) !== undefined, 'the plain client receives the ticket')
    entry(ana.doc, 'tickets', ticket.id)?.set('description', 'A deep hole')
    await until(async () => (await north.tickets.require(ticket.id)).get().value.description === 'A deep hole', 'a later good update arrives')
    ;(await north.tickets.require(ticket.id)).update({ status_notes: 'Crew sent' })
    await until(() => entry(ana.doc, 'tickets', ticket.id)?.get('status_notes') === 'Crew sent', 'local edits still reach the room')
  })

  it('reconnects after the server restarts and exchanges the edits made while it was down', async () => {
    const docs = new Map<string, Y.Doc>()
    const first = await startYWebsocketServer({ docs })
    const north = space()
    const ticket = await north.tickets.create({ service_code: 'pothole', district: 'north' })
    const northBridge = await bridge(north, ticket.shard, first.url)
    const statuses: string[] = []
    northBridge.on('status', ({ status }) => statuses.push(status))
    await northBridge.whenSynced()

    await first.close()
    await until(() => northBridge.status !== 'connected', 'the bridge sees the server go')
    expect(northBridge.synced).toBe(false)
    ;(await north.tickets.require(ticket.id)).update({ status_notes: 'Edited offline' })
    entry(docs.get(northBridge.room) as Y.Doc, 'tickets', ticket.id)?.set('description', 'Edited on the server')

    const second = await server({ port: first.port, docs })
    await northBridge.whenSynced()
    await until(async () => (await north.tickets.require(ticket.id)).get().value.description === 'Edited on the server', 'the server edit reaches the shard', 20_000)
    await until(() => entry(second.docs.get(northBridge.room) as Y.Doc, 'tickets', ticket.id)?.get('status_notes') === 'Edited offline', 'the offline edit reaches the server', 20_000)
    expect(statuses).toContain('disconnected')
    expect(statuses.at(-1)).toBe('connected')
  })

  it('destroy closes the socket, stops forwarding and removes its listeners; closing the Space destroys its bridges', async () => {
    const yws = await server()
    const north = space()
    const ticket = await north.tickets.create({ service_code: 'pothole', district: 'north' })
    const shard = await north.doc(ticket.shard)
    const listenersBefore = shard._observers.get('update')?.size ?? 0
    const northBridge = await bridge(north, ticket.shard, yws.url)
    await northBridge.whenSynced()
    const ana = client(yws.url, northBridge.room)
    await until(() => yws.connections(northBridge.room) === 2, 'two connections')

    northBridge.destroy()
    expect(northBridge.status).toBe('disconnected')
    expect(shard._observers.get('update')?.size ?? 0).toBe(listenersBefore)
    await until(() => yws.connections(northBridge.room) === 1, 'the bridge socket closes')
    await expect(northBridge.whenSynced()).rejects.toMatchObject({ code: 'E_CLOSED' })

    ;(await north.tickets.require(ticket.id)).update({ status_notes: 'After destroy' })
    entry(ana.doc, 'tickets', ticket.id)?.set('description', 'From the room')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(entry(yws.docs.get(northBridge.room) as Y.Doc, 'tickets', ticket.id)?.get('status_notes')).toBeUndefined()
    expect((await north.tickets.require(ticket.id)).get().value.description).toBeUndefined()
    expect(yws.connections(northBridge.room)).toBe(1)

    const again = await bridge(north, ticket.shard, yws.url)
    await again.whenSynced()
    await north.close()
    expect(again.status).toBe('disconnected')
    await until(() => yws.connections(again.room) === 1, 'closing the Space closes its bridge')
  })

  it('publishes the Space presence in the room when asked, and reads the room presence apart from it', async () => {
    const yws = await server()
    const north = space()
    const ticket = await north.tickets.create({ service_code: 'pothole', district: 'north' })
    const presence = await north.presence(ticket.shard)
    presence.setLocalStateField('user', { name: 'Ana' })
    const northBridge = await bridge(north, ticket.shard, yws.url, { awareness: true })
    const ben = client(yws.url, northBridge.room)
    ben.provider.awareness.setLocalStateField('user', { name: 'Ben' })
    const names = (states: Map<number, Record<string, unknown>>): string[] =>
      [...states.values()].map((state) => (state.user as { name?: string } | undefined)?.name ?? '').filter((name) => name !== '').sort()
    await until(() => names(ben.provider.awareness.getStates()).join() === 'Ana,Ben', 'the room sees the Space presence')
    await until(() => names(northBridge.awareness.getStates()).join() === 'Ana,Ben', 'the bridge sees the room presence')
    presence.setLocalStateField('user', { name: 'Ana (north)' })
    await until(() => names(ben.provider.awareness.getStates()).includes('Ana (north)'), 'presence changes follow')
    expect(names(presence.getStates())).toEqual(['Ana (north)'])
  })

  it('refuses the manifest, a URL that is no WebSocket URL and an invalid size limit', async () => {
    const north = space()
    await expect(bridgeYWebsocket(north, '_manifest', { url: 'ws://127.0.0.1:1', WebSocketPolyfill: WS })).rejects.toMatchObject({ code: 'E_ARGUMENT' })
    await expect(bridgeYWebsocket(north, 'tickets.2026-11', { url: 'http://127.0.0.1:1', WebSocketPolyfill: WS })).rejects.toMatchObject({ code: 'E_ARGUMENT' })
    await expect(bridgeYWebsocket(north, 'tickets.2026-11', { url: 'ws://127.0.0.1:1', WebSocketPolyfill: WS, maxUpdateBytes: 0 })).rejects.toMatchObject({ code: 'E_ARGUMENT' })
  })
})

describe('y-websocket bridge to a cabildo relay', () => {
  it("a bridged Space writes into a relay's plain room; the relay vouches for its edits and cabildo peers receive them", async () => {
    const relay = await startRelay({
      tokens: { 'token-north': 'north', 'token-desk': 'desk' },
      plain: ({ identity }) => createPlainRooms({ identity, accept: ['city/*'], pingEvery: 0 }),
      resyncEvery: 0,
    })
    cleanup.push(() => relay.close())
    const north = district('north', relay.url, await createIdentity(), {}, undefined, 'token-north')
    cleanup.push(() => north.space.close())
    const proposal = await north.space.proposals.create({ title: 'Benches', district: 'north', process: 'p1', body: 'Ten benches.' })

    const desk = space()
    const deskBridge = await bridge(desk, proposal.shard, relay.url, { params: { token: 'token-desk' } })
    const closed: Array<YWebsocketBridgeEvents['closed']> = []
    deskBridge.on('closed', (event) => closed.push(event))
    await until(async () => (await desk.proposals.get(proposal.id))?.get().value.body === 'Ten benches.', 'the desk receives the proposal through the relay')
    ;(await desk.proposals.require(proposal.id)).text('body').insert(0, 'Twenty. ')
    await until(async () => (await north.space.proposals.require(proposal.id)).get().value.body === 'Twenty. Ten benches.', 'north receives the edit', 20_000)

    const vouched = (north.space.signedDocs.get(proposal.shard)?.log() ?? []).flatMap((logged) => {
      const decoded = decodeEnvelope(logged.bytes)
      return decoded.ok && decoded.envelope.vouched ? decoded.envelope.vouched : []
    })
    expect(vouched).toContainEqual({ client: (await desk.doc(proposal.shard)).clientID, identity: 'desk' })
    expect(closed).toEqual([])
  })
})
