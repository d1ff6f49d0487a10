/**
 * Per-peer rate limits of the sync engine: a peer flooding valid envelopes, or asking again and
 * again for whole histories, is throttled (its messages dropped unread, counted, reported, and
 * struck when it keeps on), while honest peers keep syncing. The engines run on an injected
 * clock: nothing here waits for real time.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  createIdentity,
  createMemoryNetwork,
  createSpace,
  decodeSyncMessage,
  encodeSyncMessage,
  SyncPeerStatus,
  type Identity,
  type SyncEngine,
  type SyncEngineEvents,
  type SyncEngineOptions,
  type Transport,
} from '../../src/index'
import { SessionWriter } from '../../src/sync/session-writer'
import { ByzantinePeer } from '../../src/testing/byzantine/byzantine-peer'
import { expectSameDocs, openAll, replica, settle, type Replica } from './sync-fixtures'

let staff: Identity
let citizen: Identity
let agency: Identity
let mallory: Identity

beforeAll(async () => {
  ;[staff, citizen, agency, mallory] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity()])
})

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let at = 0
  return { now: () => at, advance: (ms) => void (at += ms) }
}

function engines(replicas: readonly Replica[]): SyncEngine[] {
  return replicas.map((r) => r.engine)
}

function recordRateLimits(engine: SyncEngine): Array<SyncEngineEvents['rate-limited']> {
  const seen: Array<SyncEngineEvents['rate-limited']> = []
  engine.on('rate-limited', (event) => seen.push(event))
  return seen
}

/** `count` valid envelopes of the attacker's own session for `doc`, one edit each. */
async function ownEnvelopes(docId: string, count: number): Promise<Uint8Array[]> {
  const doc = new Y.Doc()
  const out: Uint8Array[] = []
  const writer = new SessionWriter({ doc, docId, signer: mallory.keyPair, onEnvelope: (bytes) => out.push(bytes) })
  for (let i = 0; i < count; i++) {
    doc.getMap('notes').set(`n${i}`, i)
    await writer.flush()
  }
  writer.dispose()
  return out
}

