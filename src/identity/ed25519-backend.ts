/**
 * Ed25519 backends: the platform's WebCrypto where it implements Ed25519 and follows cabildo's
 * verification rule, `@noble/curves` (pure JavaScript) everywhere else. Both produce the same
 * keys and the same signatures (Ed25519 signing is deterministic) and accept the same signatures.
 *
 * ```ts
 * import { resolveEd25519Backend } from 'cabildo'
 * const backend = await resolveEd25519Backend()          // detected once, lazily
 * const forced = await resolveEd25519Backend('noble')    // e.g. in tests
 * ```
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToNumberLE } from '@noble/curves/utils.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { fromHexString } from 'lib0/buffer'
import { encodeUtf8 } from 'lib0/string'
import { CabildoError } from '../errors'
import { decodeBase64url, encodeBase64url } from './base64url'
import { conformanceProbes } from './ed25519-rules'

/** The built-in backends. */
export type Ed25519BackendName = 'webcrypto' | 'noble'

/** Signs a message with a key bound in advance. */
export type SignFn = (message: Uint8Array) => Promise<Uint8Array>

/** Verifies a signature of a message against a key bound in advance. */
export type VerifyFn = (message: Uint8Array, signature: Uint8Array) => Promise<boolean>

/**
 * An Ed25519 implementation. A backend receives only keys that passed
 * `publicKeyEncodingProblem` (32 bytes, canonical, not small-order), and must verify by cabildo's
 * rule (`src/identity/ed25519-rules.ts`): `S < L`, then `encode([S]B − [k]A)` equals `R` byte for
 * byte. {@link conformsToRule} tests a backend against known answers.
 */
export interface Ed25519Backend {
  /** A short name, shown in errors and benchmarks. */
  readonly name: string
  /** The 32-byte public key of a 32-byte seed (RFC 8032 section 5.1.5). */
  publicKeyFromSeed(seed: Uint8Array): Promise<Uint8Array>
  /** Prepares signing with a key pair (imports it once, however many messages follow). */
  signer(seed: Uint8Array, publicKey: Uint8Array): Promise<SignFn>
  /** Prepares verification against a public key. */
  verifier(publicKey: Uint8Array): Promise<VerifyFn>
}

/** What callers may ask for: detection, a built-in backend by name, or their own backend. */
export type Ed25519BackendChoice = 'auto' | Ed25519BackendName | Ed25519Backend

const Point = ed25519.Point
type EdPoint = ReturnType<typeof Point.fromBytes>
const L = Point.Fn.ORDER

/**
 * cabildo's rule, step by step as OpenSSL's `ossl_ed25519_verify` does it (see
 * `ed25519-rules.ts`), on noble's point arithmetic. `A` is the key decoded as OpenSSL decodes it,
 * `undefined` when it is not on the curve.
 */
function verifyByRule(A: EdPoint | undefined, key: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (A === undefined || signature.length !== 64) return false
  const s = bytesToNumberLE(signature.subarray(32, 64))
  if (s >= L) return false
  const R = signature.subarray(0, 32)
  // Hash the bytes as given (never re-encoded points), as RFC 8032 5.1.7 and OpenSSL do.
  const k = Point.Fn.create(bytesToNumberLE(sha512.create().update(R).update(key).update(message).digest()))
  const expected = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k)).toBytes()
  for (let i = 0; i < 32; i++) if (expected[i] !== R[i]) return false
  return true
}

/**
 * `@noble/curves` Ed25519 (pure JavaScript, available everywhere), verifying by cabildo's rule
 * instead of noble's own cofactored `verify`: it computes `R'` and compares its encoding with `R`,
 * so it accepts exactly what OpenSSL accepts, for every key.
 */
export const nobleBackend: Ed25519Backend = {
  name: 'noble',
  publicKeyFromSeed: async (seed) => ed25519.getPublicKey(seed),
  signer: async (seed) => {
    const secret = seed.slice()
    return async (message) => ed25519.sign(message, secret)
  },
  verifier: async (publicKey) => {
    const key = publicKey.slice()
    let A: EdPoint | undefined
    try {
      // OpenSSL's decoding (ge_frombytes_vartime) takes y modulo p and accepts x = 0 with either
      // sign bit: noble's ZIP 215 decoding does exactly that. cabildo never passes such
      // encodings (publicKeyEncodingProblem), but the backend matches OpenSSL even for them.
      A = key.length === 32 ? Point.fromBytes(key, true) : undefined
    } catch {
      A = undefined // not on the curve: no signature verifies, as in OpenSSL
    }
    return async (message, signature) => verifyByRule(A, key, message, signature)
  },
}

/** A view typed as WebCrypto wants it (`BufferSource` excludes views on a `SharedArrayBuffer`). */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes)
}

/** The algorithm, named by a string: WebCrypto normalizes it faster than an object. */
const ED25519 = 'Ed25519'

/** RFC 8410 PKCS#8 prefix of an Ed25519 private key: the 32-byte seed follows. */
const PKCS8_PREFIX = fromHexString('302e020100300506032b657004220420')

