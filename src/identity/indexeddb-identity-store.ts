/**
 * An {@link IdentityStore} in the browser's IndexedDB, through the raw `indexedDB` API.
 *
 * ```ts
 * import { indexedDbIdentityStore, loadOrCreateIdentity } from 'cabildo'
 * const me = await loadOrCreateIdentity(indexedDbIdentityStore({ dbName: 'district-north' }))
 * ```
 *
 * The key is kept as a JWK object in the object store `keys` under the name `identity` (both
 * configurable). IndexedDB is per origin: any script running on the origin can read it.
 * @module
 */
import { CabildoError } from '../errors'
import type { IdentityStore, StoredKey } from './identity-store'

/** Options of {@link indexedDbIdentityStore}. */
export interface IndexedDbIdentityStoreOptions {
  /** The database name. Default `'cabildo-identity'`. */
  readonly dbName?: string
  /** The name the key is stored under, to keep several identities in one database. Default `'identity'`. */
  readonly keyName?: string
  /** The IndexedDB factory; `globalThis.indexedDB` by default (pass one in tests, e.g. from fake-indexeddb). */
  readonly indexedDB?: IDBFactory
}

const STORE = 'keys'

function storageError(operation: string, key: string, cause: unknown): CabildoError<'E_STORAGE'> {
  const text = cause instanceof Error || cause instanceof DOMException ? `${cause.name}: ${cause.message}` : String(cause)
  return new CabildoError('E_STORAGE', `IndexedDB ${operation} failed: ${text}`, { operation, key, cause: text }, { cause })
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

/**
 * A store that keeps the key in IndexedDB. Each call opens the database, runs one transaction
 * and closes it again: identity keys are read once per session, and an open connection would
 * block other tabs' upgrades.
 * @throws CabildoError `E_STORAGE` (from its methods) when IndexedDB is missing or fails.
 */
export function indexedDbIdentityStore(options: IndexedDbIdentityStoreOptions = {}): IdentityStore {
  const dbName = options.dbName ?? 'cabildo-identity'
  const keyName = options.keyName ?? 'identity'

  async function open(): Promise<IDBDatabase> {
    const factory = options.indexedDB ?? globalThis.indexedDB
    if (factory === undefined) throw storageError('open', dbName, 'IndexedDB is not available on this platform')
    const req = factory.open(dbName, 1)
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE)
    }
    try {
      return await request(req)
    } catch (err) {
      throw storageError('open', dbName, err)
    }
  }

  /** Runs `body` in one transaction and resolves once the transaction has committed. */
  async function transact<T>(mode: IDBTransactionMode, operation: string, body: (store: IDBObjectStore) => Promise<T>): Promise<T> {
    const db = await open()
    try {
      const tx = db.transaction(STORE, mode, { durability: 'strict' })
      const done = new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve()
        tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'))
        tx.onerror = () => reject(tx.error)
      })
      const result = await body(tx.objectStore(STORE))
      await done
      return result
    } catch (err) {
      throw CabildoError.is(err) ? err : storageError(operation, keyName, err)
    } finally {
      db.close()
    }
  }

  return {
    load: () =>
      transact('readonly', 'load', async (store) => {
        const value: unknown = await request(store.get(keyName))
        return value === undefined ? undefined : (value as StoredKey)
      }),
    save: (key) =>
      transact('readwrite', 'save', async (store) => {
        await request(store.put({ ...key }, keyName))
      }),
    // Readwrite transactions on the same store never overlap (IndexedDB 3.0, section 2.7.2), so
    // the read and the write below are atomic across tabs.
    saveIfAbsent: (key) =>
      transact('readwrite', 'saveIfAbsent', async (store) => {
        const existing: unknown = await request(store.get(keyName))
        if (existing !== undefined) return existing as StoredKey
        await request(store.add({ ...key }, keyName))
        return { ...key }
      }),
  }
}