describe('sync engine: rate limits', () => {
  it('a peer flooding validly signed envelopes is throttled, then ignored; honest peers keep syncing and converge', async () => {
    const clock = manualClock() // never advanced: the burst is all the attacker gets
    const engine: Omit<SyncEngineOptions, 'space' | 'transport'> = {
      now: clock.now,
      limits: { envelopeRate: { burst: 100, perSecond: 10 }, rateDropsPerStrike: 10, maxStrikes: 3 },
    }
    const network = createMemoryNetwork({ seed: 71 })
    const honest = [replica(network, 'north', citizen, {}, engine), replica(network, 'south', staff, {}, engine), replica(network, 'east', agency, {}, engine)]
    const [north, south, east] = honest as [Replica, Replica, Replica]
    const ticket = await north.space.tickets.create({ service_code: 'pothole', district: 'north' })
    await settle(network, engines(honest))
    await openAll(honest.map((r) => r.space))
    await settle(network, engines(honest))
    const attacker = new ByzantinePeer({ transport: network.transport(), peerId: 'mallory', spaceId: 'city', signer: mallory.keyPair })
    await settle(network, engines(honest))
    const events = honest.map((r) => recordRateLimits(r.engine))
    const before = honest.map((r) => r.engine.stats())

    const flood = await ownEnvelopes(`city/${ticket.shard}`, 300)
    for (const envelope of flood) for (const r of honest) attacker.sendEnvelopes(r.name, ticket.shard, [envelope])
    // Honest work goes on during the flood.
    const second = await south.space.tickets.create({ service_code: 'graffiti', district: 'north' })
    ;(await east.space.tickets.require(ticket.id)).update({ status_notes: 'crew on the way' })
    await settle(network, engines(honest))

    honest.forEach((r, i) => {
      const stats = r.engine.stats()
      // The burst passed (100 envelopes, each a signature check); the next 30 messages were
      // dropped unread, every 10th a strike; at the third strike the peer is ignored.
      expect(stats.applied - (before[i]?.applied ?? 0), r.name).toBeGreaterThanOrEqual(100)
      expect(stats.rateLimited, r.name).toBe(30)
      expect(stats.malformed, r.name).toBe(3)
      expect(stats.ignored - (before[i]?.ignored ?? 0), r.name).toBeGreaterThanOrEqual(170)
      expect(events[i]?.every((event) => event.peerId === 'mallory' && event.limit === 'envelopes' && event.doc === ticket.shard), r.name).toBe(true)
      expect(events[i]?.length, r.name).toBe(30)
      expect(r.engine.peers().find((peer) => peer.peerId === 'mallory')?.status, r.name).toBe(SyncPeerStatus.ignored)
    })
    for (const r of honest) expect((await r.space.doc(ticket.shard)).getMap('notes').size, r.name).toBe(100)
    for (const r of honest) expect((await r.space.tickets.require(second.id)).get().value.service_code, r.name).toBe('graffiti')
    for (const r of honest) expect((await r.space.tickets.require(ticket.id)).get().value.status_notes, r.name).toBe('crew on the way')
    await expectSameDocs(honest.map((r) => r.space))

    attacker.close()
    for (const r of honest) await r.space.close()
  })

  it('repeated requests for a whole history are answered up to the rate; the rest are dropped and counted, and honest peers still catch up', async () => {
    const clock = manualClock()
    const engine: Omit<SyncEngineOptions, 'space' | 'transport'> = { now: clock.now, limits: { historyRate: { burst: 4, perSecond: 0.5 } } }
    const network = createMemoryNetwork({ seed: 72 })
    const honest = [replica(network, 'north', citizen, {}, engine), replica(network, 'south', staff, {}, engine)]
    const [north] = honest as [Replica, Replica]
    const ticket = await north.space.tickets.create({ service_code: 'pothole', district: 'north' })
    for (let i = 0; i < 5; i++) (await north.space.tickets.require(ticket.id)).update({ status_notes: `note ${i}` })
    await settle(network, engines(honest))
    await openAll(honest.map((r) => r.space))
    await settle(network, engines(honest))

    const raw: Transport = network.join('mallory')
    let envelopesReceived = 0
    raw.on('message', ({ bytes }) => {
      const decoded = decodeSyncMessage(bytes)
      if (decoded.ok && decoded.message.type === 'envelopes') envelopesReceived++
    })
    await settle(network, engines(honest))
    raw.send('north', encodeSyncMessage({ type: 'hello', space: 'city', ask: false }))
    await settle(network, engines(honest))
    const events = recordRateLimits(north.engine)
    const heads = north.space.signedDocs.get(ticket.shard)?.heads() ?? []
    expect(heads.length).toBeGreaterThan(0)
    const wantAll = encodeSyncMessage({ type: 'want', doc: ticket.shard, wants: heads.map(({ author, session }) => ({ author, session, after: 0 })) })
    const sentBefore = north.engine.stats().bytesSent
    for (let i = 0; i < 50; i++) {
      raw.send('north', wantAll)
      await settle(network, engines(honest)) // one answer per request, not merged with the next
    }
    expect(envelopesReceived).toBe(4)
    expect(north.engine.stats().rateLimited).toBe(46)
    expect(events.length).toBe(46)
    expect(events.every((event) => event.limit === 'history' && event.doc === ticket.shard && event.peerId === 'mallory')).toBe(true)
    const answered = north.engine.stats().bytesSent - sentBefore

    // Asking for our heads in return counts against the same budget; time refills it.
    for (let i = 0; i < 3; i++) raw.send('north', encodeSyncMessage({ type: 'heads', doc: ticket.shard, reply: true, heads: [] }))
    await settle(network, engines(honest))
    expect(north.engine.stats().rateLimited).toBe(49)
    clock.advance(4_000) // two more requests at 0.5 per second
    for (let i = 0; i < 3; i++) {
      raw.send('north', wantAll)
      await settle(network, engines(honest))
    }
    expect(envelopesReceived).toBe(6)
    expect(north.engine.stats().rateLimited).toBe(50)
    // 50 dropped requests cost nothing to answer: north sent about four answers' worth, not fifty.
    expect(answered).toBeLessThan(((north.engine.stats().bytesSent - sentBefore) / 6) * 5)

    // A new honest replica still catches up from north, and the old ones keep syncing.
    const west = replica(network, 'west', agency, {}, engine)
    ;(await north.space.tickets.require(ticket.id)).update({ status_notes: 'final' })
    await settle(network, engines([...honest, west]))
    await openAll([...honest, west].map((r) => r.space))
    await settle(network, engines([...honest, west]))
    await expectSameDocs([...honest, west].map((r) => r.space))
    expect((await west.space.tickets.require(ticket.id)).get().value.status_notes).toBe('final')
    expect(west.engine.stats().rateLimited).toBe(0)
    for (const r of [...honest, west]) await r.space.close()
  })

  it('refuses invalid rates', () => {
    const space = createSpace({ id: 'city' })
    const network = createMemoryNetwork()
    expect(() => space.sync(network.transport(), { limits: { historyRate: { burst: 0, perSecond: 1 } } })).toThrowError(expect.objectContaining({ code: 'E_ARGUMENT' }) as Error)
    expect(() => space.sync(network.transport(), { limits: { messageRate: { burst: 10, perSecond: Number.NaN } } })).toThrowError(expect.objectContaining({ code: 'E_ARGUMENT' }) as Error)
    expect(() => space.sync(network.transport(), { limits: { rateDropsPerStrike: 0 } })).toThrowError(expect.objectContaining({ code: 'E_ARGUMENT' }) as Error)
  })
})
