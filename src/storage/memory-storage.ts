/**
 * The in-memory reference adapter: records live in a `Map` for as long as the storage object
 * does. For tests, simulations and in-memory Spaces; `faults` lets a test make operations fail
 * the way a full disk or an exhausted quota would.
 *
 * ```ts
 * import { createMemoryStorage } from 'cabildo'
 * const storage = createMemoryStorage()
 * const store = await storage.open('budget.x7k2')
 * await store.append(new Uint8Array([1, 2, 3]))
 * await store.load() // [Uint8Array [1, 2, 3]]
 * ```
 * @module
 */
import { createListeners } from './listeners'
import { createOperationQueue } from './operation-queue'
import type { DocStore, DocStoreEvents, Storage } from './storage'
import { assertStorageKey, closedStoreError, lockedError, storageError } from './storage-errors'

/** The operations a {@link MemoryStorageOptions.faults} hook is asked about. */
export type MemoryStorageOperation = 'open' | 'load' | 'append' | 'compact'

/** Options of {@link createMemoryStorage}. */
export interface MemoryStorageOptions {
  /**
   * Called before each operation takes effect; if it throws (or rejects), the operation fails with
   * `E_STORAGE` whose cause is the thrown error's `code` or `name` (throw
   * `Object.assign(new Error('full'), { code: 'ENOSPC' })` to simulate a full disk) and changes
   * nothing.
   */
  readonly faults?: (operation: MemoryStorageOperation, key: string) => void | Promise<void>
}

/** A {@link Storage} kept in memory, with a way to inspect what it holds. */
export interface MemoryStorage extends Storage {
  /** The keys that have records, in first-open order. */
  keys(): string[]
  /** How many records `key` holds (the snapshot counts as one). 0 for an unknown key. */
  recordCount(key: string): number
}

interface Shelf {
  records: Uint8Array[]
  open: boolean
}

/** Creates an empty in-memory storage. Its data lives as long as the returned object. */
export function createMemoryStorage(options: MemoryStorageOptions = {}): MemoryStorage {
  const shelves = new Map<string, Shelf>()
  const check = async (operation: MemoryStorageOperation, key: string): Promise<void> => {
    if (options.faults === undefined) return
    try {
      await options.faults(operation, key)
    } catch (error) {
      throw storageError(operation, key, error)
    }
  }

  return {
    async open(key) {
      assertStorageKey(key)
      await check('open', key)
      let shelf = shelves.get(key)
      if (shelf === undefined) {
        shelf = { records: [], open: false }
        shelves.set(key, shelf)
      }
      if (shelf.open) throw lockedError(key, 'open in this memory storage')
      shelf.open = true
      return openMemoryStore(key, shelf, check)
    },
    keys() {
      return [...shelves.entries()].filter(([, shelf]) => shelf.records.length > 0).map(([key]) => key)
    },
    recordCount(key) {
      return shelves.get(key)?.records.length ?? 0
    },
  }
}

function openMemoryStore(
  key: string,
  shelf: Shelf,
  check: (operation: MemoryStorageOperation, key: string) => Promise<void>,
): DocStore {
  const queue = createOperationQueue()
  const listeners = createListeners<DocStoreEvents>()
  let closed = false
  // Checked when an operation is called, not when it runs: operations called before `close()`
  // still complete.
  const rejectIfClosed = (): Promise<never> | undefined =>
    closed ? Promise.reject(closedStoreError(key)) : undefined
  return {
    key,
    load() {
      return rejectIfClosed() ?? queue.run(async () => {
        await check('load', key)
        return shelf.records.map((record) => record.slice())
      })
    },
    append(record) {
      // Copy now: the caller may reuse its array as soon as `append` returns.
      const copy = record.slice()
      return rejectIfClosed() ?? queue.run(async () => {
        await check('append', key)
        shelf.records.push(copy)
      })
    },
    compact(snapshot) {
      const copy = snapshot.slice()
      return rejectIfClosed() ?? queue.run(async () => {
        await check('compact', key)
        shelf.records = [copy]
      })
    },
    async close() {
      if (closed) return
      closed = true
      await queue.idle()
      shelf.open = false
    },
    flush() {
      return queue.idle()
    },
    on(event, listener) {
      return listeners.on(event, listener)
    },
  }
}
