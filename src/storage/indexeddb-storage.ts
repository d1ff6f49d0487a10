/**
 * The browser adapter: one IndexedDB database per document, laid out as y-indexeddb lays it out
 * (database named after the document, an auto-incrementing `updates` object store, a `custom`
 * store), so a database written by y-indexeddb's `IndexeddbPersistence` loads here and the
 * other way round.
 *
 * ```ts
 * import { createIndexedDbStorage } from 'cabildo'
 * const storage = createIndexedDbStorage()
 * const store = await storage.open('tickets.2026-11')
 * await store.append(update) // resolves when the transaction has committed
 * ```
 *
 * Acknowledgement: `append` resolves on the transaction's `complete` event, requested with
 * `durability: 'strict'` (flushed to disk where the browser supports it). Appends that arrive while
 * a transaction is in flight share the next one. Compaction adds the snapshot and deletes every
 * earlier record in one transaction, so it is atomic. Quota errors surface as `E_STORAGE` with
 * cause `QuotaExceededError`.
 *
 * One tab per document: the key is locked within a storage object, not across tabs. Two tabs
 * appending Yjs updates to one document is harmless (updates are idempotent), but a compaction in
 * one tab drops what another tab appended and the first has not seen.
 * @module
 */
import { createListeners } from './listeners'
import { createOperationQueue } from './operation-queue'
import type { DocStore, DocStoreEvents, Storage } from './storage'
import { assertStorageKey, closedStoreError, lockedError, storageError, type StorageOperation } from './storage-errors'

/** The object store holding the records (y-indexeddb's name). */
const UPDATES = 'updates'
/** y-indexeddb's store for custom values; created for compatibility, unused here. */
const CUSTOM = 'custom'

/** Options of {@link createIndexedDbStorage}. */
export interface IndexedDbStorageOptions {
  /** The IndexedDB factory (default: the global `indexedDB`). */
  readonly indexedDB?: IDBFactory
  /** Prefix of every database name (default `''`: the database is named after the key, as y-indexeddb names it). */
  readonly prefix?: string
  /** The durability asked of write transactions (default `'strict'`). */
  readonly durability?: IDBTransactionDurability
}

/**
 * Creates a storage in IndexedDB.
 * @throws `E_STORAGE` (cause `ENOTSUP`, on `open`) when no IndexedDB is available.
 */
export function createIndexedDbStorage(options: IndexedDbStorageOptions = {}): Storage {
  const prefix = options.prefix ?? ''
  const durability = options.durability ?? 'strict'
  const openKeys = new Set<string>()
  return {
    async open(key) {
      assertStorageKey(key)
      const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB
      if (factory === undefined) {
        throw storageError('open', key, Object.assign(new Error('IndexedDB is not available'), { code: 'ENOTSUP' }))
      }
      if (openKeys.has(key)) throw lockedError(key, 'open in this storage')
      openKeys.add(key)
      try {
        const db = await openDatabase(factory, prefix + key)
        return openIndexedDbStore(key, db, durability, () => openKeys.delete(key))
      } catch (error) {
        openKeys.delete(key)
        throw storageError('open', key, error)
      }
    },
  }
}

function openDatabase(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name)
    request.onupgradeneeded = () => {
      const db = request.result
      if (!db.objectStoreNames.contains(UPDATES)) db.createObjectStore(UPDATES, { autoIncrement: true })
      if (!db.objectStoreNames.contains(CUSTOM)) db.createObjectStore(CUSTOM)
    }
    request.onerror = () => reject(request.error)
    request.onsuccess = () => {
      const db = request.result
      db.onversionchange = () => db.close() // let another tab upgrade or delete the database
      resolve(db)
    }
  })
}

/** Runs `work` in one transaction on the updates store; settles when the transaction does. */
function inTransaction<T>(
  db: IDBDatabase,
  mode: IDBTransactionMode,
  durability: IDBTransactionDurability,
  work: (store: IDBObjectStore, done: (value: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const transaction = db.transaction([UPDATES], mode, { durability })
    let result: T | undefined
    let settled = false
    transaction.oncomplete = () => resolve(result as T)
    transaction.onabort = () => reject(transaction.error ?? new DOMException('The transaction was aborted', 'AbortError'))
    try {
      work(transaction.objectStore(UPDATES), (value) => {
        settled = true
        result = value
      })
    } catch (error) {
      if (!settled) transaction.abort()
      reject(error)
    }
  })
}

function openIndexedDbStore(
  key: string,
  db: IDBDatabase,
  durability: IDBTransactionDurability,
  release: () => void,
): DocStore {
  const queue = createOperationQueue()
  const listeners = createListeners<DocStoreEvents>()
  let closed: Promise<void> | undefined
  /** Appends not yet started, sharing one transaction and its outcome. */
  let batch: { readonly records: Uint8Array[]; readonly outcome: Promise<void> } | undefined

  const run = <T>(operation: StorageOperation, work: () => Promise<T>): Promise<T> => {
    if (closed !== undefined) return Promise.reject(closedStoreError(key))
    batch = undefined // later appends land after this operation
    return queue.run(async () => {
      try {
        return await work()
      } catch (error) {
        throw storageError(operation, key, error)
      }
    })
  }

  return {
    key,
    load() {
      return run('load', () =>
        inTransaction<Uint8Array[]>(db, 'readonly', durability, (store, done) => {
          const request = store.getAll()
          request.onsuccess = () => done((request.result as unknown[]).map(toBytes))
        }),
      )
    },
    append(record) {
      if (closed !== undefined) return Promise.reject(closedStoreError(key))
      const copy = record.slice() // the caller may reuse its array once we return
      if (batch !== undefined) {
        batch.records.push(copy)
        return batch.outcome
      }
      const records = [copy]
      const outcome = queue.run(async () => {
        if (batch?.records === records) batch = undefined // later appends form the next batch
        try {
          await inTransaction<void>(db, 'readwrite', durability, (store) => {
            for (const item of records) store.add(item)
          })
        } catch (error) {
          throw storageError('append', key, error)
        }
      })
      batch = { records, outcome }
      return outcome
    },
    compact(snapshot) {
      const copy = snapshot.slice()
      return run('compact', () =>
        inTransaction<void>(db, 'readwrite', durability, (store) => {
          const added = store.add(copy)
          added.onsuccess = () => {
            // Every record before the snapshot goes, in the same transaction: all or nothing.
            store.delete(IDBKeyRange.upperBound(added.result, true))
          }
        }),
      )
    },
    flush() {
      return queue.idle()
    },
    on(event, listener) {
      return listeners.on(event, listener)
    },
    close() {
      if (closed !== undefined) return closed.catch(() => undefined)
      closed = (async () => {
        batch = undefined
        await queue.idle()
        db.close()
        release()
      })()
      return closed
    },
  }
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  throw Object.assign(new Error('a stored record is not bytes'), { code: 'EFORMAT' })
}