/**
 * The platform's WebCrypto Ed25519 (Node >= 18.4, Chromium >= 113, Firefox >= 129, Safari >= 17).
 * Creating it checks nothing: {@link resolveEd25519Backend} runs the conformance probes first.
 * @param subtle - the `SubtleCrypto` to use; `globalThis.crypto.subtle` by default.
 * @throws CabildoError `E_KEY` when there is no `SubtleCrypto` at all.
 */
export function webCryptoBackend(subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle): Ed25519Backend {
  if (subtle === undefined) {
    throw new CabildoError('E_KEY', 'WebCrypto is not available on this platform', {
      reason: 'globalThis.crypto.subtle is undefined (not a secure context?)',
    })
  }
  return {
    name: 'webcrypto',
    publicKeyFromSeed: async (seed) => {
      const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + seed.length)
      pkcs8.set(PKCS8_PREFIX)
      pkcs8.set(seed, PKCS8_PREFIX.length)
      const key = await subtle.importKey('pkcs8', pkcs8, ED25519, true, ['sign'])
      const jwk = await subtle.exportKey('jwk', key)
      const x = typeof jwk.x === 'string' ? decodeBase64url(jwk.x, 32) : undefined
      if (x === undefined) throw new CabildoError('E_KEY', 'WebCrypto exported no public key', { reason: 'no x' })
      return x
    },
    signer: async (seed, publicKey) => {
      const jwk = { kty: 'OKP', crv: 'Ed25519', d: encodeBase64url(seed), x: encodeBase64url(publicKey) }
      const key = await subtle.importKey('jwk', jwk, ED25519, false, ['sign'])
      return async (message) => new Uint8Array(await subtle.sign(ED25519, key, own(message)))
    },
    verifier: async (publicKey) => {
      const key = await subtle.importKey('raw', own(publicKey), ED25519, false, ['verify'])
      return (message, signature) => subtle.verify(ED25519, key, own(signature), own(message))
    },
  }
}

/**
 * Runs the known-answer probes of `ed25519-rules.ts` against a backend: true when it accepts the
 * signatures valid under cabildo's rule (two honest ones, one by a key with a torsion component)
 * and rejects the six that only other rules accept. A probe that throws counts as a rejection.
 * Never throws.
 */
export async function conformsToRule(backend: Ed25519Backend): Promise<boolean> {
  const p = conformanceProbes
  const message = encodeUtf8(p.message)
  const cases: ReadonlyArray<[publicKey: string, message: Uint8Array, signature: string, valid: boolean]> = [
    [p.publicKey, encodeUtf8(p.rfc8032.message), p.rfc8032.signature, true],
    [p.publicKey, message, p.honest, true],
    [p.torsionKey.publicKey, message, p.torsionKey.cofactorless, true],
    [p.publicKey, message, p.torsionR, false],
    [p.publicKey, message, p.nonCanonicalR, false],
    [p.publicKey, message, p.signedZeroR, false],
    [p.publicKey, message, p.unreducedS, false],
    [p.torsionKey.publicKey, message, p.torsionKey.cofactoredOnly, false],
    [p.offCurveKey.publicKey, message, p.offCurveKey.signature, false],
  ]
  const answers = await Promise.all(
    cases.map(async ([publicKey, m, signature, valid]) => {
      try {
        const verify = await backend.verifier(fromHexString(publicKey))
        return (await verify(m, fromHexString(signature))) === valid
      } catch {
        return valid === false
      }
    }),
  )
  return answers.every(Boolean)
}

// Platform facts, probed at most once per realm, on first use.
let webCryptoProbe: Promise<Ed25519Backend | undefined> | undefined

function probeWebCrypto(): Promise<Ed25519Backend | undefined> {
  webCryptoProbe ??= (async () => {
    try {
      const backend = webCryptoBackend()
      return (await conformsToRule(backend)) ? backend : undefined
    } catch {
      return undefined
    }
  })()
  return webCryptoProbe
}

/**
 * The backend to use on this platform: WebCrypto when it implements Ed25519 by cabildo's rule,
 * noble otherwise. Detected once, on the first call.
 */
export async function detectEd25519Backend(): Promise<Ed25519Backend> {
  return (await probeWebCrypto()) ?? nobleBackend
}

/**
 * Turns a {@link Ed25519BackendChoice} into a backend.
 * @throws CabildoError `E_KEY` when `'webcrypto'` is asked for and the platform's WebCrypto has
 * no Ed25519 or does not follow cabildo's verification rule.
 */
export async function resolveEd25519Backend(choice: Ed25519BackendChoice = 'auto'): Promise<Ed25519Backend> {
  if (typeof choice === 'object') return choice
  if (choice === 'noble') return nobleBackend
  if (choice === 'auto') return detectEd25519Backend()
  const backend = await probeWebCrypto()
  if (backend === undefined) {
    throw new CabildoError('E_KEY', 'WebCrypto Ed25519 is not usable on this platform', {
      reason: 'missing, or fails the conformance probes of cabildo verification rule',
    })
  }
  return backend
}
