/**
 * The signature check the ingress guard uses: Ed25519 by the identity layer's backend and rules,
 * with each author's prepared key cached (bounded), so a busy document does not re-import keys.
 * @module
 */
import { publicKeyFromDid } from '../identity/did-key'
import { resolveEd25519Backend, type Ed25519BackendChoice, type VerifyFn } from '../identity/ed25519-backend'
import type { SignatureCheck } from './envelope-signing'

/**
 * A {@link SignatureCheck} over the identity layer's Ed25519 backend. Never throws for a bad
 * did, key or signature: the answer is `false`.
 * @param options.backend - which backend (detected by default)
 * @param options.keyCacheSize - how many authors' prepared keys to keep (default 10,000)
 */
export function createSignatureCheck(options: { backend?: Ed25519BackendChoice; keyCacheSize?: number } = {}): SignatureCheck {
  const backend = resolveEd25519Backend(options.backend ?? 'auto')
  const limit = options.keyCacheSize ?? 10_000
  const keys = new Map<string, Promise<VerifyFn | undefined>>()
  const keyFor = (did: string): Promise<VerifyFn | undefined> => {
    let entry = keys.get(did)
    if (entry) {
      keys.delete(did)
      keys.set(did, entry) // most recently used last
      return entry
    }
    entry = (async () => {
      try {
        return await (await backend).verifier(publicKeyFromDid(did))
      } catch {
        return undefined
      }
    })()
    keys.set(did, entry)
    if (keys.size > limit) keys.delete(keys.keys().next().value as string)
    return entry
  }
  return async (did, message, signature) => {
    if (signature.length !== 64) return false
    const verify = await keyFor(did)
    if (!verify) return false
    try {
      return await verify(message, signature)
    } catch {
      return false
    }
  }
}
