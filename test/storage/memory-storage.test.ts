import { describe, expect, it } from 'vitest'
import { CabildoError } from '../../src/errors'
import { createMemoryStorage } from '../../src/storage/memory-storage'
import { runStorageTests } from '../../src/testing/storage-tests'

runStorageTests('memory', () => ({ storage: createMemoryStorage() }))

const full = (): Error => Object.assign(new Error('disk full'), { code: 'ENOSPC' })

describe('memory storage', () => {
  it('refuses a second open of an open key with E_STORAGE ELOCKED, and allows it after close', async () => {
    const storage = createMemoryStorage()
    const store = await storage.open('doc')
    await expect(storage.open('doc')).rejects.toSatisfy(
      (error: unknown) => CabildoError.is(error, 'E_STORAGE') && error.details.cause === 'ELOCKED',
    )
    await store.close()
    await (await storage.open('doc')).close()
  })

  it('turns an injected fault into E_STORAGE with the fault code, and changes nothing', async () => {
    let failing = false
    const storage = createMemoryStorage({
      faults: (operation) => {
        if (failing && operation === 'append') throw full()
      },
    })
    const store = await storage.open('doc')
    await store.append(new Uint8Array([1]))
    failing = true
    const error = await store.append(new Uint8Array([2])).catch((e: unknown) => e)
    expect(CabildoError.is(error, 'E_STORAGE') && error.details).toEqual({ operation: 'append', key: 'doc', cause: 'ENOSPC' })
    failing = false
    await store.append(new Uint8Array([3]))
    expect((await store.load()).map((r) => r[0])).toEqual([1, 3])
  })

  it('lists the keys holding records and counts their records', async () => {
    const storage = createMemoryStorage()
    const a = await storage.open('a')
    const b = await storage.open('b')
    await a.append(new Uint8Array([1]))
    await a.append(new Uint8Array([2]))
    expect(storage.keys()).toEqual(['a'])
    expect(storage.recordCount('a')).toBe(2)
    await a.compact(new Uint8Array([3]))
    expect(storage.recordCount('a')).toBe(1)
    expect(storage.recordCount('b')).toBe(0)
    await Promise.all([a.close(), b.close()])
  })
})
