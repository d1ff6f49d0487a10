/**
 * A bounded least-recently-used map, on a `Map`'s insertion order: a hit moves the entry to the
 * end, and inserting past the bound drops the oldest entry.
 * @module
 */
import { CabildoError } from '../errors'

/** A map that keeps at most `capacity` entries, dropping the least recently used. */
export class LruCache<K, V> {
  readonly #map = new Map<K, V>()
  /** The most entries kept. */
  readonly capacity: number

  /** @throws CabildoError `E_ARGUMENT` when `capacity` is not a non-negative integer. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new CabildoError('E_ARGUMENT', 'A cache capacity is a non-negative integer', {
        argument: 'capacity',
        reason: `got ${capacity}`,
      })
    }
    this.capacity = capacity
  }

  /** The number of entries. */
  get size(): number {
    return this.#map.size
  }

  /** The value under `key`, marking it as recently used; `undefined` when absent. */
  get(key: K): V | undefined {
    const value = this.#map.get(key)
    if (value === undefined) return undefined
    this.#map.delete(key)
    this.#map.set(key, value)
    return value
  }

  /** Stores a value, dropping the least recently used entry when full. */
  set(key: K, value: V): void {
    if (this.capacity === 0) return
    this.#map.delete(key)
    this.#map.set(key, value)
    if (this.#map.size > this.capacity) {
      const oldest = this.#map.keys().next()
      if (!oldest.done) this.#map.delete(oldest.value)
    }
  }

  /** Drops every entry. */
  clear(): void {
    this.#map.clear()
  }
}
