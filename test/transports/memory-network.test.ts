import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CabildoError } from '../../src/errors'
import { createMemoryNetwork, type MemoryNetwork, type TappedMessage } from '../../src/transports/memory-network'
import type { PeerId, Transport } from '../../src/transports/transport'
import { runTransportTests } from '../../src/testing/transport-tests'

runTransportTests(
  'memory network',
  () => {
    const network = createMemoryNetwork({ seed: 1 })
    return { a: network.transport(), b: network.transport(), flush: async () => void (await network.settle()), teardown: () => network.close() }
  },
  { ordered: true, quietMs: 0 },
)

runTransportTests(
  'memory network with delay jitter and reordering',
  () => {
    const network = createMemoryNetwork({ seed: 2, delay: { min: 0, max: 6 }, reorderRate: 0.3, reorderWindow: 10 })
    return { a: network.transport(), b: network.transport(), flush: async () => void (await network.settle()), teardown: () => network.close() }
  },
  { quietMs: 0 },
)

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Records what one transport emits and checks the event grammar as it goes. */
function watch(transport: Transport) {
  const announced = new Set<PeerId>()
  const log: string[] = []
  const violations: string[] = []
  const messages: Array<{ from: PeerId; text: string }> = []
  transport.on('peer', ({ peerId }) => {
    if (announced.has(peerId)) violations.push(`peer ${peerId} announced twice`)
    announced.add(peerId)
    log.push(`peer:${peerId}`)
  })
  transport.on('peer-left', ({ peerId }) => {
    if (!announced.delete(peerId)) violations.push(`peer-left ${peerId} without peer`)
    log.push(`peer-left:${peerId}`)
  })
  transport.on('message', ({ from, bytes }) => {
    if (!announced.has(from)) violations.push(`message from unannounced ${from}`)
    const text = decoder.decode(bytes)
    messages.push({ from, text })
    log.push(`message:${from}:${text}`)
  })
  transport.on('close', () => log.push('close'))
  return { announced, log, violations, messages, texts: () => messages.map((m) => m.text) }
}

const text = (value: string): Uint8Array => encoder.encode(value)

/** Three connected peers a, b, c, with every announcement delivered. */
async function trio(network: MemoryNetwork) {
  const a = network.join('a')
  const b = network.join('b')
  const c = network.join('c')
  const wa = watch(a)
  const wb = watch(b)
  const wc = watch(c)
  await network.settle()
  return { a, b, c, wa, wb, wc }
}

