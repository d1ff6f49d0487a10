import 'fake-indexeddb/auto'
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb'
import { IndexeddbPersistence } from 'y-indexeddb'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CabildoError } from '../../src/errors'
import { createIndexedDbStorage } from '../../src/storage/indexeddb-storage'
import { runStorageTests } from '../../src/testing/storage-tests'

runStorageTests('indexeddb', () => ({ storage: createIndexedDbStorage({ indexedDB: new IDBFactory() }) }))

/** A fresh global database namespace, as y-indexeddb only uses the global `indexedDB`. */
function freshGlobalIndexedDb(): IDBFactory {
  const factory = new IDBFactory()
  globalThis.indexedDB = factory
  return factory
}

describe('indexeddb storage', () => {
  const originalAdd = IDBObjectStore.prototype.add
  afterEach(() => {
    IDBObjectStore.prototype.add = originalAdd
  })

  it('writes databases that y-indexeddb loads', async () => {
    const factory = freshGlobalIndexedDb()
    const store = await createIndexedDbStorage({ indexedDB: factory }).open('tickets.2026-11')
    const writer = new Y.Doc()
    writer.on('update', (update: Uint8Array) => void store.append(update))
    writer.getMap('tickets').set('t1', 'open')
    writer.getMap('tickets').set('t2', 'closed')
    await store.compact(Y.encodeStateAsUpdate(writer))
    writer.getMap('tickets').set('t3', 'open')
    await store.close()

    const doc = new Y.Doc()
    const persistence = new IndexeddbPersistence('tickets.2026-11', doc)
    await persistence.whenSynced
    expect(doc.getMap('tickets').toJSON()).toEqual({ t1: 'open', t2: 'closed', t3: 'open' })
    await persistence.destroy()
  })

  it('loads databases that y-indexeddb wrote', async () => {
    const factory = freshGlobalIndexedDb()
    const doc = new Y.Doc()
    const persistence = new IndexeddbPersistence('budget.x7k2', doc)
    await persistence.whenSynced
    doc.getMap('projects').set('p1', 'park')
    doc.getText('notes').insert(0, 'approved')
    await new Promise((resolve) => setTimeout(resolve, 20))
    await persistence.destroy()

    const store = await createIndexedDbStorage({ indexedDB: factory }).open('budget.x7k2')
    const copy = new Y.Doc()
    for (const record of await store.load()) Y.applyUpdate(copy, record)
    await store.close()
    expect(copy.getMap('projects').toJSON()).toEqual({ p1: 'park' })
    expect(copy.getText('notes').toString()).toBe('approved')
  })

  it('reports an exhausted quota as E_STORAGE QuotaExceededError, changes nothing, and goes on afterwards', async () => {
    const store = await createIndexedDbStorage({ indexedDB: new IDBFactory() }).open('doc')
    await store.append(new Uint8Array([1]))
    let failures = 1
    IDBObjectStore.prototype.add = function add(this: IDBObjectStore, ...args: Parameters<IDBObjectStore['add']>) {
      if (failures-- > 0) throw new DOMException('quota exceeded', 'QuotaExceededError')
      return originalAdd.apply(this, args)
    }
    const error = await store.append(new Uint8Array([2])).catch((e: unknown) => e)
    expect(CabildoError.is(error, 'E_STORAGE') && error.details).toEqual({ operation: 'append', key: 'doc', cause: 'QuotaExceededError' })
    await store.append(new Uint8Array([3]))
    expect((await store.load()).map((r) => Array.from(r))).toEqual([[1], [3]])
    await store.close()
  })

  it('shares one transaction among appends made together, and keeps their order', async () => {
    const store = await createIndexedDbStorage({ indexedDB: new IDBFactory() }).open('doc')
    let transactions = 0
    const factoryTransaction = IDBDatabase.prototype.transaction
    IDBDatabase.prototype.transaction = function transaction(this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
      transactions += 1
      return factoryTransaction.apply(this, args)
    }
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.append(new Uint8Array([i]))))
    } finally {
      IDBDatabase.prototype.transaction = factoryTransaction
    }
    expect(transactions).toBeGreaterThanOrEqual(1)
    expect(transactions).toBeLessThanOrEqual(2)
    expect((await store.load()).map((r) => r[0])).toEqual(Array.from({ length: 20 }, (_, i) => i))
    await store.close()
  })

  it('refuses to open without IndexedDB, with E_STORAGE ENOTSUP', async () => {
    const saved = globalThis.indexedDB
    // @ts-expect-error simulating an environment without IndexedDB
    delete globalThis.indexedDB
    try {
      const error = await createIndexedDbStorage().open('doc').catch((e: unknown) => e)
      expect(CabildoError.is(error, 'E_STORAGE') && error.details.cause).toBe('ENOTSUP')
    } finally {
      globalThis.indexedDB = saved
    }
  })
})
