/**
 * The in-flight items of a simulated network, ordered by delivery tick and then by the order they
 * were queued: a binary min-heap, so a long simulation costs O(log n) per message.
 * @module
 */

/** What the queue needs of an item: when it is due, and a tie-breaker unique per item. */
export interface Scheduled {
  /** The virtual tick it is due at. */
  readonly at: number
  /** Increasing with queueing order; breaks ties between items due at the same tick (FIFO). */
  readonly seq: number
}

/** A priority queue of {@link Scheduled} items, earliest (then first queued) first. */
export class DeliveryQueue<T extends Scheduled> {
  #heap: T[] = []

  /** How many items are queued. */
  get size(): number {
    return this.#heap.length
  }

  /** Queues an item. */
  push(item: T): void {
    const heap = this.#heap
    heap.push(item)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i] as T, heap[parent] as T)) break
      swap(heap, i, parent)
      i = parent
    }
  }

  /** Removes and returns the earliest item, or `undefined` when the queue is empty. */
  shift(): T | undefined {
    const heap = this.#heap
    const first = heap[0]
    const last = heap.pop()
    if (first === undefined || last === undefined || heap.length === 0) return first
    heap[0] = last
    this.#sink(0)
    return first
  }

  /** Removes every item that satisfies `predicate` and returns how many were removed. */
  removeWhere(predicate: (item: T) => boolean): number {
    const kept = this.#heap.filter((item) => !predicate(item))
    const removed = this.#heap.length - kept.length
    if (removed > 0) {
      this.#heap = kept
      for (let i = (kept.length >> 1) - 1; i >= 0; i--) this.#sink(i)
    }
    return removed
  }

  /** How many queued items satisfy `predicate`. */
  count(predicate: (item: T) => boolean): number {
    let count = 0
    for (const item of this.#heap) if (predicate(item)) count++
    return count
  }

  /** Removes every item. */
  clear(): void {
    this.#heap = []
  }

  #sink(start: number): void {
    const heap = this.#heap
    let i = start
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let least = i
      if (left < heap.length && before(heap[left] as T, heap[least] as T)) least = left
      if (right < heap.length && before(heap[right] as T, heap[least] as T)) least = right
      if (least === i) return
      swap(heap, i, least)
      i = least
    }
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

function swap<T>(heap: T[], i: number, j: number): void {
  const item = heap[i] as T
  heap[i] = heap[j] as T
  heap[j] = item
}
