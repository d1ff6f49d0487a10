/**
 * The acceptance suite of the transport plug-in point: any {@link Transport} that passes it can
 * carry cabildo's sync traffic. Runs under vitest (an optional peer dependency).
 *
 * ```ts
 * // test/my-transport.test.ts
 * import { runTransportTests } from 'cabildo/testing'
 * runTransportTests('my transport', async () => {
 *   const relay = await startMyRelay()
 *   return { a: createMyTransport(relay.url), b: createMyTransport(relay.url), teardown: () => relay.stop() }
 * })
 * ```
 * @module
 */
import { afterEach, assert, beforeEach, describe, expect, it } from 'vitest'
import { createSeededRandom } from '../transports/seeded-random'
import type { PeerId, PeerInfo, Transport, TransportClosed, TransportMessage } from '../transports/transport'

/** What the `setup` of {@link runTransportTests} returns: two fresh transports that can reach each other once connected. */
export interface TransportTestSetup {
  /** One transport, not connected yet. */
  readonly a: Transport
  /** Another, not connected yet. */
  readonly b: Transport
  /**
   * Lets queued deliveries happen (a memory network settles). Awaited before every check; for
   * transports that deliver on their own, leave it out.
   */
  readonly flush?: () => Promise<void>
  /** Removes what the test left behind (servers, channels). Both transports are closed before it runs. */
  readonly teardown?: () => void | Promise<void>
}

/** Options of {@link runTransportTests}. */
export interface TransportTestOptions {
  /** The transport documents that one sender's messages to one receiver arrive in send order: check it too. Default false. */
  readonly ordered?: boolean
  /** How long to wait for an expected event, in milliseconds. Default 5 000. */
  readonly timeoutMs?: number
  /**
   * How long to wait, after `flush`, before concluding that nothing more arrives, in milliseconds.
   * Default 100; 0 suits transports whose `flush` delivers everything in flight.
   */
  readonly quietMs?: number
}

/** Everything one transport emitted, in order. */
interface Recording {
  readonly peers: PeerInfo[]
  readonly left: PeerId[]
  readonly messages: TransportMessage[]
  readonly closes: TransportClosed[]
  /** Every event as `kind:peer`, in emission order. */
  readonly log: string[]
}

function record(transport: Transport): Recording {
  const recording: Recording = { peers: [], left: [], messages: [], closes: [], log: [] }
  transport.on('peer', (peer) => {
    recording.peers.push(peer)
    recording.log.push(`peer:${peer.peerId}`)
  })
  transport.on('peer-left', ({ peerId }) => {
    recording.left.push(peerId)
    recording.log.push(`peer-left:${peerId}`)
  })
  transport.on('message', (message) => {
    recording.messages.push(message)
    recording.log.push(`message:${message.from}`)
  })
  transport.on('close', (closed) => {
    recording.closes.push(closed)
    recording.log.push('close')
  })
  return recording
}

/** Whether `peerId` is announced in `recording` (a `peer` not yet followed by `peer-left`). */
function announced(recording: Recording, peerId: PeerId): boolean {
  return recording.log.lastIndexOf(`peer:${peerId}`) > recording.log.lastIndexOf(`peer-left:${peerId}`)
}

function messagesFrom(recording: Recording, peerId: PeerId): TransportMessage[] {
  return recording.messages.filter((message) => message.from === peerId)
}

/** A 4-byte big-endian counter followed by `extra` bytes: a payload whose index can be read back. */
function numbered(index: number, extra: number): Uint8Array {
  const bytes = new Uint8Array(4 + extra)
  new DataView(bytes.buffer).setUint32(0, index)
  for (let i = 0; i < extra; i++) bytes[4 + i] = (index + i) & 0xff
  return bytes
}

