import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CabildoError } from '../../src/errors'
import { attachStore, type KeptElsewhere, type StorageFailure } from '../../src/storage/attach-store'
import { createMemoryStorage, type MemoryStorageOperation } from '../../src/storage/memory-storage'

const full = (): Error => Object.assign(new Error('disk full'), { code: 'ENOSPC' })

/** A memory storage whose operations fail while `failing` holds them, and which logs every call. */
function flakyStorage() {
  const failing = new Set<MemoryStorageOperation>()
  const calls: MemoryStorageOperation[] = []
  const storage = createMemoryStorage({
    faults: (operation) => {
      calls.push(operation)
      if (failing.has(operation)) throw full()
    },
  })
  return { storage, failing, calls }
}

/** The content of `key` in `storage`, loaded into a fresh document. */
async function reload(storage: ReturnType<typeof createMemoryStorage>, key = 'doc'): Promise<Y.Doc> {
  const store = await storage.open(key)
  const doc = new Y.Doc()
  for (const record of await store.load()) Y.applyUpdate(doc, record)
  await store.close()
  return doc
}

describe('attachStore', () => {
  it('loads the stored updates in one transaction whose origin is the store, without writing them back', async () => {
    const storage = createMemoryStorage()
    const writer = new Y.Doc()
    const store = await storage.open('doc')
    writer.on('update', (update: Uint8Array) => void store.append(update))
    for (let i = 0; i < 5; i++) writer.getMap('m').set(`k${i}`, i)
    await store.flush?.()

    const doc = new Y.Doc()
    const origins: unknown[] = []
    doc.on('afterTransaction', (transaction: Y.Transaction) => origins.push(transaction.origin))
    const attached = await attachStore(doc, store, { compactEvery: Infinity })
    expect(origins).toEqual([store])
    expect(doc.getMap('m').toJSON()).toEqual(writer.getMap('m').toJSON())
    await attached.flush()
    expect(storage.recordCount('doc')).toBe(5)
    await attached.detach()
    await store.close()
  })

  it('persists every later update, and flush resolves once they are durable', async () => {
    const storage = createMemoryStorage()
    const store = await storage.open('doc')
    const doc = new Y.Doc()
    const attached = await attachStore(doc, store, { compactEvery: Infinity })
    doc.getMap('tickets').set('t1', 'open')
    doc.getText('notes').insert(0, 'pothole')
    expect(attached.pending).toBeGreaterThan(0)
    await attached.flush()
    expect(attached.pending).toBe(0)
    await attached.detach()
    await store.close()
    const copy = await reload(storage)
    expect(copy.getMap('tickets').toJSON()).toEqual({ t1: 'open' })
    expect(copy.getText('notes').toString()).toBe('pothole')
  })

  it('persists what the document held before attaching and the edits made while it loads', async () => {
    const storage = createMemoryStorage()
    const first = await storage.open('doc')
    await first.append(Y.encodeStateAsUpdate((() => {
      const d = new Y.Doc()
      d.getMap('m').set('stored', 1)
      return d
    })()))
    await first.close()

    const doc = new Y.Doc()
    doc.getMap('m').set('before', 2)
    const store = await storage.open('doc')
    const attaching = attachStore(doc, store)
    doc.getMap('m').set('during', 3)
    const attached = await attaching
    await attached.flush()
    await attached.detach()
    await store.close()
    expect((await reload(storage)).getMap('m').toJSON()).toEqual({ stored: 1, before: 2, during: 3 })
  })

  it('compacts once the store holds compactEvery records, keeping the state', async () => {
    const storage = createMemoryStorage()
    const store = await storage.open('doc')
    const doc = new Y.Doc()
    const attached = await attachStore(doc, store, { compactEvery: 10 })
    for (let i = 0; i < 25; i++) doc.getMap('m').set(`k${i}`, i)
    await attached.flush()
    // 25 updates, one snapshot at the 10th; the 15 records appended meanwhile call for another.
    expect(storage.recordCount('doc')).toBeLessThan(10)
    await attached.detach()
    await store.close()
    expect((await reload(storage)).getMap('m').toJSON()).toEqual(doc.getMap('m').toJSON())
  })

  it('compacts on demand into one snapshot', async () => {
    const storage = createMemoryStorage()
    const store = await storage.open('doc')
    const doc = new Y.Doc()
    const attached = await attachStore(doc, store, { compactEvery: Infinity })
    for (let i = 0; i < 7; i++) doc.getMap('m').set(`k${i}`, i)
    await attached.compact()
    expect(storage.recordCount('doc')).toBe(1)
    await attached.detach()
    await store.close()
    expect((await reload(storage)).getMap('m').toJSON()).toEqual(doc.getMap('m').toJSON())
  })

  it('reports a failed append as E_STORAGE, keeps the document usable, and retries it on the next flush', async () => {
    const { storage, failing } = flakyStorage()
    const store = await storage.open('doc')
    const doc = new Y.Doc()
    const errors: StorageFailure[] = []
    const attached = await attachStore(doc, store, { compactEvery: Infinity, onError: (e) => errors.push(e) })
    doc.getMap('m').set('a', 1)
    await attached.flush()
    failing.add('append')
    doc.getMap('m').set('b', 2)
    const failure = await attached.flush().catch((e: unknown) => e)
    expect(CabildoError.is(failure, 'E_STORAGE') && failure.details).toEqual({ operation: 'append', key: 'doc', cause: 'ENOSPC' })
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.every((e) => e.code === 'E_STORAGE' && e.details.cause === 'ENOSPC')).toBe(true)
    doc.getMap('m').set('c', 3) // still usable
    expect(doc.getMap('m').toJSON()).toEqual({ a: 1, b: 2, c: 3 })

    failing.delete('append')
    await attached.flush()
    expect(attached.pending).toBe(0)
    await attached.detach()
    await store.close()
    expect((await reload(storage)).getMap('m').toJSON()).toEqual({ a: 1, b: 2, c: 3 })
  })

  it('drops a failed append that a later compaction already holds, instead of appending it again', async () => {
    const { storage, failing, calls } = flakyStorage()
    const store = await storage.open('doc')
    const doc = new Y.Doc()
    const attached = await attachStore(doc, store, { compactEvery: Infinity })
    failing.add('append')
    doc.getMap('m').set('a', 1)
    await attached.flush().catch(() => undefined)
    failing.delete('append')
    await attached.compact()
    const appendsBefore = calls.filter((c) => c === 'append').length
    await attached.flush()
    expect(calls.filter((c) => c === 'append').length).toBe(appendsBefore)
    expect(storage.recordCount('doc')).toBe(1)
    await attached.detach()
    await store.close()
    expect((await reload(storage)).getMap('m').toJSON()).toEqual({ a: 1 })
  })

  it('reports a failed compaction, keeps the old records, and compacts later', async () => {
    const { storage, failing } = flakyStorage()
    const store = await storage.open('doc')
    const doc = new Y.Doc()
    const errors: StorageFailure[] = []
    const attached = await attachStore(doc, store, { compactEvery: Infinity })
    const off = attached.on('error', (e) => errors.push(e))
    doc.getMap('m').set('a', 1)
    failing.add('compact')
    const failure = await attached.compact().catch((e: unknown) => e)
    expect(CabildoError.is(failure, 'E_STORAGE') && failure.details.operation).toBe('compact')
    expect(errors.map((e) => e.details)).toEqual([{ operation: 'compact', key: 'doc', cause: 'ENOSPC' }])
    off()
    expect(storage.recordCount('doc')).toBe(1)
    failing.delete('compact')
    doc.getMap('m').set('b', 2)
    await attached.compact()
    expect(storage.recordCount('doc')).toBe(1)
    await attached.detach()
    await store.close()
    expect((await reload(storage)).getMap('m').toJSON()).toEqual({ a: 1, b: 2 })
  })

  it('when the store fails to load, rejects and never writes to it, whatever the document does', async () => {
    const { storage, failing, calls } = flakyStorage()
    const seed = await storage.open('doc')
    await seed.append(new Uint8Array([0, 0])) // an empty Yjs update: the real document's bytes here
    await seed.close()
    const store = await storage.open('doc')
    failing.add('load')
    const doc = new Y.Doc()
    const error = await attachStore(doc, store, { compactEvery: 1 }).catch((e: unknown) => e)
    expect(CabildoError.is(error, 'E_STORAGE') && error.details).toEqual({ operation: 'load', key: 'doc', cause: 'ENOSPC' })
    const callsAfterLoad = calls.length
    for (let i = 0; i < 5; i++) doc.getMap('m').set(`k${i}`, i)
    await store.flush?.()
    expect(calls.slice(callsAfterLoad)).toEqual([])
    expect(storage.recordCount('doc')).toBe(1)
    await store.close()
  })

  it('refuses records Yjs cannot apply with E_STORAGE EDECODE, writing nothing', async () => {
    const { storage, calls } = flakyStorage()
    const seed = await storage.open('doc')
    await seed.append(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]))
    await seed.close()
    const store = await storage.open('doc')
    const callsBefore = calls.length
    const doc = new Y.Doc()
    const error = await attachStore(doc, store).catch((e: unknown) => e)
    expect(CabildoError.is(error, 'E_STORAGE') && error.details).toEqual({ operation: 'load', key: 'doc', cause: 'EDECODE' })
    doc.getMap('m').set('x', 1)
    await store.flush?.()
    expect(calls.slice(callsBefore)).toEqual(['load'])
    await store.close()
  })

  it('stops persisting after detach or when the document is destroyed', async () => {
    const storage = createMemoryStorage()
    const store = await storage.open('doc')
    const doc = new Y.Doc()
    const attached = await attachStore(doc, store, { compactEvery: Infinity })
    doc.getMap('m').set('a', 1)
    await attached.detach()
    await attached.detach()
    doc.getMap('m').set('b', 2)
    await expect(attached.flush()).rejects.toSatisfy((e: unknown) => CabildoError.is(e, 'E_CLOSED'))
    await expect(attached.compact()).rejects.toSatisfy((e: unknown) => CabildoError.is(e, 'E_CLOSED'))
    expect(storage.recordCount('doc')).toBe(1)

    const other = new Y.Doc()
    const second = await attachStore(other, store, { compactEvery: Infinity })
    other.destroy()
    await expect(second.flush()).rejects.toSatisfy((e: unknown) => CabildoError.is(e, 'E_CLOSED'))
    await store.close()
  })

  it('after any run of failing and recovering appends and compactions, a successful flush leaves the whole document durable', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('edit', 'edit', 'edit', 'fail-append', 'heal', 'fail-compact', 'compact', 'flush'), { maxLength: 40 }),
        async (steps) => {
          const { storage, failing } = flakyStorage()
          const store = await storage.open('doc')
          const doc = new Y.Doc()
          const attached = await attachStore(doc, store, { compactEvery: 6 })
          let n = 0
          for (const step of steps) {
            if (step === 'edit') doc.getMap('m').set(`k${n}`, n++)
            else if (step === 'fail-append') failing.add('append')
            else if (step === 'fail-compact') failing.add('compact')
            else if (step === 'heal') failing.clear()
            else if (step === 'compact') await attached.compact().catch(() => undefined)
            else await attached.flush().catch(() => undefined)
          }
          failing.clear()
          await attached.flush()
          await attached.detach()
          await store.close()
          expect((await reload(storage)).getMap('m').toJSON()).toEqual(doc.getMap('m').toJSON())
        },
      ),
      { seed: 42, numRuns: 200 },
    )
  })
})

