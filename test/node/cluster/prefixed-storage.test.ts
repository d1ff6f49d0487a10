import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createPrefixedStorage, keyPrefixes } from '../../../src/node/cluster/prefixed-storage'
import { createFileStorage } from '../../../src/node/file-storage'
import { createMemoryStorage } from '../../../src/storage/memory-storage'
import { runStorageTests } from '../../../src/testing/storage-tests'

const tmp = mkdtempSync(join(tmpdir(), 'cabildo-prefixed-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

runStorageTests('prefixed view of a memory storage', () => ({ storage: createPrefixedStorage(createMemoryStorage(), 'city/') }))

describe('prefixed storage', () => {
  it('keeps the Spaces of one shared storage apart, and lists them by prefix', async () => {
    const shared = createFileStorage({ directory: join(tmp, 'shared') })
    const city = createPrefixedStorage(shared, 'city/')
    const town = createPrefixedStorage(shared, 'town/')
    const inCity = await city.open('_manifest')
    const inTown = await town.open('_manifest')
    expect(inCity.key).toBe('_manifest')
    await inCity.append(Uint8Array.from([1]))
    await inTown.append(Uint8Array.from([2]))
    expect((await inCity.load()).map((record) => Array.from(record))).toEqual([[1]])
    expect((await inTown.load()).map((record) => Array.from(record))).toEqual([[2]])
    await Promise.all([inCity.close(), inTown.close()])
    expect(await shared.keys()).toEqual(['city/_manifest', 'town/_manifest'])
    expect(await keyPrefixes(shared, '/')).toEqual(['city', 'town'])
    expect(await keyPrefixes(createPrefixedStorage(shared, 'x/'), '/')).toEqual([]) // a view cannot list
  })
})
