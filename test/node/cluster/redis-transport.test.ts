/**
 * The Redis transport against a real, throwaway redis-server (test/helpers/redis-server): the
 * transport acceptance suite (each transport on its own connections, and two on one shared bus),
 * peers that go silent, garbage on the channels, and a Redis restart under live transports.
 */
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CabildoError } from '../../../src/errors'
import { createRedisBus, type RedisBus } from '../../../src/node/cluster/redis-bus'
import { decodeBusFrame, encodeBusFrame, type BusFrame } from '../../../src/node/cluster/redis-frames'
import { createRedisTransport, type RedisTransport } from '../../../src/node/cluster/redis-transport'
import { runTransportTests } from '../../../src/testing/transport-tests'
import { createSeededRandom } from '../../../src/transports/seeded-random'
import type { TransportMessage } from '../../../src/transports/transport'
import { startRedisServer, type RedisServer } from '../../helpers/redis-server'

let server: RedisServer
let channels = 0

beforeAll(async () => {
  server = await startRedisServer()
}, 30_000)
afterAll(async () => {
  await server?.destroy()
})

/** A channel name no other test uses. */
const freshChannel = (): string => `test-${process.pid}-${++channels}`

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  if (!server.running) await server.start()
  for (const step of cleanup.splice(0).reverse()) await step()
})

