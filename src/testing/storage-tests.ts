/**
 * The acceptance suite of the storage plug-in point: any {@link Storage} adapter that passes it
 * can keep cabildo's documents. Runs under vitest (an optional peer dependency).
 *
 * ```ts
 * // test/my-storage.test.ts
 * import { runStorageTests } from 'cabildo/testing'
 * runStorageTests('my storage', async () => {
 *   const storage = await createMyStorage()
 *   return { storage, teardown: () => storage.destroy() }
 * })
 * ```
 * @module
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CabildoError } from '../errors'
import type { DocStore, Storage } from '../storage/storage'

/** What the `setup` of {@link runStorageTests} returns: a fresh, empty storage. */
export interface StorageTestSetup {
  /** The adapter under test, empty. */
  readonly storage: Storage
  /** Removes what the test left behind (directories, databases). */
  readonly teardown?: () => void | Promise<void>
}

/** Bytes 0, 1, 2, ... of length `length`, starting at `seed` (wrapping at 256). */
function bytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (seed + i) & 0xff
  return out
}

/** Compares record lists as arrays of byte arrays, whatever Uint8Array subclass the adapter returns. */
function plain(records: readonly Uint8Array[]): number[][] {
  return records.map((record) => Array.from(record))
}

/**
 * Registers the storage acceptance tests under `describe(name)`. `setup` is called before each
 * test and must return an empty storage; `teardown` (if any) runs after it.
 */