describe('memory network: membership', () => {
  it('announces peers only when stepped, and step() returns false once nothing is in flight', () => {
    const network = createMemoryNetwork()
    const a = network.transport()
    const wa = watch(a)
    a.connect({ peerId: 'a' })
    network.join('b')
    expect(wa.log).toEqual([])
    expect(network.peers).toEqual(['a', 'b'])
    while (network.step());
    expect(wa.log).toEqual(['peer:b'])
    expect(a.peers).toEqual(['b'])
    expect(network.step()).toBe(false)
  })

  it('refuses a peer id already connected, an empty peer id, and joins after close', () => {
    const network = createMemoryNetwork()
    network.join('a')
    expect(() => network.join('a')).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    expect(() => network.join('')).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    network.close()
    expect(() => network.join('z')).toThrow(expect.objectContaining({ code: 'E_CLOSED' }))
    expect(() => network.transport().connect({ peerId: 'y' })).toThrow(expect.objectContaining({ code: 'E_CLOSED' }))
  })

  it('lets a peer id be reused once its transport has closed', async () => {
    const network = createMemoryNetwork()
    const first = network.join('a')
    const b = network.join('b')
    const wb = watch(b)
    await network.settle()
    first.close()
    const second = network.join('a')
    await network.settle()
    second.send('b', text('again'))
    await network.settle()
    expect(wb.log).toEqual(['peer:a', 'peer-left:a', 'peer:a', 'message:a:again'])
  })

  it('partitions peers into groups, with peer-left and peer events at both ends, and heals', async () => {
    const network = createMemoryNetwork({ seed: 5 })
    const { a, b, wa, wb, wc } = await trio(network)
    network.partition([['a'], ['b', 'c']])
    await network.settle()
    expect(wa.log.slice(-2)).toEqual(['peer-left:b', 'peer-left:c'])
    expect(wb.log.at(-1)).toBe('peer-left:a')
    expect(wc.log.at(-1)).toBe('peer-left:a')
    expect(b.peers).toEqual(['c'])

    a.send('b', text('across'))
    b.send('c', text('inside'))
    await network.settle()
    expect(wb.messages).toEqual([])
    expect(wc.texts()).toEqual(['inside'])

    network.heal()
    await network.settle()
    expect(a.peers).toEqual(['b', 'c'])
    a.send('b', text('healed'))
    await network.settle()
    expect(wb.texts()).toEqual(['healed'])
    for (const w of [wa, wb, wc]) expect(w.violations).toEqual([])
  })

  it('drops the messages in flight on a link that breaks, even if it heals before they are due', async () => {
    const network = createMemoryNetwork({ delay: 10 })
    const { a, wb } = await trio(network)
    a.send('b', text('in flight'))
    a.send('c', text('unaffected'))
    network.partition([['a', 'c'], ['b']])
    network.heal()
    const before = network.stats()
    expect(before.dropped).toBe(1)
    expect(before.inFlight).toBe(1)
    await network.settle()
    expect(wb.texts()).toEqual([])
    expect(wb.log).toEqual(['peer:a', 'peer:c', 'peer-left:a', 'peer-left:c', 'peer:a', 'peer:c'])
  })

  it('puts the peers named in no group together, including peers that join later', async () => {
    const network = createMemoryNetwork()
    const { a, b } = await trio(network)
    network.partition([['a'], ['d']])
    const d = network.join('d')
    const e = network.join('e')
    await network.settle()
    expect(a.peers).toEqual([])
    expect(b.peers).toEqual(['c', 'e'])
    expect(d.peers).toEqual([])
    expect(e.peers).toEqual(['b', 'c'])
  })

  it('refuses a partition that puts a peer in two groups, and keeps the links as they were', async () => {
    const network = createMemoryNetwork()
    const { a } = await trio(network)
    expect(() => network.partition([['a', 'b'], ['b', 'c']])).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    await network.settle()
    expect(a.peers).toEqual(['b', 'c'])
  })

  it('closing the network closes every transport with a reason and drops what is in flight', async () => {
    const network = createMemoryNetwork()
    const { a, wa, wb } = await trio(network)
    const unconnected = network.transport()
    const closes: Array<string | undefined> = []
    for (const t of [a, unconnected]) t.on('close', ({ reason }) => closes.push(reason))
    a.send('b', text('lost'))
    network.close()
    network.close()
    expect(closes).toEqual(['network closed', 'network closed'])
    expect(wa.log.slice(-3)).toEqual(['peer-left:b', 'peer-left:c', 'close'])
    expect(network.stats()).toMatchObject({ sent: 1, delivered: 0, dropped: 1, inFlight: 0 })
    expect(await network.settle()).toBe(0)
    expect(wb.messages).toEqual([])
  })
})

