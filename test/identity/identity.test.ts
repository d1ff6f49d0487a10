import { IDBFactory } from 'fake-indexeddb'
import { describe, expect, it } from 'vitest'
import { CabildoError } from '../../src/errors'
import { createIdentity, identityFromKeyPair, loadOrCreateIdentity } from '../../src/identity/identity'
import type { IdentityStore, StoredKey } from '../../src/identity/identity-store'
import { indexedDbIdentityStore } from '../../src/identity/indexeddb-identity-store'
import { keyPairFromJwk } from '../../src/identity/keys'
import { memoryIdentityStore } from '../../src/identity/memory-identity-store'
import { verifyRecord } from '../../src/identity/signed-record'
import { rfc8037Jwk } from './fixtures'

describe('Identity', () => {
  it('signs records as its own did, and they verify', async () => {
    const me = await createIdentity()
    const record = await me.sign({ type: 'comment', doc: 'proposals/p1', clock: 1, payload: { text: 'Sí' } })
    expect(record.author).toBe(me.did)
    expect(me.keyPair.did).toBe(me.did)
    expect((await verifyRecord(record, { doc: 'proposals/p1' })).ok).toBe(true)
  })

  it('wraps an existing key pair', async () => {
    const key = await keyPairFromJwk(rfc8037Jwk)
    expect(identityFromKeyPair(key).did).toBe(key.did)
  })
})

const stores: Array<[string, () => IdentityStore]> = [
  ['memory', () => memoryIdentityStore()],
  ['indexeddb', () => indexedDbIdentityStore({ dbName: 'test-identity', indexedDB: new IDBFactory() })],
]

for (const [name, make] of stores) {
  describe(`${name} identity store`, () => {
    it('starts empty, then returns what was saved; save replaces', async () => {
      const store = make()
      expect(await store.load()).toBeUndefined()
      await store.save(rfc8037Jwk)
      expect(await store.load()).toEqual(rfc8037Jwk)
      const other = (await createIdentity()).keyPair.exportJwk()
      await store.save(other)
      expect(await store.load()).toEqual(other)
    })

    it('saveIfAbsent keeps the first key', async () => {
      const store = make()
      const first = (await createIdentity()).keyPair.exportJwk()
      const second = (await createIdentity()).keyPair.exportJwk()
      expect(await store.saveIfAbsent?.(first)).toEqual(first)
      expect(await store.saveIfAbsent?.(second)).toEqual(first)
      expect(await store.load()).toEqual(first)
    })

    it('loadOrCreateIdentity creates once, then loads the same identity', async () => {
      const store = make()
      const first = await loadOrCreateIdentity(store)
      const again = await loadOrCreateIdentity(store)
      expect(again.did).toBe(first.did)
      expect((await store.load())?.x).toBe(first.keyPair.publicJwk().x)
    })

    it('two callers racing on an empty store end up with one identity', async () => {
      const store = make()
      const [a, b] = await Promise.all([loadOrCreateIdentity(store), loadOrCreateIdentity(store)])
      expect(a.did).toBe(b.did)
      expect((await loadOrCreateIdentity(store)).did).toBe(a.did)
    })
  })
}

describe('loadOrCreateIdentity', () => {
  it('refuses to replace a stored key that is invalid (E_KEY), and leaves it in place', async () => {
    const broken = { ...rfc8037Jwk, d: 'not-a-key' } as StoredKey
    const store = memoryIdentityStore(broken)
    const err = await loadOrCreateIdentity(store).catch((e: unknown) => e)
    expect(CabildoError.is(err, 'E_KEY')).toBe(true)
    expect(await store.load()).toEqual(broken)
  })

  it('works with a store that has no saveIfAbsent', async () => {
    let saved: StoredKey | undefined
    const plain: IdentityStore = { load: async () => saved, save: async (key) => void (saved = key) }
    const me = await loadOrCreateIdentity(plain)
    expect(saved?.x).toBe(me.keyPair.publicJwk().x)
    expect((await loadOrCreateIdentity(plain)).did).toBe(me.did)
  })

  it('indexedDbIdentityStore fails with E_STORAGE where there is no IndexedDB', async () => {
    const store = indexedDbIdentityStore({ indexedDB: undefined })
    const err = await store.load().catch((e: unknown) => e)
    expect(CabildoError.is(err, 'E_STORAGE')).toBe(true)
  })

  it('indexedDbIdentityStore keeps several identities apart by keyName, in the same database', async () => {
    const factory = new IDBFactory()
    const a = indexedDbIdentityStore({ dbName: 'shared', keyName: 'staff', indexedDB: factory })
    const b = indexedDbIdentityStore({ dbName: 'shared', keyName: 'citizen', indexedDB: factory })
    const [ia, ib] = [await loadOrCreateIdentity(a), await loadOrCreateIdentity(b)]
    expect(ia.did).not.toBe(ib.did)
    expect((await loadOrCreateIdentity(a)).did).toBe(ia.did)
  })
})
