import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DeliveryQueue } from '../../src/transports/delivery-queue'

interface Entry {
  at: number
  seq: number
}

const byTime = (x: Entry, y: Entry): number => x.at - y.at || x.seq - y.seq

describe('DeliveryQueue', () => {
  it('returns items earliest first, and in queueing order within a tick', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
        const queue = new DeliveryQueue<Entry>()
        const entries = times.map((at, seq) => ({ at, seq }))
        for (const entry of entries) queue.push(entry)
        expect(queue.size).toBe(entries.length)
        const out: Entry[] = []
        for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) out.push(entry)
        expect(out).toEqual([...entries].sort(byTime))
      }),
      { seed: 42, numRuns: 200 },
    )
  })

  it('keeps the order of the remaining items after removeWhere, and counts what it removed', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), fc.integer({ min: 2, max: 5 }), (times, modulus) => {
        const queue = new DeliveryQueue<Entry>()
        const entries = times.map((at, seq) => ({ at, seq }))
        for (const entry of entries) queue.push(entry)
        const drop = (entry: Entry): boolean => entry.seq % modulus === 0
        expect(queue.count(drop)).toBe(entries.filter(drop).length)
        expect(queue.removeWhere(drop)).toBe(entries.filter(drop).length)
        const out: Entry[] = []
        for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) out.push(entry)
        expect(out).toEqual(entries.filter((entry) => !drop(entry)).sort(byTime))
      }),
      { seed: 42, numRuns: 200 },
    )
  })
})
