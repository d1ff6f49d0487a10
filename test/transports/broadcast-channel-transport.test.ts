import { afterEach, describe, expect, it } from 'vitest'
import { createIdentity } from '../../src/identity/identity'
import { createSpace, type Space } from '../../src/sync/space'
import { runTransportTests } from '../../src/testing/transport-tests'
import {
  createBroadcastChannelTransport,
  type BroadcastChannelConstructor,
  type BroadcastChannelLike,
} from '../../src/transports/broadcast-channel-transport'
import type { PeerId, PeerInfo, Transport } from '../../src/transports/transport'

let channels = 0
/** A channel name no other test uses (Node's BroadcastChannel reaches every thread of the process). */
const freshChannel = (): string => `cabildo-test-${process.pid}-${++channels}`

runTransportTests(
  'BroadcastChannel',
  () => {
    const channel = freshChannel()
    return { a: createBroadcastChannelTransport({ channel }), b: createBroadcastChannelTransport({ channel }) }
  },
  { ordered: true, quietMs: 30 },
)

/** Waits until `check()` holds (polling), failing after 5 s with `what`. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 5) {
    if (waited > 5_000) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Reads until `ok(value)` holds (polling), failing after 5 s with `what`; returns the value. */
async function until<T>(read: () => T | Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let waited = 0; ; waited += 10) {
    const value = await read()
    if (ok(value)) return value
    if (waited > 5_000) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Everything one transport emitted. */
function watch(transport: Transport) {
  const seen = { peers: [] as PeerInfo[], left: [] as PeerId[], messages: [] as Array<{ from: PeerId; text: string }>, log: [] as string[] }
  transport.on('peer', (peer) => {
    seen.peers.push(peer)
    seen.log.push(`peer:${peer.peerId}`)
  })
  transport.on('peer-left', ({ peerId }) => {
    seen.left.push(peerId)
    seen.log.push(`peer-left:${peerId}`)
  })
  transport.on('message', ({ from, bytes }) => seen.messages.push({ from, text: new TextDecoder().decode(bytes) }))
  return seen
}

/**
 * A channel constructor whose channels can be silenced: a silenced channel neither sends nor
 * receives, as when its tab is closed or frozen without a word.
 */
function silenceableChannels() {
  const all: Array<{ silenced: boolean }> = []
  const Constructor: BroadcastChannelConstructor = class implements BroadcastChannelLike {
    readonly #inner: BroadcastChannel
    readonly #state = { silenced: false }
    onmessage: ((event: MessageEvent) => void) | null = null
    constructor(name: string) {
      all.push(this.#state)
      this.#inner = new BroadcastChannel(name)
      this.#inner.onmessage = (event) => {
        if (!this.#state.silenced) this.onmessage?.(event)
      }
    }
    postMessage(message: unknown): void {
      if (!this.#state.silenced) this.#inner.postMessage(message)
    }
    close(): void {
      this.#inner.close()
    }
  }
  return { Constructor, channel: (index: number) => all[index]! }
}

describe('BroadcastChannel transport', () => {
  const open: Array<{ close(): void | Promise<void> }> = []
  const track = <T extends { close(): void | Promise<void> }>(thing: T): T => {
    open.push(thing)
    return thing
  }
  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close()
  })

  it('lets three peers discover each other, with their metadata, and delivers to the addressee only', async () => {
    const channel = freshChannel()
    const [a, b, c] = [0, 1, 2].map(() => track(createBroadcastChannelTransport({ channel })))
    const [ra, rb, rc] = [a!, b!, c!].map(watch)
    a!.connect({ peerId: 'a', metadata: { app: 'budget' } })
    b!.connect({ peerId: 'b' })
    c!.connect({ peerId: 'c', metadata: { app: 'tickets' } })
    await eventually(() => ra!.peers.length === 2 && rb!.peers.length === 2 && rc!.peers.length === 2, 'every peer to see the two others')

    expect(rb!.peers).toEqual(expect.arrayContaining([{ peerId: 'a', metadata: { app: 'budget' } }, { peerId: 'c', metadata: { app: 'tickets' } }]))
    expect([...ra!.peers.map((p) => p.peerId)].sort()).toEqual(['b', 'c'])
    expect([...rc!.peers.map((p) => p.peerId)].sort()).toEqual(['a', 'b'])
    expect([...a!.peers].sort()).toEqual(['b', 'c'])

    a!.send('c', new TextEncoder().encode('to c'))
    b!.send('a', new TextEncoder().encode('to a'))
    await eventually(() => rc!.messages.length === 1 && ra!.messages.length === 1, 'both messages')
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(rc!.messages).toEqual([{ from: 'a', text: 'to c' }])
    expect(ra!.messages).toEqual([{ from: 'b', text: 'to a' }])
    expect(rb!.messages).toEqual([])

    b!.close() // says bye
    await eventually(() => ra!.left.includes('b') && rc!.left.includes('b'), 'a and c to see b leave')
    expect(a!.peers).toEqual(['c'])
  })

  it('announces as left a peer that vanishes without bye, keeps the live ones, and announces it again when it is heard again', async () => {
    const channel = freshChannel()
    const { Constructor, channel: raw } = silenceableChannels()
    const options = { channel, BroadcastChannel: Constructor, heartbeatMs: 10, timeoutMs: 60 }
    const [a, b, c] = [0, 1, 2].map(() => track(createBroadcastChannelTransport(options)))
    const [ra, , rc] = [a!, b!, c!].map(watch)
    a!.connect({ peerId: 'a' })
    b!.connect({ peerId: 'b' })
    c!.connect({ peerId: 'c' })
    await eventually(() => a!.peers.length === 2 && b!.peers.length === 2 && c!.peers.length === 2, 'discovery')

    raw(1).silenced = true // b's tab is gone: no bye, no heartbeat
    await eventually(() => ra!.left.includes('b') && rc!.left.includes('b'), 'a and c to time b out')
    // Heartbeats keep a and c known to each other all along.
    expect(ra!.log.slice(0, 2).sort()).toEqual(['peer:b', 'peer:c'])
    expect(ra!.log.slice(2)).toEqual(['peer-left:b'])
    expect(rc!.left).toEqual(['b'])
    expect(a!.peers).toEqual(['c'])

    raw(1).silenced = false // it was only frozen: its next heartbeat brings it back
    await eventually(() => a!.peers.includes('b') && c!.peers.includes('b'), 'b to be announced again')
    expect(ra!.log.filter((entry) => entry === 'peer:b')).toHaveLength(2)
    a!.send('b', new TextEncoder().encode('welcome back'))
    const rb = watch(b!)
    await eventually(() => rb.messages.length === 1, 'the message to b')
    expect(rb.messages).toEqual([{ from: 'a', text: 'welcome back' }])
  })

  it('ignores frames of other protocols and malformed frames on the same channel', async () => {
    const channel = freshChannel()
    const a = track(createBroadcastChannelTransport({ channel }))
    const ra = watch(a)
    a.connect({ peerId: 'a' })
    const stranger = track(new BroadcastChannel(channel))
    for (const junk of [
      'hello',
      null,
      { type: 'hello', from: { peerId: 'x' }, ask: true }, // no tag
      { cabildo: 1, type: 'hello', from: { peerId: '' }, ask: true },
      { cabildo: 1, type: 'hello', from: { peerId: 'x', metadata: { n: 1 } }, ask: true },
      { cabildo: 1, type: 'data', from: 'x', to: 'a', bytes: [1, 2] },
      { cabildo: 2, type: 'hello', from: { peerId: 'x' }, ask: true },
    ]) {
      stranger.postMessage(junk)
    }
    stranger.postMessage({ cabildo: 1, type: 'hello', from: { peerId: 'y' }, ask: false }) // well formed: announced
    await eventually(() => ra.peers.length === 1, 'the well-formed hello')
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(ra.peers).toEqual([{ peerId: 'y' }])
    expect(ra.messages).toEqual([])
  })

  it('refuses an empty channel name, a non-positive timing and a platform without BroadcastChannel, with E_ARGUMENT', () => {
    expect(() => createBroadcastChannelTransport({ channel: '' })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    expect(() => createBroadcastChannelTransport({ channel: 'x', heartbeatMs: 0 })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    expect(() => createBroadcastChannelTransport({ channel: 'x', timeoutMs: Number.NaN })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    const original = globalThis.BroadcastChannel
    Reflect.deleteProperty(globalThis, 'BroadcastChannel')
    try {
      expect(() => createBroadcastChannelTransport({ channel: 'x' })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT', details: { argument: 'BroadcastChannel', reason: 'not available' } }))
    } finally {
      globalThis.BroadcastChannel = original
    }
  })

  it('carries the sync engine: two Spaces converge on a ticket, its signed close and a later edit', async () => {
    const channel = freshChannel()
    const root = await createIdentity()
    const crew = await createIdentity()
    const districts = { north: root.did }
    const hall: Space = track(createSpace({ id: 'city', identity: root, districts }))
    const field: Space = track(createSpace({ id: 'city', identity: crew, districts }))
    const engines = [
      track(hall.sync(createBroadcastChannelTransport({ channel }), { peerId: 'hall' })),
      track(field.sync(createBroadcastChannelTransport({ channel }), { peerId: 'field' })),
    ]

    await hall.grantRole(crew.did, 'agency:roads')
    const ticket = await hall.tickets.create({ service_code: 'pothole', district: 'north', agency_responsible: 'roads', description: 'Deep pothole' })
    await eventually(() => field.shardNames().includes(ticket.shard), 'the manifest to reach the field')
    await field.doc(ticket.shard) // a shard syncs once it is open on both sides
    const atField = await until(() => field.tickets.get(ticket.id), (found) => found !== undefined, 'the ticket at the field')
    expect(atField!.get().value.description).toBe('Deep pothole')
    await until(() => field.roster('north'), (roster) => roster?.hasRole(crew.did, 'agency:roads', Number.MAX_SAFE_INTEGER) === true, 'the grant at the field')

    await atField!.close({ note: 'Filled' }) // a signed act of the crew
    atField!.update({ status_notes: 'Filled and sealed' })

    const atHall = await hall.tickets.require(ticket.id)
    const view = await until(() => atHall.resolve(), (v) => v.status === 'closed' && atHall.get().value.status_notes === 'Filled and sealed', 'the close at the hall')
    expect(view.history.map((step) => step.to)).toEqual(['closed'])
    expect(view.rejected).toEqual([])
    expect(engines.map((engine) => engine.stats().rejected)).toEqual([0, 0])
    expect(engines[0]!.peers()).toEqual([expect.objectContaining({ peerId: 'field', status: 'syncing' })])
  })
})
