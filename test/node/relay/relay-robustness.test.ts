import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createIdentity, createSeededRandom, encodeSyncMessage, type Identity, type SeededRandom } from '../../../src/index'
import { startRelay, type Relay } from '../../../src/node/relay/relay'
import type { RelayMetrics } from '../../../src/node/relay/relay-metrics'
import type { Space } from '../../../src/sync/space'
import { encodeDataFrame, encodeHelloFrame } from '../../../src/transports/websocket-frames'
import { expectSameDocs } from '../../sync/sync-fixtures'
import { converge, district } from './relay-fixtures'

const seed = Number(process.env.SEED ?? 1)

let north: Identity
let south: Identity
const roots = (): Record<string, string> => ({ north: north.did, south: south.did })

beforeAll(async () => {
  ;[north, south] = (await Promise.all([createIdentity(), createIdentity()])) as [Identity, Identity]
})

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

function randomBytes(random: SeededRandom, max: number): Uint8Array {
  return Uint8Array.from({ length: random.int(0, max) }, () => random.int(0, 255))
}

/** One hostile frame: random bytes, a truncated hello, garbage in a data frame, a forged envelope, or text. */
function hostileFrame(random: SeededRandom, index: number): Uint8Array | string {
  switch (random.int(0, 5)) {
    case 0:
      return randomBytes(random, 64)
    case 1: {
      const hello = encodeHelloFrame({ peerId: `mallory-${index}`, metadata: { a: 'b' } })
      return hello.slice(0, random.int(0, hello.length - 1))
    }
    case 2:
      return encodeDataFrame(randomBytes(random, 64))
    case 3:
      return encodeDataFrame(encodeSyncMessage({ type: 'envelopes', doc: '_manifest', envelopes: [randomBytes(random, 300)] }))
    case 4:
      return 'not a frame'
    default:
      return encodeHelloFrame({ peerId: `mallory-again-${index}` })
  }
}

/** Opens a cabildo connection, optionally says hello (frame and sync), sends `frames`, and resolves with the close code once the socket closed. */
function attack(url: string, hello: string | undefined, frames: ReadonlyArray<Uint8Array | string>): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, ['cabildo.v1'])
    socket.on('error', () => undefined)
    socket.on('close', (code) => resolve(code))
    socket.on('open', () => {
      if (hello !== undefined) {
        socket.send(encodeHelloFrame({ peerId: hello }))
        socket.send(encodeDataFrame(encodeSyncMessage({ type: 'hello', space: 'city', ask: false }))) // so the engine reads what follows
      }
      for (const frame of frames) socket.send(frame)
      socket.close()
    })
  })
}

describe('relay robustness', () => {
  it(`survives 10,000 malformed, truncated and random frames and a 50 MB message; honest districts still converge (rerun: SEED=${seed} npx vitest run test/node/relay/relay-robustness.test.ts)`, async () => {
    const relay: Relay = await startRelay({ spaces: ['city'], limits: { maxMessageBytes: 1024 * 1024, maxBadFrames: 50, messagesPerSecond: 2_000, burstMessages: 500 } })
    cleanup.push(() => relay.close())
    const url = `${relay.url}/city`
    const honest = [district('north', relay.url, north, roots()), district('south', relay.url, south, roots())]
    cleanup.push(...honest.map((d) => () => d.engine.close()))
    await honest[0]?.space.tickets.create({ service_code: 'pothole', district: 'north' })

    const random = createSeededRandom(seed)
    const total = 10_000
    const perConnection = 100
    let sent = 0
    const workers = Array.from({ length: 5 }, async (_, worker) => {
      for (let connection = 0; sent < total; connection++) {
        const frames = Array.from({ length: Math.min(perConnection, total - sent) }, (_, i) => hostileFrame(random, sent + i))
        sent += frames.length
        await attack(url, connection % 2 === 0 ? `mallory-${worker}-${connection}` : undefined, frames)
      }
    })
    // Meanwhile: one connection over the rate (harmless frames, too many), and one 50 MB message.
    const flood = attack(url, 'flooder', Array.from({ length: 1_000 }, () => encodeDataFrame(encodeSyncMessage({ type: 'hello', space: 'city', ask: false }))))
    const huge = attack(url, 'huge', [new Uint8Array(50 * 1024 * 1024)])
    await honest[1]?.space.proposals.create({ title: 'Benches', district: 'south', process: 'pb2026', body: 'Ten benches.' })
    const [, floodCode, hugeCode] = await Promise.all([Promise.all(workers), flood, huge])
    expect(sent).toBe(total)
    expect(hugeCode).toBe(1009)
    expect(floodCode).toBe(1008)

    await honest[0]?.space.tickets.create({ service_code: 'graffiti', district: 'north' })
    const spaces = [...honest.map((d) => d.space), relay.space('city') as Space]
    await converge(spaces)
    await expectSameDocs(spaces)

    const health = await fetch(`http://127.0.0.1:${relay.port}/health`)
    expect(health.status).toBe(200)
    const metrics = (await (await fetch(`http://127.0.0.1:${relay.port}/metrics`)).json()) as RelayMetrics
    expect(metrics.connections).toBe(2) // the honest ones
    for (const reason of ['malformed', 'version', 'text', 'early', 'hello', 'hello-again', 'oversize', 'rate']) expect(metrics.refusedFrames[reason], reason).toBeGreaterThan(0)
    expect(metrics.closedConnections['bad-frames']).toBeGreaterThan(0)
    expect(metrics.closedConnections['too-large']).toBe(1)
    expect(metrics.closedConnections.rate).toBe(1)
    expect(Object.keys(metrics.rejected).length).toBeGreaterThan(0)
    for (const d of honest) expect(d.transport.status).toBe('open')
  }, 30_000)
})
