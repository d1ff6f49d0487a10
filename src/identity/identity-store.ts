/**
 * Where an app keeps its identity's key between sessions: one small interface, with a memory
 * store (`memory-identity-store.ts`), an IndexedDB store for browsers
 * (`indexeddb-identity-store.ts`) and a file store for Node (`cabildo/node`).
 *
 * ```ts
 * import { loadOrCreateIdentity, indexedDbIdentityStore } from 'cabildo'
 * const me = await loadOrCreateIdentity(indexedDbIdentityStore({ dbName: 'my-app' }))
 * ```
 * @module
 */
import type { Ed25519PrivateJwk } from './keys'

/** What a store keeps: the private JWK of the key pair (RFC 8037: `kty`, `crv`, `x`, `d`). */
export type StoredKey = Ed25519PrivateJwk

/** A place that keeps one identity key. */
export interface IdentityStore {
  /**
   * The stored key, or `undefined` when none was saved yet.
   * @throws CabildoError `E_STORAGE` when the store cannot be read, `E_KEY` when what it holds is not a key.
   */
  load(): Promise<StoredKey | undefined>
  /**
   * Stores a key, replacing any stored one. Durable when the promise resolves.
   * @throws CabildoError `E_STORAGE` when the key cannot be written.
   */
  save(key: StoredKey): Promise<void>
  /**
   * Optional: stores `key` only if no key is stored, atomically, and returns the key stored in the
   * end (the given one, or the one that was already there). `loadOrCreateIdentity` uses it so that
   * two tabs or processes starting at once end up with one identity, not two.
   * @throws CabildoError `E_STORAGE` when the store cannot be read or written.
   */
  saveIfAbsent?(key: StoredKey): Promise<StoredKey>
}