function busOf(): RedisBus {
  const bus = createRedisBus({ url: server.url })
  cleanup.push(() => bus.close())
  return bus
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

runTransportTests('redis (a bus per transport)', () => {
  const channel = freshChannel()
  return { a: createRedisTransport({ url: server.url, channel }), b: createRedisTransport({ url: server.url, channel }) }
}, { ordered: true })

runTransportTests('redis (two transports on one bus)', () => {
  const channel = freshChannel()
  const bus = createRedisBus({ url: server.url })
  return { a: createRedisTransport({ bus, channel }), b: createRedisTransport({ bus, channel }), teardown: () => bus.close() }
}, { ordered: true })

/** A raw Redis client for the tests, closed afterwards. */
function rawClient(): Redis {
  const client = new Redis(server.url, { lazyConnect: false })
  client.on('error', () => undefined)
  cleanup.push(() => client.quit().catch(() => client.disconnect()))
  return client
}

/** Publishes `bytes` on `channel` every 20 ms until `check()` holds (the transport subscribes in the background). */
async function publishUntil(raw: Redis, channel: string, bytes: Uint8Array, check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await raw.publish(channel, Buffer.from(bytes))
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('redis bus frames', () => {
  it('round-trips every frame, and refuses truncations, trailing bytes and other versions', () => {
    const frames: BusFrame[] = [
      { type: 'hello', peer: { peerId: 'relay:did:key:z6Mk#a1', metadata: { role: 'relay' } }, incarnation: '0123456789abcdef', ask: true },
      { type: 'hello-back', peer: { peerId: 'b' }, incarnation: 'ff' },
      { type: 'bye', peerId: 'b', incarnation: 'ff' },
      { type: 'data', from: 'a', bytes: Uint8Array.from([0, 1, 2, 255]) },
    ]
    for (const frame of frames) {
      const bytes = encodeBusFrame(frame)
      expect(decodeBusFrame(bytes)).toEqual(frame)
      for (let cut = 0; cut < bytes.length; cut++) expect(decodeBusFrame(bytes.subarray(0, cut)), `${frame.type} cut at ${cut}`).toBeUndefined()
      expect(decodeBusFrame(Uint8Array.from([...bytes, 0]))).toBeUndefined()
      expect(decodeBusFrame(Uint8Array.from([2, ...bytes.subarray(1)]))).toBeUndefined()
    }
  })

  it('never throws on random bytes (seeded)', () => {
    const random = createSeededRandom(11)
    for (let i = 0; i < 2_000; i++) {
      const bytes = Uint8Array.from({ length: random.int(0, 40) }, () => random.int(0, 255))
      if (i % 2 === 0) bytes[0] = 1
      expect(() => decodeBusFrame(bytes)).not.toThrow()
    }
  })
})

describe('redis transport', () => {
  it('announces a peer that falls silent as left after the timeout, and again when it is heard', async () => {
    const channel = freshChannel()
    const a = createRedisTransport({ bus: busOf(), channel, heartbeatMs: 50, timeoutMs: 200 })
    cleanup.push(() => a.close())
    const log: string[] = []
    a.on('peer', ({ peerId }) => log.push(`peer:${peerId}`))
    a.on('peer-left', ({ peerId }) => log.push(`left:${peerId}`))
    a.connect({ peerId: 'a' })
    // A peer that says hello once, then nothing (a process killed with SIGKILL says no bye).
    const ghost = rawClient()
    const hello = encodeBusFrame({ type: 'hello', peer: { peerId: 'ghost' }, incarnation: 'one', ask: false })
    await publishUntil(ghost, `cabildo:${channel}:bus`, hello, () => log.includes('peer:ghost'), 'the ghost to be announced')
    await until(() => log.includes('left:ghost'), 'the ghost to time out')
    // Heard again under the same incarnation (it was only slow): announced again.
    await ghost.publish(`cabildo:${channel}:bus`, Buffer.from(encodeBusFrame({ type: 'hello', peer: { peerId: 'ghost' }, incarnation: 'one', ask: false })))
    await until(() => log.filter((entry) => entry === 'peer:ghost').length === 2, 'the ghost to come back')
    expect(log.slice(0, 3)).toEqual(['peer:ghost', 'left:ghost', 'peer:ghost'])
  })

  it('announces a peer that comes back under a new incarnation as left, then back', async () => {
    const channel = freshChannel()
    const a = createRedisTransport({ bus: busOf(), channel })
    cleanup.push(() => a.close())
    const log: string[] = []
    a.on('peer', ({ peerId }) => log.push(`peer:${peerId}`))
    a.on('peer-left', ({ peerId }) => log.push(`left:${peerId}`))
    a.connect({ peerId: 'a' })
    const raw = rawClient()
    const hello = (incarnation: string) => raw.publish(`cabildo:${channel}:bus`, Buffer.from(encodeBusFrame({ type: 'hello', peer: { peerId: 'b' }, incarnation, ask: false })))
    const first = encodeBusFrame({ type: 'hello', peer: { peerId: 'b' }, incarnation: 'first', ask: false })
    await publishUntil(raw, `cabildo:${channel}:bus`, first, () => log.length > 0, 'b to be announced')
    await hello('first') // a heartbeat: nothing new
    await hello('second') // b reconnected: it may have missed messages
    await until(() => log.length >= 3, 'the second incarnation')
    expect(log).toEqual(['peer:b', 'left:b', 'peer:b'])
    // A stale bye of the first incarnation does not remove the second.
    await raw.publish(`cabildo:${channel}:bus`, Buffer.from(encodeBusFrame({ type: 'bye', peerId: 'b', incarnation: 'first' })))
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(a.peers).toEqual(['b'])
  })

  it('ignores garbage and forged frames on its channels, and keeps delivering', async () => {
    const channel = freshChannel()
    const a = createRedisTransport({ bus: busOf(), channel })
    const b = createRedisTransport({ bus: busOf(), channel })
    cleanup.push(() => a.close(), () => b.close())
    const atB: TransportMessage[] = []
    b.on('message', (message) => atB.push(message))
    a.connect({ peerId: 'a' })
    b.connect({ peerId: 'b' })
    await until(() => a.peers.includes('b') && b.peers.includes('a'), 'a and b to meet')
    const raw = rawClient()
    const random = createSeededRandom(5)
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.from(Uint8Array.from({ length: random.int(0, 64) }, () => random.int(0, 255)))
      await raw.publish(i % 2 === 0 ? `cabildo:${channel}:bus` : `cabildo:${channel}:to:b`, bytes)
    }
    // Data from a peer b never met is not delivered (b asks it for a hello instead).
    await raw.publish(`cabildo:${channel}:to:b`, Buffer.from(encodeBusFrame({ type: 'data', from: 'mallory', bytes: Uint8Array.from([6, 6, 6]) })))
    a.send('b', Uint8Array.from([1, 2, 3]))
    await until(() => atB.length === 1, 'the message from a')
    expect(atB.map(({ from, bytes }) => [from, Array.from(bytes)])).toEqual([['a', [1, 2, 3]]])
    expect(b.peers).toEqual(['a'])
  })

  it('drops every peer while Redis is down, and meets them again once it is back', async () => {
    const channel = freshChannel()
    const busA = busOf()
    const busB = busOf()
    const a = createRedisTransport({ bus: busA, channel })
    const b = createRedisTransport({ bus: busB, channel })
    cleanup.push(() => a.close(), () => b.close())
    const atB: number[] = []
    b.on('message', ({ bytes }) => atB.push(bytes[0] ?? -1))
    const statuses: string[] = []
    busA.onStatus(({ status }) => statuses.push(status))
    a.connect({ peerId: 'a' })
    b.connect({ peerId: 'b' })
    await until(() => a.peers.includes('b') && b.peers.includes('a'), 'a and b to meet')
    await server.stop()
    await until(() => a.peers.length === 0 && b.peers.length === 0, 'both to see the other leave')
    expect(busA.status).toBe('down')
    a.send('b', Uint8Array.from([1])) // no peer: dropped, never thrown
    await server.start()
    await until(() => a.peers.includes('b') && b.peers.includes('a'), 'a and b to meet again', 20_000)
    a.send('b', Uint8Array.from([2]))
    await until(() => atB.length === 1, 'the message after the restart')
    expect(atB).toEqual([2])
    expect(statuses).toEqual(['ready', 'down', 'ready'])
  })

  it('refuses bad options, and fails ready() with E_NETWORK when Redis cannot be reached', async () => {
    expect(() => createRedisTransport({ channel: '', url: server.url })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    expect(() => createRedisTransport({ channel: 'x' })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    expect(() => createRedisTransport({ channel: 'x', url: server.url, heartbeatMs: 0 })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    expect(() => createRedisBus({ url: 'http://127.0.0.1:1' })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    const nowhere = createRedisBus({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 300 })
    cleanup.push(() => nowhere.close())
    const error = await nowhere.ready().catch((e: unknown) => e)
    expect(CabildoError.is(error, 'E_NETWORK') && error.details).toMatchObject({ operation: 'redis connect', cause: 'ECONNREFUSED' })
  })

  it('keeps channels of different names and prefixes apart', async () => {
    const channel = freshChannel()
    const otherPrefix = createRedisBus({ url: server.url, prefix: 'other' })
    cleanup.push(() => otherPrefix.close())
    const transports: RedisTransport[] = [
      createRedisTransport({ bus: busOf(), channel }),
      createRedisTransport({ bus: busOf(), channel: `${channel}:to:x` }),
      createRedisTransport({ bus: otherPrefix, channel }),
    ]
    const [first, second, third] = transports as [RedisTransport, RedisTransport, RedisTransport]
    cleanup.push(...transports.map((transport) => () => transport.close()))
    first.connect({ peerId: 'x' })
    second.connect({ peerId: 'y' })
    third.connect({ peerId: 'z' })
    const lonely = createRedisTransport({ bus: busOf(), channel })
    cleanup.push(() => lonely.close())
    lonely.connect({ peerId: 'w' })
    await until(() => lonely.peers.includes('x'), 'w to meet x')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(lonely.peers).toEqual(['x'])
    expect(second.peers).toEqual([])
    expect(third.peers).toEqual([])
  })
})
