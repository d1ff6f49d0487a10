import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CabildoError } from '../../src/errors'
import { LruCache } from '../../src/identity/lru-cache'

describe('LruCache', () => {
  it('keeps at most capacity entries and drops the least recently used', () => {
    const cache = new LruCache<string, number>(2)
    cache.set('a', 1)
    cache.set('b', 2)
    expect(cache.get('a')).toBe(1) // 'a' is now the most recent
    cache.set('c', 3)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBe(1)
    expect(cache.get('c')).toBe(3)
    expect(cache.size).toBe(2)
    cache.set('a', 10) // overwriting refreshes, does not grow
    expect(cache.size).toBe(2)
    expect(cache.get('a')).toBe(10)
    cache.clear()
    expect(cache.size).toBe(0)
  })

  it('with capacity 0 keeps nothing, and refuses a negative or fractional capacity', () => {
    const none = new LruCache<string, number>(0)
    none.set('a', 1)
    expect(none.get('a')).toBeUndefined()
    expect(() => new LruCache(-1)).toThrow(CabildoError)
    expect(() => new LruCache(1.5)).toThrow(CabildoError)
  })

  it('behaves like a reference model (an array in order of use) on any sequence of gets and sets', () => {
    const op = fc.oneof(
      fc.tuple(fc.constant('get' as const), fc.nat(5), fc.constant(0)),
      fc.tuple(fc.constant('set' as const), fc.nat(5), fc.integer()),
      fc.tuple(fc.constant('clear' as const), fc.constant(0), fc.constant(0)),
    )
    fc.assert(
      fc.property(fc.nat(4), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const cache = new LruCache<number, number>(capacity)
        let model: Array<[number, number]> = [] // least recently used first
        for (const [kind, key, value] of ops) {
          if (kind === 'clear') {
            cache.clear()
            model = []
          } else if (kind === 'get') {
            const i = model.findIndex(([k]) => k === key)
            const expected = i < 0 ? undefined : (model[i] as [number, number])[1]
            if (i >= 0) model.push(...model.splice(i, 1))
            expect(cache.get(key)).toBe(expected)
          } else {
            cache.set(key, value)
            if (capacity > 0) {
              model = model.filter(([k]) => k !== key)
              model.push([key, value])
              if (model.length > capacity) model.shift()
            }
          }
          expect(cache.size).toBe(model.length)
        }
      }),
      { seed: 42, numRuns: 500 },
    )
  })
})
