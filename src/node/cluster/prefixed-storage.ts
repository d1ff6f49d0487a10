/**
 * One storage for many Spaces: every key opened through the view is prefixed, so each Space
 * of a relay keeps its documents under `<space id>/` in one shared store (one PostgreSQL table
 * for a whole cluster).
 *
 * ```ts
 * import { createMemoryStorage } from 'cabildo'
 * const shared = createMemoryStorage()
 * const city = createPrefixedStorage(shared, 'city/')
 * const store = await city.open('_manifest') // the key "city/_manifest" in `shared`
 * console.log(store.key) // '_manifest'
 * ```
 * @module
 */
import type { DocStore, Storage } from '../../storage/storage'
import { assertStorageKey } from '../../storage/storage-errors'

/** A storage that can list the keys it holds (the PostgreSQL and file storages can). */
export interface ListingStorage extends Storage {
  /** The keys of the documents that have records. */
  keys(): Promise<string[]>
}

/** Whether `storage` can list its keys. */
export function canListKeys(storage: Storage): storage is ListingStorage {
  return typeof (storage as Partial<ListingStorage>).keys === 'function'
}

/**
 * A view of `storage` in which every key is `prefix + key`. Stores opened through it report the
 * key they were opened with; closing the view's stores closes the underlying ones (the
 * underlying storage itself stays open: its owner closes it).
 */
export function createPrefixedStorage(storage: Storage, prefix: string): Storage {
  return {
    async open(key: string): Promise<DocStore> {
      assertStorageKey(key)
      const store = await storage.open(`${prefix}${key}`)
      const view: DocStore = {
        key,
        load: () => store.load(),
        append: (record) => store.append(record),
        compact: (snapshot) => store.compact(snapshot),
        close: () => store.close(),
      }
      const { flush, on } = store
      return {
        ...view,
        ...(flush === undefined ? {} : { flush: () => flush.call(store) }),
        ...(on === undefined ? {} : { on: ((event, listener) => on.call(store, event, listener)) as NonNullable<DocStore['on']> }),
      }
    },
  }
}

/**
 * The prefixes in front of the first `separator` of the keys of `storage` (e.g. the Space ids
 * of a relay's shared store), sorted and distinct; none when the storage cannot list its keys.
 */
export async function keyPrefixes(storage: Storage, separator: string): Promise<string[]> {
  if (!canListKeys(storage)) return []
  const prefixes = new Set<string>()
  for (const key of await storage.keys()) {
    const at = key.indexOf(separator)
    if (at > 0) prefixes.add(key.slice(0, at))
  }
  return [...prefixes].sort()
}
