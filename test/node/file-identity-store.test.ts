import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CabildoError } from '../../src/errors'
import { createIdentity, loadOrCreateIdentity } from '../../src/identity/identity'
import { fileIdentityStore } from '../../src/node/file-identity-store'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cabildo-identity-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('fileIdentityStore', () => {
  it('has no key before the first save, then reads back the JWK it wrote', async () => {
    const store = fileIdentityStore(join(dir, 'id.json'))
    expect(await store.load()).toBeUndefined()
    const jwk = (await createIdentity()).keyPair.exportJwk()
    await store.save(jwk)
    expect(await store.load()).toEqual(jwk)
    expect(JSON.parse(await readFile(join(dir, 'id.json'), 'utf8'))).toEqual(jwk)
  })

  it('writes the file readable by its owner only (0600) and creates missing directories', async () => {
    const path = join(dir, 'nested', 'deeper', 'id.json')
    await fileIdentityStore(path).save((await createIdentity()).keyPair.exportJwk())
    expect((await stat(path)).mode & 0o777).toBe(0o600)
  })

  it('replaces the key atomically: no temporary file is left behind, and a stale one is ignored', async () => {
    const path = join(dir, 'id.json')
    const store = fileIdentityStore(path)
    const first = (await createIdentity()).keyPair.exportJwk()
    const second = (await createIdentity()).keyPair.exportJwk()
    await store.save(first)
    // What a crash between write and rename would leave: a torn temporary file.
    await writeFile(join(dir, '.id.json.deadbeef.tmp'), '{"kty":"OK')
    await store.save(second)
    expect(await store.load()).toEqual(second)
    expect((await readdir(dir)).sort()).toEqual(['.id.json.deadbeef.tmp', 'id.json'])
  })

  it('saveIfAbsent keeps the first key, and racing loadOrCreateIdentity calls agree on one identity', async () => {
    const path = join(dir, 'id.json')
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => loadOrCreateIdentity(fileIdentityStore(path))))
    expect(new Set([a?.did, b?.did, c?.did]).size).toBe(1)
    expect((await loadOrCreateIdentity(fileIdentityStore(path))).did).toBe(a?.did)
    expect(await readdir(dir)).toEqual(['id.json'])
  })

  it('reports a file that is not JSON as E_KEY, and loadOrCreateIdentity does not overwrite it', async () => {
    const path = join(dir, 'id.json')
    await writeFile(path, 'garbage')
    const err = await loadOrCreateIdentity(fileIdentityStore(path)).catch((e: unknown) => e)
    expect(CabildoError.is(err, 'E_KEY')).toBe(true)
    expect(await readFile(path, 'utf8')).toBe('garbage')
  })

  it('reports I/O failures as E_STORAGE (here: the parent "directory" is a file)', async () => {
    const blocker = join(dir, 'file')
    await writeFile(blocker, '')
    const store = fileIdentityStore(join(blocker, 'id.json'))
    const jwk = (await createIdentity()).keyPair.exportJwk()
    const attempts: Array<() => Promise<unknown> | undefined> = [() => store.save(jwk), () => store.saveIfAbsent?.(jwk), () => store.load()]
    for (const attempt of attempts) {
      const err: unknown = await Promise.resolve()
        .then(attempt)
        .catch((e: unknown) => e)
      expect(CabildoError.is(err, 'E_STORAGE')).toBe(true)
    }
  })
})
