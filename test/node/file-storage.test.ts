import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CabildoError } from '../../src/errors'
import { createFileStorage } from '../../src/node/file-storage'
import { nodeFsOps } from '../../src/node/file-storage/fs-ops'
import { runStorageTests } from '../../src/testing/storage-tests'
import { faultyFs } from './file-storage/faulty-fs'

runStorageTests('file', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'cabildo-storage-'))
  return { storage: createFileStorage({ directory }), teardown: () => rm(directory, { recursive: true, force: true }) }
})

describe('file storage', () => {
  let directory: string
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'cabildo-file-'))
  })
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  it('keeps every file of a key inside the directory, whatever the key', async () => {
    const storage = createFileStorage({ directory: join(directory, 'data') })
    const store = await storage.open('../../etc/passwd')
    await store.append(new Uint8Array([1]))
    await store.compact(new Uint8Array([2]))
    await store.append(new Uint8Array([3]))
    expect(await readdir(directory)).toEqual(['data'])
    expect((await readdir(join(directory, 'data'))).every((name) => !name.includes('/'))).toBe(true)
    await store.close()
  })

  it('lists the keys of the documents in the directory', async () => {
    const storage = createFileStorage(directory)
    for (const key of ['b', 'A/b', 'ñ']) {
      const store = await storage.open(key)
      await store.append(new Uint8Array([1]))
      await store.close()
    }
    expect(await storage.keys()).toEqual(['A/b', 'b', 'ñ'])
  })

  it('refuses a second open of the same key, even through another storage object', async () => {
    const store = await createFileStorage(directory).open('doc')
    const second = await createFileStorage(directory).open('doc').catch((e: unknown) => e)
    expect(CabildoError.is(second, 'E_STORAGE') && second.details.cause).toBe('ELOCKED')
    await store.close()
    await (await createFileStorage(directory).open('doc')).close()
  })

  it('refuses a key whose escaped file name would be too long', async () => {
    const error = await createFileStorage(directory).open('é'.repeat(40)).catch((e: unknown) => e)
    expect(CabildoError.is(error, 'E_ARGUMENT')).toBe(true)
  })

  it('leaves no file but the log and snapshot of the current generation after compactions', async () => {
    const store = await createFileStorage(directory).open('doc')
    for (let i = 0; i < 3; i++) {
      await store.append(new Uint8Array([i]))
      await store.compact(new Uint8Array([10 + i]))
    }
    await store.append(new Uint8Array([99]))
    await store.close()
    expect((await readdir(directory)).sort()).toEqual(['doc@3.log', 'doc@3.snapshot'])
  })

  it('groups appends made together into one write and one fsync, up to maxBatchBytes', async () => {
    const counting = faultyFs(nodeFsOps, () => undefined)
    const store = await createFileStorage({ directory, fs: counting.fs, maxBatchBytes: 10_000 }).open('doc')
    await store.load()
    const before = counting.calls.length
    // 100 records of 988 bytes (1,000 framed): the first alone, then batches of at most 10.
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.append(new Uint8Array(988).fill(i))))
    const calls = counting.calls.slice(before)
    expect(calls.filter((c) => c === 'sync').length).toBeGreaterThanOrEqual(10)
    expect(calls.filter((c) => c === 'sync').length).toBeLessThanOrEqual(12)
    expect((await store.load()).map((r) => r[0])).toEqual(Array.from({ length: 100 }, (_, i) => i))
    await store.close()
  })

  it('acknowledges a new log only after fsyncing the file and its directory', async () => {
    const counting = faultyFs(nodeFsOps, () => undefined)
    const store = await createFileStorage({ directory, fs: counting.fs }).open('doc')
    await store.append(new Uint8Array([1]))
    expect(counting.calls.slice(-4)).toEqual(['open', 'write', 'sync', 'syncDirectory'])
    await store.append(new Uint8Array([2]))
    expect(counting.calls.slice(-2)).toEqual(['write', 'sync'])
    await store.close()
  })
})