/** Updates whose origin is `kept` are kept elsewhere; they are durable there once `release()` is called. */
function keptBy(kept: object) {
  let release: () => void = () => undefined
  let gate = Promise.resolve()
  const listeners = new Set<(update: Uint8Array) => void>()
  let waits = 0
  const keeper: KeptElsewhere = {
    count: (transaction) => (transaction.origin === kept ? 1 : 0),
    durable: () => {
      waits++
      return gate
    },
    onUnkept: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
  return {
    keeper,
    hold: () => void (gate = new Promise((resolve) => (release = resolve))),
    fail: () => void (gate = Promise.reject(full())),
    release: () => release(),
    unkept: (update: Uint8Array) => listeners.forEach((listener) => listener(update)),
    waits: () => waits,
  }
}

/** Detaches the document and closes its store. */
async function closeAll(attached: { detach(): Promise<void>; readonly store: { close(): Promise<void> } }): Promise<void> {
  await attached.detach()
  await attached.store.close()
}

describe('attachStore: updates kept elsewhere', () => {
  it('appends only the updates nothing else keeps', async () => {
    const storage = createMemoryStorage()
    const doc = new Y.Doc()
    const signed = {}
    const attached = await attachStore(doc, await storage.open('doc'), { keptElsewhere: keptBy(signed).keeper })
    doc.transact(() => doc.getMap('m').set('kept', 1), signed)
    const other = new Y.Doc() // another client: its update does not depend on the kept one
    other.getMap('m').set('plain', 2)
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(other))
    await attached.flush()
    await closeAll(attached)
    expect((await reload(storage)).getMap('m').toJSON()).toEqual({ plain: 2 })
  })

  it('writes a snapshot only once what is kept elsewhere is durable, with the updates appended meanwhile', async () => {
    const { storage, calls } = flakyStorage()
    const doc = new Y.Doc()
    const signed = {}
    const kept = keptBy(signed)
    const attached = await attachStore(doc, await storage.open('doc'), { keptElsewhere: kept.keeper, compactEvery: Infinity })
    doc.transact(() => doc.getMap('m').set('kept', 1), signed)
    kept.hold()
    const compacted = attached.compact()
    doc.getMap('m').set('meanwhile', 2) // appended while the compaction waits
    doc.transact(() => doc.getMap('m').set('later', 3), signed) // kept elsewhere, after the snapshot was taken
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(calls.filter((call) => call === 'compact')).toEqual([])
    kept.release()
    await compacted
    expect(kept.waits()).toBe(1)
    expect(calls.filter((call) => call === 'compact')).toHaveLength(1)
    await closeAll(attached)
    expect((await reload(storage)).getMap('m').toJSON()).toEqual({ kept: 1, meanwhile: 2 })
  })

  it('writes no snapshot when what is kept elsewhere cannot be made durable, and reports it', async () => {
    const { storage, calls } = flakyStorage()
    const failures: StorageFailure[] = []
    const doc = new Y.Doc()
    const signed = {}
    const kept = keptBy(signed)
    const attached = await attachStore(doc, await storage.open('doc'), { keptElsewhere: kept.keeper, compactEvery: Infinity, onError: (e) => failures.push(e) })
    doc.getMap('m').set('plain', 1)
    doc.transact(() => doc.getMap('m').set('kept', 2), signed)
    kept.fail()
    await expect(attached.compact()).rejects.toMatchObject({ code: 'E_STORAGE', details: { operation: 'compact', key: 'doc', cause: 'ENOSPC' } })
    expect(calls).not.toContain('compact')
    expect(failures.map((e) => e.details)).toEqual([{ operation: 'compact', key: 'doc', cause: 'ENOSPC' }])
    await closeAll(attached)
    expect((await reload(storage)).getMap('m').toJSON()).toEqual({ plain: 1 })
  })

  it('counts updates kept elsewhere towards compactEvery', async () => {
    const { storage, calls } = flakyStorage()
    const doc = new Y.Doc()
    const signed = {}
    const attached = await attachStore(doc, await storage.open('doc'), { keptElsewhere: keptBy(signed).keeper, compactEvery: 3 })
    for (let i = 0; i < 3; i++) doc.transact(() => doc.getMap('m').set(`k${i}`, i), signed)
    await attached.flush()
    expect(calls.filter((call) => call === 'compact')).toHaveLength(1)
    expect(calls).not.toContain('append')
    await closeAll(attached)
    expect((await reload(storage)).getMap('m').toJSON()).toEqual({ k0: 0, k1: 1, k2: 2 })
  })

  it('appends an update that lost its record elsewhere', async () => {
    const storage = createMemoryStorage()
    const doc = new Y.Doc()
    const signed = {}
    const kept = keptBy(signed)
    const attached = await attachStore(doc, await storage.open('doc'), { keptElsewhere: kept.keeper })
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    doc.transact(() => doc.getMap('m').set('unsigned', 1), signed)
    kept.unkept(updates[0] as Uint8Array)
    await attached.flush()
    await closeAll(attached)
    expect((await reload(storage)).getMap('m').toJSON()).toEqual({ unsigned: 1 })
  })
})
