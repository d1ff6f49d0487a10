/**
 * A bounded least-recently-used map: a `Map` from keys to the nodes of a doubly linked list kept
 * in order of use. A hit relinks its node (no map writes, nothing allocated), and inserting past
 * the bound drops the least recently used entry.
 * @module
 */
import { CabildoError } from '../errors'

interface Node<K, V> {
  readonly key: K
  value: V
  /** The next more recently used node. */
  newer: Node<K, V> | undefined
  /** The next less recently used node. */
  older: Node<K, V> | undefined
}

/** A map that keeps at most `capacity` entries, dropping the least recently used. */
export class LruCache<K, V> {
  readonly #map = new Map<K, Node<K, V>>()
  #newest: Node<K, V> | undefined
  #oldest: Node<K, V> | undefined
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
    const node = this.#map.get(key)
    if (node === undefined) return undefined
    this.#touch(node)
    return node.value
  }

  /** Stores a value, dropping the least recently used entry when full. */
  set(key: K, value: V): void {
    if (this.capacity === 0) return
    const existing = this.#map.get(key)
    if (existing !== undefined) {
      existing.value = value
      this.#touch(existing)
      return
    }
    const node: Node<K, V> = { key, value, newer: undefined, older: this.#newest }
    if (this.#newest !== undefined) this.#newest.newer = node
    this.#newest = node
    this.#oldest ??= node
    this.#map.set(key, node)
    if (this.#map.size > this.capacity) {
      const oldest = this.#oldest
      this.#unlink(oldest)
      this.#map.delete(oldest.key)
    }
  }

  /** Drops every entry. */
  clear(): void {
    this.#map.clear()
    this.#newest = undefined
    this.#oldest = undefined
  }

  /** Makes a node the most recently used. */
  #touch(node: Node<K, V>): void {
    if (node === this.#newest) return
    this.#unlink(node)
    node.older = this.#newest
    node.newer = undefined
    if (this.#newest !== undefined) this.#newest.newer = node
    this.#newest = node
    this.#oldest ??= node
  }

  #unlink(node: Node<K, V>): void {
    if (node.newer !== undefined) node.newer.older = node.older
    else this.#newest = node.older
    if (node.older !== undefined) node.older.newer = node.newer
    else this.#oldest = node.newer
    node.newer = undefined
    node.older = undefined
  }
}