describe('memory network: scheduling', () => {
  it('delivers a message delay ticks after it was sent, on the virtual clock', async () => {
    const network = createMemoryNetwork({ delay: 3 })
    const { a, wb } = await trio(network)
    const start = network.now
    a.send('b', text('x'))
    const atDelivery: number[] = []
    network.run({ until: () => wb.messages.length > 0 })
    atDelivery.push(network.now)
    expect(atDelivery).toEqual([start + 3])
  })

  it('keeps each link in send order without reordering faults, and counts no reordering', async () => {
    const network = createMemoryNetwork({ seed: 9, dropRate: 0.2 })
    const { a, b, wc } = await trio(network)
    for (let i = 0; i < 200; i++) {
      a.send('c', text(`a${i}`))
      b.send('c', text(`b${i}`))
    }
    await network.settle()
    for (const peer of ['a', 'b']) {
      const indexes = wc.messages.filter((m) => m.from === peer).map((m) => Number(m.text.slice(1)))
      expect(indexes).toEqual([...indexes].sort((x, y) => x - y))
    }
    expect(network.stats().reordered).toBe(0)
  })

  it('reorders under reorderRate, and counts each overtaken delivery', async () => {
    const network = createMemoryNetwork({ seed: 4, reorderRate: 0.3, reorderWindow: 8 })
    const { a, wb } = await trio(network)
    for (let i = 0; i < 500; i++) a.send('b', text(String(i)))
    await network.settle()
    const indexes = wb.messages.map((m) => Number(m.text))
    let overtaken = 0
    let newest = -1
    for (const index of indexes) {
      if (index < newest) overtaken++
      else newest = index
    }
    expect(overtaken).toBeGreaterThan(0)
    expect(network.stats().reordered).toBe(overtaken)
    expect([...indexes].sort((x, y) => x - y)).toEqual(Array.from({ length: 500 }, (_, i) => i))
  })

  it('drops and duplicates at about the configured rates, and accounts for every copy', async () => {
    const network = createMemoryNetwork({ seed: 11, dropRate: 0.2, duplicateRate: 0.1 })
    const { a, wb } = await trio(network)
    const total = 4000
    for (let i = 0; i < total; i++) a.send('b', text(String(i)))
    await network.settle()
    const stats = network.stats()
    expect(stats.sent).toBe(total)
    expect(stats.dropped / total).toBeGreaterThan(0.17)
    expect(stats.dropped / total).toBeLessThan(0.23)
    expect(stats.duplicated / (total - stats.dropped)).toBeGreaterThan(0.08)
    expect(stats.duplicated / (total - stats.dropped)).toBeLessThan(0.12)
    expect(stats.sent + stats.duplicated).toBe(stats.delivered + stats.dropped)
    expect(wb.messages).toHaveLength(stats.delivered)
    const distinct = new Set(wb.texts())
    expect(distinct.size).toBe(total - stats.dropped)
  })

  it('replays exactly the same deliveries for the same seed, and different ones for another seed', async () => {
    const schedule = async (seed: number): Promise<string[]> => {
      const network = createMemoryNetwork({ seed, dropRate: 0.1, duplicateRate: 0.1, reorderRate: 0.2, delay: { min: 1, max: 4 } })
      const { a, b, c } = await trio(network)
      const deliveries: string[] = []
      for (const [name, t] of [['a', a], ['b', b], ['c', c]] as const) t.on('message', ({ from, bytes }) => deliveries.push(`${network.now}:${from}>${name}:${decoder.decode(bytes)}`))
      for (let i = 0; i < 300; i++) {
        a.send(i % 2 === 0 ? 'b' : 'c', text(`a${i}`))
        b.send('a', text(`b${i}`))
        if (i === 150) network.partition([['a'], ['b', 'c']])
        if (i === 200) network.heal()
        network.run({ maxSteps: 3 })
      }
      await network.settle()
      return deliveries
    }
    const first = await schedule(1234)
    expect(first.length).toBeGreaterThan(400)
    expect(await schedule(1234)).toEqual(first)
    expect(await schedule(1235)).not.toEqual(first)
  })

  it('applies configure() to later messages only, and refuses invalid faults without changing any', async () => {
    const network = createMemoryNetwork({ delay: 2 })
    const { a, wb } = await trio(network)
    a.send('b', text('kept'))
    network.configure({ dropRate: 1 })
    a.send('b', text('lost'))
    network.configure({ dropRate: 0 })
    a.send('b', text('after'))
    await network.settle()
    expect(wb.texts()).toEqual(['kept', 'after'])
    const before = network.faults
    for (const bad of [{ dropRate: 1.5 }, { duplicateRate: -0.1 }, { reorderRate: Number.NaN }, { delay: -1 }, { delay: { min: 3, max: 2 } }, { delay: 1.5 }, { reorderWindow: 0 }]) {
      expect(() => network.configure(bad)).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    }
    expect(network.faults).toEqual(before)
    expect(() => createMemoryNetwork({ seed: 1.5 })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    expect(() => createMemoryNetwork({ maxMessageBytes: -1 })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
  })

  it('drops messages larger than maxMessageBytes and reports the limit on each transport', async () => {
    const network = createMemoryNetwork({ maxMessageBytes: 4 })
    const { a, wb } = await trio(network)
    expect(a.maxMessageBytes).toBe(4)
    a.send('b', new Uint8Array(5))
    a.send('b', new Uint8Array(4))
    await network.settle()
    expect(wb.messages.map((m) => m.text.length)).toEqual([4])
    expect(network.stats()).toMatchObject({ sent: 2, delivered: 1, dropped: 1 })
  })
})

describe('memory network: run and settle', () => {
  it('run() stops when until() holds, or at maxSteps, and says why', async () => {
    const network = createMemoryNetwork()
    const { a, wb } = await trio(network)
    for (let i = 0; i < 10; i++) a.send('b', text(String(i)))
    expect(network.run({ until: () => wb.messages.length === 3 })).toEqual({ steps: 3, outcome: 'until' })
    expect(network.run({ maxSteps: 2 })).toEqual({ steps: 2, outcome: 'limit' })
    expect(network.run()).toEqual({ steps: 5, outcome: 'idle' })
    expect(wb.messages).toHaveLength(10)
  })

  it('settle() waits for replies that listeners send asynchronously', async () => {
    const network = createMemoryNetwork()
    const { a, b, wa } = await trio(network)
    b.on('message', ({ from, bytes }) => {
      void Promise.resolve().then(() => setTimeout(() => b.send(from, bytes), 0))
    })
    a.send('b', text('ping'))
    await network.settle()
    expect(wa.texts()).toEqual(['ping'])
  })

  it('settle() awaits a custom idle between rounds', async () => {
    const network = createMemoryNetwork()
    const { a, b, wa } = await trio(network)
    const pending: Array<() => void> = []
    b.on('message', ({ from }) => pending.push(() => b.send(from, text('late reply'))))
    const idle = async (): Promise<void> => {
      for (const reply of pending.splice(0)) reply()
    }
    a.send('b', text('hello'))
    await network.settle({ idle })
    expect(wa.texts()).toEqual(['late reply'])
  })

  it('settle() rejects with E_TIMEOUT when peers answer each other forever', async () => {
    const network = createMemoryNetwork()
    const { a, b } = await trio(network)
    a.on('message', ({ from, bytes }) => a.send(from, bytes))
    b.on('message', ({ from, bytes }) => b.send(from, bytes))
    a.send('b', text('echo'))
    const error = await network.settle({ maxSteps: 1000 }).catch((e: unknown) => e)
    expect(CabildoError.is(error, 'E_TIMEOUT')).toBe(true)
    expect(CabildoError.is(error, 'E_TIMEOUT') && error.details.limit).toBe(1000)
  })
})

describe('memory network: raw peers', () => {
  it('tap() shows every message sent, before faults, as a copy, until unsubscribed', async () => {
    const network = createMemoryNetwork({ dropRate: 1 })
    const { a, b } = await trio(network)
    const seen: TappedMessage[] = []
    const off = network.tap((message) => seen.push(message))
    const bytes = text('secret')
    a.send('b', bytes)
    a.send('nobody', text('?'))
    bytes.fill(0)
    off()
    b.send('a', text('unseen'))
    expect(seen.map((m) => [m.from, m.to, decoder.decode(m.bytes), m.injected])).toEqual([
      ['a', 'b', 'secret', false],
      ['a', 'nobody', '?', false],
    ])
    expect(seen[1]?.id).toBeGreaterThan(seen[0]?.id ?? Infinity)
    expect(network.stats()).toMatchObject({ sent: 3, dropped: 3, delivered: 0 })
  })

  it('inject() delivers bytes as if a peer had sent them, bypassing faults, only over a live link', async () => {
    const network = createMemoryNetwork({ dropRate: 1 })
    const { wb } = await trio(network)
    expect(network.inject('a', 'b', text('forged'))).toBe(true)
    await network.settle()
    expect(network.inject('ghost', 'b', text('x'))).toBe(false)
    expect(network.inject('b', 'b', text('x'))).toBe(false)
    network.partition([['a'], ['b', 'c']])
    expect(network.inject('a', 'b', text('cut'))).toBe(false)
    await network.settle()
    expect(wb.messages).toEqual([{ from: 'a', text: 'forged' }])
  })

  it('a plain transport plays a raw peer: it can send any bytes to anyone', async () => {
    const network = createMemoryNetwork()
    const { wb } = await trio(network)
    const mallory = network.join('mallory')
    await network.settle()
    mallory.send('b', new Uint8Array([0xff, 0x00, 0xfe]))
    await network.settle()
    expect(wb.log.at(-1)).toBe(`message:mallory:${decoder.decode(new Uint8Array([0xff, 0x00, 0xfe]))}`)
  })
})

describe('memory network: properties', () => {
  type Op =
    | { kind: 'send'; from: number; to: number }
    | { kind: 'step'; count: number }
    | { kind: 'partition'; cut: number }
    | { kind: 'heal' }
    | { kind: 'faults'; dropRate: number; duplicateRate: number; reorderRate: number; max: number }
    | { kind: 'close'; peer: number }
  const peer = fc.integer({ min: 0, max: 3 })
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('send' as const), from: peer, to: peer }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('step' as const), count: fc.integer({ min: 1, max: 20 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('partition' as const), cut: fc.integer({ min: 1, max: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('heal' as const) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('faults' as const),
        dropRate: fc.double({ min: 0, max: 0.5, noNaN: true }),
        duplicateRate: fc.double({ min: 0, max: 0.5, noNaN: true }),
        reorderRate: fc.double({ min: 0, max: 0.5, noNaN: true }),
        max: fc.integer({ min: 0, max: 5 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), peer }) },
  )

  it('whatever the faults and partitions: the event grammar holds, bytes arrive only from their sender to their addressee, and every copy is accounted for', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.array(op, { maxLength: 150 }), async (seed, ops) => {
        const network = createMemoryNetwork({ seed })
        const names = ['p0', 'p1', 'p2', 'p3']
        const transports = names.map((name) => network.join(name))
        const watches = transports.map((t) => watch(t))
        let n = 0
        for (const o of ops) {
          if (o.kind === 'send') transports[o.from]?.send(names[o.to] ?? '', text(`${names[o.from]}>${names[o.to]}#${n++}`))
          else if (o.kind === 'step') for (let i = 0; i < o.count; i++) network.step()
          else if (o.kind === 'partition') network.partition([names.slice(0, o.cut), names.slice(o.cut)])
          else if (o.kind === 'heal') network.heal()
          else if (o.kind === 'faults') network.configure({ dropRate: o.dropRate, duplicateRate: o.duplicateRate, reorderRate: o.reorderRate, delay: { min: 0, max: o.max } })
          else transports[o.peer]?.close()
        }
        await network.settle()
        const stats = network.stats()
        expect(stats.sent + stats.duplicated).toBe(stats.delivered + stats.dropped)
        expect(stats.inFlight).toBe(0)
        let received = 0
        watches.forEach((w, index) => {
          expect(w.violations).toEqual([])
          for (const message of w.messages) expect(message.text.startsWith(`${message.from}>${names[index]}#`)).toBe(true)
          received += w.messages.length
        })
        expect(received).toBe(stats.delivered)
        network.close()
      }),
      { seed: 42, numRuns: 150 },
    )
  })

  it('without loss, duplication, partitions or closes, every message arrives exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.array(fc.tuple(peer, peer), { maxLength: 100 }), fc.integer({ min: 0, max: 5 }), async (seed, sends, max) => {
        const network = createMemoryNetwork({ seed, delay: { min: 0, max }, reorderRate: 0.3 })
        const names = ['p0', 'p1', 'p2', 'p3']
        const transports = names.map((name) => network.join(name))
        const watches = transports.map((t) => watch(t))
        await network.settle()
        const expected: string[] = []
        sends.forEach(([from, to], n) => {
          const message = `${names[from]}>${names[to]}#${n}`
          transports[from]?.send(names[to] ?? '', text(message))
          if (from !== to) expected.push(message)
        })
        await network.settle()
        const all = watches.flatMap((w) => w.texts())
        expect(all.sort()).toEqual(expected.sort())
      }),
      { seed: 42, numRuns: 100 },
    )
  })
})