function indexOf(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

let suiteRuns = 0

/**
 * Registers the transport acceptance tests under `describe(name)`. `setup` is called before each
 * test and must return two transports that are not connected yet and can reach each other once
 * both are; the suite connects them with fresh peer ids, closes both after the test, then calls
 * `teardown`. Messages may be reordered unless `options.ordered`, but in these conditions
 * (no faults) every message must arrive exactly once.
 */
export function runTransportTests(
  name: string,
  setup: () => TransportTestSetup | Promise<TransportTestSetup>,
  options: TransportTestOptions = {},
): void {
  const { ordered = false, timeoutMs = 5_000, quietMs = 100 } = options
  const run = `${Date.now().toString(36)}-${++suiteRuns}`
  let count = 0

  describe(`transport acceptance: ${name}`, () => {
    let a: Transport
    let b: Transport
    let ra: Recording
    let rb: Recording
    let idA: PeerId
    let idB: PeerId
    let flush: () => Promise<void>
    let teardown: (() => void | Promise<void>) | undefined

    /** Flushes and retries until `check()` holds, failing after `timeoutMs`. */
    const eventually = async (check: () => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        await flush()
        if (check()) return
        if (Date.now() >= deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`)
        await sleep(5)
      }
    }
    /** Flushes and waits long enough that whatever was going to arrive has arrived. */
    const quiet = async (): Promise<void> => {
      await flush()
      if (quietMs > 0) {
        await sleep(quietMs)
        await flush()
      }
    }
    const connectBoth = async (): Promise<void> => {
      a.connect({ peerId: idA, metadata: { suite: 'cabildo', side: 'a' } })
      b.connect({ peerId: idB })
      await eventually(() => announced(ra, idB) && announced(rb, idA), 'a and b to announce each other')
    }

    beforeEach(async () => {
      const result = await setup()
      a = result.a
      b = result.b
      flush = result.flush ?? (async () => {})
      teardown = result.teardown
      count++
      idA = `peer-a-${run}-${count}`
      idB = `peer-b-${run}-${count}`
      ra = record(a)
      rb = record(b)
    })
    afterEach(async () => {
      a.close()
      b.close()
      await teardown?.()
    })

    it('announces each peer to the other once after connect, with the metadata it connected with', async () => {
      await connectBoth()
      await quiet()
      expect(ra.peers.filter((peer) => peer.peerId === idB)).toHaveLength(1)
      expect(rb.peers.filter((peer) => peer.peerId === idA)).toEqual([{ peerId: idA, metadata: { suite: 'cabildo', side: 'a' } }])
      expect(ra.peers.some((peer) => peer.peerId === idA)).toBe(false)
      expect(rb.peers.some((peer) => peer.peerId === idB)).toBe(false)
      expect(typeof a.kind).toBe('string')
    })

    it('delivers bytes intact to the addressed peer, with the sender id', async () => {
      await connectBoth()
      const random = createSeededRandom(7)
      const large = Math.min(100_000, a.maxMessageBytes ?? Infinity, b.maxMessageBytes ?? Infinity)
      const payloads = [
        new Uint8Array(0),
        new Uint8Array([0]),
        Uint8Array.from({ length: 256 }, (_, i) => i),
        Uint8Array.from({ length: large }, () => random.int(0, 255)),
      ]
      for (const payload of payloads) a.send(idB, payload)
      b.send(idA, new Uint8Array([42, 43]))
      await eventually(() => messagesFrom(rb, idA).length >= payloads.length && messagesFrom(ra, idB).length >= 1, 'the messages')
      await quiet()
      const received = messagesFrom(rb, idA).map((message) => Array.from(message.bytes))
      const sent = payloads.map((payload) => Array.from(payload))
      const sortKey = (bytes: number[]): string => `${bytes.length}:${bytes.slice(0, 8).join(',')}`
      expect([...received].sort((x, y) => sortKey(x).localeCompare(sortKey(y)))).toEqual([...sent].sort((x, y) => sortKey(x).localeCompare(sortKey(y))))
      for (const message of messagesFrom(rb, idA)) expect(message.bytes).toBeInstanceOf(Uint8Array)
      expect(ra.messages.map((message) => [message.from, Array.from(message.bytes)])).toEqual([[idB, [42, 43]]])
    })

    it('delivers nothing to the sender itself nor to any peer but the addressee', async () => {
      await connectBoth()
      a.send(idB, new Uint8Array([1]))
      a.send(idA, new Uint8Array([2])) // to itself: no such remote peer
      await eventually(() => rb.messages.length >= 1, 'the message to b')
      await quiet()
      expect(ra.messages).toEqual([])
      expect(rb.messages.map((message) => Array.from(message.bytes))).toEqual([[1]])
    })

    it('copies the bytes at send: what the sender changes afterwards is not received', async () => {
      await connectBoth()
      const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])
      a.send(idB, bytes)
      bytes.fill(0)
      const view = new Uint8Array(Uint8Array.from([9, 9, 10, 11, 12, 9]).buffer, 2, 3) // a view into a larger buffer
      a.send(idB, view)
      await eventually(() => rb.messages.length >= 2, 'both messages')
      const received = rb.messages.map((message) => Array.from(message.bytes)).sort((x, y) => x.length - y.length)
      expect(received).toEqual([[10, 11, 12], [1, 2, 3, 4, 5, 6, 7, 8]])
    })

    it('gives receivers their own array: what a receiver changes does not reach the sender', async () => {
      await connectBoth()
      const original = Uint8Array.from([5, 6, 7])
      a.send(idB, original)
      await eventually(() => rb.messages.length >= 1, 'the message')
      rb.messages[0]?.bytes.fill(0)
      expect(Array.from(original)).toEqual([5, 6, 7])
      a.send(idB, original)
      await eventually(() => rb.messages.length >= 2, 'the second message')
      expect(Array.from(rb.messages[1]?.bytes ?? [])).toEqual([5, 6, 7])
    })

    it(`delivers many messages both ways, each exactly once${ordered ? ', in send order' : ''}`, async () => {
      await connectBoth()
      const total = 300
      for (let i = 0; i < total; i++) {
        a.send(idB, numbered(i, i % 17))
        b.send(idA, numbered(i, i % 5))
      }
      await eventually(() => messagesFrom(rb, idA).length >= total && messagesFrom(ra, idB).length >= total, `${total} messages each way`)
      await quiet()
      const atB = messagesFrom(rb, idA).map((message) => indexOf(message.bytes))
      const atA = messagesFrom(ra, idB).map((message) => indexOf(message.bytes))
      const expected = Array.from({ length: total }, (_, i) => i)
      if (ordered) {
        expect(atB).toEqual(expected)
        expect(atA).toEqual(expected)
      } else {
        expect([...atB].sort((x, y) => x - y)).toEqual(expected)
        expect([...atA].sort((x, y) => x - y)).toEqual(expected)
      }
      for (const message of messagesFrom(rb, idA)) expect(message.bytes.length).toBe(4 + (indexOf(message.bytes) % 17))
    })

    it('stops calling a listener once it is unsubscribed, and unsubscribing twice is harmless', async () => {
      await connectBoth()
      const seen: number[] = []
      const off = b.on('message', ({ bytes }) => seen.push(bytes[0] ?? -1))
      a.send(idB, new Uint8Array([1]))
      await eventually(() => seen.length >= 1, 'the first message')
      off()
      off()
      a.send(idB, new Uint8Array([2]))
      await eventually(() => rb.messages.length >= 2, 'the second message')
      await quiet()
      expect(seen).toEqual([1])
    })

    it('keeps calling the other listeners when one throws, and reports the error', async () => {
      const reported: unknown[] = []
      const original = globalThis.reportError
      globalThis.reportError = (error: unknown) => reported.push(error)
      try {
        const failure = new Error('listener bug')
        b.on('message', () => {
          throw failure
        })
        const seen: number[] = []
        b.on('message', ({ bytes }) => seen.push(bytes[0] ?? -1))
        await connectBoth()
        a.send(idB, new Uint8Array([7]))
        await eventually(() => seen.length >= 1 && reported.length >= 1, 'the other listener and the report')
        expect(seen).toEqual([7])
        expect(reported).toContain(failure)
      } finally {
        if (original === undefined) Reflect.deleteProperty(globalThis, 'reportError')
        else globalThis.reportError = original
      }
    })

    it('closes once: peer-left for each announced peer, then one close, then nothing; the other side sees peer-left', async () => {
      await connectBoth()
      a.close()
      a.close()
      expect(ra.closes).toHaveLength(1)
      expect(ra.log.at(-1)).toBe('close')
      expect(ra.log.indexOf(`peer-left:${idB}`)).toBeGreaterThan(-1)
      expect(ra.log.indexOf(`peer-left:${idB}`)).toBeLessThan(ra.log.indexOf('close'))
      await eventually(() => rb.left.includes(idA), 'b to see a leave')
      b.send(idA, new Uint8Array([1]))
      await quiet()
      expect(ra.log.at(-1)).toBe('close')
      expect(ra.closes).toHaveLength(1)
    })

    it('neither throws nor delivers when sending after close', async () => {
      await connectBoth()
      a.close()
      expect(() => a.send(idB, new Uint8Array([1]))).not.toThrow()
      expect(() => b.send(idA, new Uint8Array([2]))).not.toThrow()
      await quiet()
      expect(rb.messages).toEqual([])
      expect(ra.messages).toEqual([])
    })

    it('neither throws nor delivers when sending before connect or to an unknown peer', async () => {
      expect(() => a.send(idB, new Uint8Array([1]))).not.toThrow()
      await connectBoth()
      expect(() => a.send(`nobody-${run}-${count}`, new Uint8Array([2]))).not.toThrow()
      a.send(idB, new Uint8Array([3]))
      await eventually(() => rb.messages.length >= 1, 'the message to b')
      await quiet()
      expect(rb.messages.map((message) => Array.from(message.bytes))).toEqual([[3]])
    })

    it('refuses a second connect with E_ARGUMENT, and a connect after close with E_CLOSED', async () => {
      await connectBoth()
      expect(() => a.connect({ peerId: `again-${run}-${count}` })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
      b.close()
      expect(() => b.connect({ peerId: idB })).toThrow(expect.objectContaining({ code: 'E_CLOSED' }))
    })
  })
}