export function runStorageTests(name: string, setup: () => StorageTestSetup | Promise<StorageTestSetup>): void {
  describe(`storage acceptance: ${name}`, () => {
    let storage: Storage
    let teardown: (() => void | Promise<void>) | undefined
    const open: DocStore[] = []
    const openStore = async (key: string): Promise<DocStore> => {
      const store = await storage.open(key)
      open.push(store)
      return store
    }

    beforeEach(async () => {
      const result = await setup()
      storage = result.storage
      teardown = result.teardown
    })
    afterEach(async () => {
      for (const store of open.splice(0)) await store.close()
      await teardown?.()
    })

    it('loads [] from a key that was never written', async () => {
      const store = await openStore('never-written')
      expect(await store.load()).toEqual([])
    })

    it('loads appended records in append order, byte for byte', async () => {
      const store = await openStore('doc')
      const records = [bytes(1, 1), bytes(2, 300), bytes(3, 17), bytes(4, 70_000)]
      for (const record of records) await store.append(record)
      expect(plain(await store.load())).toEqual(plain(records))
    })

    it('keeps call order for appends that are not awaited one by one', async () => {
      const store = await openStore('doc')
      const records = Array.from({ length: 50 }, (_, i) => bytes(i, 1 + (i % 7)))
      await Promise.all(records.map((record) => store.append(record)))
      expect(plain(await store.load())).toEqual(plain(records))
    })

    it('stores a copy: changing the appended array afterwards changes nothing', async () => {
      const store = await openStore('doc')
      const record = bytes(9, 8)
      const pending = store.append(record)
      record.fill(0)
      await pending
      expect(plain(await store.load())).toEqual([Array.from(bytes(9, 8))])
    })

    it('returns the records again after close and reopen', async () => {
      const first = await storage.open('doc')
      await first.append(bytes(1, 10))
      await first.append(bytes(2, 20))
      await first.close()
      const second = await openStore('doc')
      expect(plain(await second.load())).toEqual(plain([bytes(1, 10), bytes(2, 20)]))
    })

    it('after compaction loads the snapshot, then the records appended after it', async () => {
      const store = await openStore('doc')
      await store.append(bytes(1, 10))
      await store.append(bytes(2, 10))
      await store.compact(bytes(3, 30))
      expect(plain(await store.load())).toEqual(plain([bytes(3, 30)]))
      await store.append(bytes(4, 5))
      expect(plain(await store.load())).toEqual(plain([bytes(3, 30), bytes(4, 5)]))
    })

    it('keeps the snapshot and the later records across close and reopen, and compacts again', async () => {
      const first = await storage.open('doc')
      await first.append(bytes(1, 10))
      await first.compact(bytes(2, 40))
      await first.append(bytes(3, 12))
      await first.close()
      const second = await openStore('doc')
      expect(plain(await second.load())).toEqual(plain([bytes(2, 40), bytes(3, 12)]))
      await second.compact(bytes(4, 44))
      await second.append(bytes(5, 3))
      expect(plain(await second.load())).toEqual(plain([bytes(4, 44), bytes(5, 3)]))
    })

    it('orders a compaction between the appends called before and after it', async () => {
      const store = await openStore('doc')
      const calls = [store.append(bytes(1, 4)), store.compact(bytes(2, 8)), store.append(bytes(3, 4))]
      await Promise.all(calls)
      expect(plain(await store.load())).toEqual(plain([bytes(2, 8), bytes(3, 4)]))
    })

    it('keeps many keys isolated from each other', async () => {
      const keys = Array.from({ length: 20 }, (_, i) => `shard.${i}`)
      const stores = await Promise.all(keys.map((key) => openStore(key)))
      await Promise.all(stores.map((store, i) => store.append(bytes(i, i + 1))))
      await stores[3]?.compact(bytes(100, 3))
      for (const [i, store] of stores.entries()) {
        const expected = i === 3 ? [bytes(100, 3)] : [bytes(i, i + 1)]
        expect(plain(await store.load())).toEqual(plain(expected))
      }
    })

    it('keeps keys with odd characters apart, including ones that differ only in case', async () => {
      const keys = [
        '../escape', '..', '.', '.hidden', 'a/b', 'a\\b', 'a@b', 'a%41', 'aA', 'A', 'a',
        'tickets.2026-11', 'Tickets.2026-11', 'con', 'nul.txt', 'sp ace', 'ñandú 🌵', 'tab\there', 'x'.repeat(120),
      ]
      const stores = await Promise.all(keys.map((key) => openStore(key)))
      await Promise.all(stores.map((store, i) => store.append(bytes(i, 3))))
      for (const [i, store] of stores.entries()) {
        expect(store.key).toBe(keys[i])
        expect(plain(await store.load())).toEqual([Array.from(bytes(i, 3))])
      }
    })

    it('refuses an empty key with E_ARGUMENT', async () => {
      await expect(storage.open('')).rejects.toSatisfy((error: unknown) => CabildoError.is(error, 'E_ARGUMENT'))
    })

    it('close is idempotent and every later call rejects with E_CLOSED', async () => {
      const store = await storage.open('doc')
      await store.append(bytes(1, 3))
      await store.close()
      await store.close()
      const isClosed = (error: unknown): boolean => CabildoError.is(error, 'E_CLOSED')
      await expect(store.load()).rejects.toSatisfy(isClosed)
      await expect(store.append(bytes(2, 3))).rejects.toSatisfy(isClosed)
      await expect(store.compact(bytes(3, 3))).rejects.toSatisfy(isClosed)
    })

    it('completes the operations called before close', async () => {
      const store = await storage.open('doc')
      const appended = store.append(bytes(1, 3))
      const closed = store.close()
      await appended
      await closed
      const reopened = await openStore('doc')
      expect(plain(await reopened.load())).toEqual([Array.from(bytes(1, 3))])
    })

    it('reloads a Y.Doc persisted update by update, and after compaction', async () => {
      const doc = new Y.Doc()
      const store = await storage.open('yjs')
      doc.on('update', (update: Uint8Array) => void store.append(update))
      const map = doc.getMap<number>('tickets')
      for (let i = 0; i < 30; i++) map.set(`t${i}`, i)
      doc.getText('notes').insert(0, 'hello')
      await store.flush?.()
      await store.compact(Y.encodeStateAsUpdate(doc))
      map.delete('t0')
      await store.close()

      const reopened = await openStore('yjs')
      const copy = new Y.Doc()
      for (const record of await reopened.load()) Y.applyUpdate(copy, record)
      expect(copy.getMap('tickets').toJSON()).toEqual(map.toJSON())
      expect(copy.getText('notes').toString()).toBe('hello')
    })
  })
}
