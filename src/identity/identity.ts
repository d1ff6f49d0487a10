/**
 * An identity: a key pair, its did, and a way to sign records. Apps make or load one with a
 * single call and never have to touch key bytes.
 *
 * ```ts
 * import { loadOrCreateIdentity, memoryIdentityStore } from 'cabildo'
 * const me = await loadOrCreateIdentity(memoryIdentityStore())
 * const record = await me.sign({ type: 'comment', doc: 'proposals/p1', clock: 1, payload: { text: 'Yes!' } })
 * record.author === me.did // true
 * ```
 * @module
 */
import type { IdentityStore } from './identity-store'
import { generateKeyPair, keyPairFromJwk, type KeyPair, type KeyPairOptions } from './keys'
import { signRecord, type SignedRecord, type UnsignedRecord } from './signed-record'

/** A signer of records: a key pair and its did. */
export interface Identity {
  /** The `did:key` that appears as `author` in this identity's records. */
  readonly did: string
  /** The key pair, for apps that need raw keys (export, backup). */
  readonly keyPair: KeyPair
  /**
   * Signs a record body as this identity (`author` and `v` are filled in).
   * @throws CabildoError see {@link signRecord}.
   */
  sign<P>(body: UnsignedRecord<P>): Promise<SignedRecord<P>>
}

/** Wraps a key pair as an {@link Identity}. */
export function identityFromKeyPair(keyPair: KeyPair): Identity {
  return {
    did: keyPair.did,
    keyPair,
    sign: (body) => signRecord(keyPair, body),
  }
}

/**
 * A new identity with a fresh random key (not stored anywhere: see {@link loadOrCreateIdentity}).
 * @throws CabildoError `E_KEY` when the platform has no cryptographic randomness.
 */
export async function createIdentity(options: KeyPairOptions = {}): Promise<Identity> {
  return identityFromKeyPair(await generateKeyPair(options))
}

/**
 * The identity kept in a store, or a new one, saved there first. When the store supports
 * `saveIfAbsent`, two callers racing on an empty store get the same identity.
 *
 * A store holding something that is not a valid key is an error, not a reason to make a new
 * identity: replacing it silently would lose the old one.
 * @throws CabildoError `E_KEY` when the stored key is invalid, `E_STORAGE` when the store fails.
 */
export async function loadOrCreateIdentity(store: IdentityStore, options: KeyPairOptions = {}): Promise<Identity> {
  const stored = await store.load()
  if (stored !== undefined) return identityFromKeyPair(await keyPairFromJwk(stored, options))
  const fresh = await generateKeyPair(options)
  if (store.saveIfAbsent === undefined) {
    await store.save(fresh.exportJwk())
    return identityFromKeyPair(fresh)
  }
  const kept = await store.saveIfAbsent(fresh.exportJwk())
  // Another tab or process saved its key first: use that one.
  if (kept.d === fresh.exportJwk().d) return identityFromKeyPair(fresh)
  return identityFromKeyPair(await keyPairFromJwk(kept, options))
}
