import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type * as Y from 'yjs'
import { createIdentity, type Identity } from '../../../src/index'
import { createPlainRooms, type PlainRooms } from '../../../src/node/relay/plain-rooms'
import { startRelay, type Relay } from '../../../src/node/relay/relay'
import { decodeEnvelope } from '../../../src/sync/envelope-codec'
import { district, type District } from './relay-fixtures'
import { plainClient, until, type PlainClient } from './plain-fixtures'

let northRoot: Identity
const cleanup: Array<() => unknown> = []

beforeAll(async () => {
  northRoot = await createIdentity()
})

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

function body(doc: Y.Doc, id: string): string {
  return ((doc.getMap('proposals').get(id) as Y.Map<unknown> | undefined)?.get('body') as Y.Text | undefined)?.toString() ?? ''
}

async function relayWithPlainRooms(): Promise<{ relay: Relay; plain: () => PlainRooms }> {
  let plain: PlainRooms | undefined
  const relay = await startRelay({
    tokens: { 'token-north': 'north', 'token-ana': 'ana', 'token-press': { identity: 'press', access: 'read' } },
    plain: ({ identity }) => (plain = createPlainRooms({ identity, accept: ['city/*'], pingEvery: 0 })),
    resyncEvery: 0,
  })
  cleanup.push(() => relay.close())
  return { relay, plain: () => plain as PlainRooms }
}

function client(relay: Relay, params: Record<string, string>): PlainClient {
  const plain = plainClient(relay.url, 'city/process.p1', params)
  cleanup.push(() => plain.destroy())
  return plain
}

describe('plain y-websocket through startRelay', () => {
  it('a y-websocket client and a cabildo district converge through the relay, which vouches for the plain edits with its own key', async () => {
    const { relay, plain } = await relayWithPlainRooms()
    const north: District = district('north', relay.url, northRoot, {}, undefined, 'token-north')
    cleanup.push(() => north.space.close())
    const proposal = await north.space.proposals.create({ title: 'Benches', district: 'north', process: 'p1', body: 'Ten benches.' })
    const ana = client(relay, { token: 'token-ana' })
    await until(() => body(ana.doc, proposal.id) === 'Ten benches.', 'ana receives the proposal')
    const text = (ana.doc.getMap('proposals').get(proposal.id) as Y.Map<unknown>).get('body') as Y.Text
    text.insert(0, 'Twenty. ')
    ;(await north.space.proposals.require(proposal.id)).text('body').insert(12, ' by the river')
    const northBody = async () => (await north.space.proposals.require(proposal.id)).get().value.body ?? ''
    await until(async () => (await northBody()) === body(ana.doc, proposal.id) && (await northBody()).includes('Twenty') && (await northBody()).includes('river'), 'convergence')
    const vouched = (north.space.signedDocs.get(proposal.shard)?.log() ?? []).flatMap((entry) => {
      const decoded = decodeEnvelope(entry.bytes)
      return decoded.ok && decoded.envelope.vouched ? [decoded.envelope] : []
    })
    expect(vouched[0]).toMatchObject({ author: relay.identity.did, vouched: [{ client: ana.doc.clientID, identity: 'ana' }] })
    expect(north.engine.quarantine()).toEqual([])
    expect(plain().rooms()).toEqual([{ room: 'city/process.p1', connections: 1 }])
  })

  it('a read-only token reads but cannot write; a connection without a valid token never reaches the room', async () => {
    const { relay, plain } = await relayWithPlainRooms()
    const north: District = district('north', relay.url, northRoot, {}, undefined, 'token-north')
    cleanup.push(() => north.space.close())
    const proposal = await north.space.proposals.create({ title: 'Benches', district: 'north', process: 'p1', body: 'Ten benches.' })
    const press = client(relay, { token: 'token-press' })
    await until(() => body(press.doc, proposal.id) === 'Ten benches.', 'the press reads')
    const refused: string[] = []
    plain().on('refused', ({ identity, code }) => refused.push(`${identity} ${code}`))
    ;((press.doc.getMap('proposals').get(proposal.id) as Y.Map<unknown>).get('body') as Y.Text).insert(0, 'Fake ')
    await until(() => press.closeCodes.includes(4403), 'the press is refused')
    expect(refused).toEqual(['press E_FORBIDDEN'])
    const stranger = client(relay, { token: 'nope' })
    await until(() => stranger.closeCodes.length > 0, 'the stranger is turned away')
    expect(body(stranger.doc, proposal.id)).toBe('')
    expect((await north.space.proposals.require(proposal.id)).get().value.body).toBe('Ten benches.')
  })
})
