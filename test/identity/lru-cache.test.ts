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
})
