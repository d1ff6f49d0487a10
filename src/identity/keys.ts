/**
 * Ed25519 key pairs for districts, staff and citizens, and their portable forms: the 32-byte seed
 * and public key, and JSON Web Keys (RFC 8037: `kty: 'OKP'`, `crv: 'Ed25519'`).
 *
 * ```ts
 * import { generateKeyPair, keyPairFromJwk } from 'cabildo'
 * const key = await generateKeyPair()
 * key.did                                  // 'did:key:z6Mk…'
 * const jwk = key.exportJwk()              // keep it secret: it holds the seed in `d`
 * const same = await keyPairFromJwk(jwk)   // same.did === key.did
 * ```
 *
 * A key pair signs with the backend it was made with (WebCrypto or noble, see
 * `ed25519-backend.ts`); the bytes it produces do not depend on the backend.
 * @module
 */
import { z } from 'zod'
import { CabildoError } from '../errors'
import { decodeBase64url, encodeBase64url } from './base64url'
import { didFromPublicKey } from './did-key'
import { resolveEd25519Backend, type Ed25519Backend, type Ed25519BackendChoice, type SignFn } from './ed25519-backend'
import { publicKeyProblem } from './ed25519-rules'

/** A public Ed25519 JSON Web Key (RFC 8037 section 2). */
export interface Ed25519PublicJwk {
  readonly kty: 'OKP'
  readonly crv: 'Ed25519'
  /** The public key, base64url. */
  readonly x: string
}

/** A private Ed25519 JSON Web Key: the public members plus the seed. Keep it secret. */
export interface Ed25519PrivateJwk extends Ed25519PublicJwk {
  /** The 32-byte seed ("private key" in RFC 8032), base64url. */
  readonly d: string
}

/** Options of the functions that make key pairs. */
export interface KeyPairOptions {
  /** Which Ed25519 implementation signs; detected by default. */
  readonly backend?: Ed25519BackendChoice
}

/**
 * An Ed25519 key pair. The seed stays inside: it leaves only through {@link KeyPair.exportSeed}
 * and {@link KeyPair.exportJwk}, and `JSON.stringify(keyPair)` shows the public half only.
 */
export interface KeyPair {
  /** The `did:key` of the public key: the signer's identifier in records. */
  readonly did: string
  /** The 32-byte public key (a copy: changing it changes nothing). */
  readonly publicKey: Uint8Array
  /** The name of the backend that signs. */
  readonly backend: string
  /** Signs bytes (RFC 8032 Ed25519, deterministic: same key and message, same signature). */
  sign(message: Uint8Array): Promise<Uint8Array>
  /** A copy of the 32-byte seed. */
  exportSeed(): Uint8Array
  /** The private JWK (`d` and `x`), e.g. to keep in an identity store. */
  exportJwk(): Ed25519PrivateJwk
  /** The public JWK. */
  publicJwk(): Ed25519PublicJwk
}

class Ed25519KeyPair implements KeyPair {
  readonly did: string
  readonly #seed: Uint8Array
  readonly #publicKey: Uint8Array
  readonly #backend: Ed25519Backend
  #signer: Promise<SignFn> | undefined

  constructor(seed: Uint8Array, publicKey: Uint8Array, backend: Ed25519Backend) {
    this.#seed = seed
    this.#publicKey = publicKey
    this.#backend = backend
    this.did = didFromPublicKey(publicKey)
  }

  get publicKey(): Uint8Array {
    return this.#publicKey.slice()
  }

  get backend(): string {
    return this.#backend.name
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    // Import the key into the backend once; a failed import is retried on the next call.
    this.#signer ??= this.#backend.signer(this.#seed, this.#publicKey).catch((err: unknown) => {
      this.#signer = undefined
      throw new CabildoError('E_KEY', 'The signing backend refused the key', { reason: String(err) }, { cause: err })
    })
    return (await this.#signer)(message)
  }

  exportSeed(): Uint8Array {
    return this.#seed.slice()
  }

  exportJwk(): Ed25519PrivateJwk {
    return { ...this.publicJwk(), d: encodeBase64url(this.#seed) }
  }

  publicJwk(): Ed25519PublicJwk {
    return publicKeyToJwk(this.#publicKey)
  }

  toJSON(): { did: string } {
    return { did: this.did }
  }
}

function keyError(reason: string, path?: ReadonlyArray<string>): CabildoError<'E_KEY'> {
  return new CabildoError('E_KEY', `Bad Ed25519 key material: ${reason}`, { reason }, path ? { path } : {})
}

/**
 * A key pair from a 32-byte seed (RFC 8032's private key). The same seed gives the same key pair
 * on every backend and platform.
 * @throws CabildoError `E_KEY` when the seed is not 32 bytes or the backend refuses it.
 */
export async function keyPairFromSeed(seed: Uint8Array, options: KeyPairOptions = {}): Promise<KeyPair> {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw keyError(`a seed is 32 bytes, got ${seed instanceof Uint8Array ? seed.length : typeof seed}`)
  }
  const backend = await resolveEd25519Backend(options.backend)
  const own = seed.slice()
  let publicKey: Uint8Array
  try {
    publicKey = await backend.publicKeyFromSeed(own)
  } catch (err) {
    throw new CabildoError('E_KEY', 'The backend could not derive the public key', { reason: String(err) }, { cause: err })
  }
  return new Ed25519KeyPair(own, publicKey, backend)
}

/**
 * A new key pair from 32 bytes of the platform's cryptographic randomness.
 * @throws CabildoError `E_KEY` when the platform has no `crypto.getRandomValues`.
 */
export async function generateKeyPair(options: KeyPairOptions = {}): Promise<KeyPair> {
  const random = globalThis.crypto?.getRandomValues?.bind(globalThis.crypto)
  if (random === undefined) throw keyError('no cryptographic random source (globalThis.crypto.getRandomValues)')
  return keyPairFromSeed(random(new Uint8Array(32)), options)
}

const jwkSchema = z.looseObject({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string(),
  d: z.string().optional(),
})

function parseJwk(jwk: unknown): z.infer<typeof jwkSchema> {
  const parsed = jwkSchema.safeParse(jwk)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = (issue?.path ?? []).map(String)
    throw keyError(`not an Ed25519 JWK (${path.join('.') || 'value'}: ${issue?.message ?? 'invalid'})`, path)
  }
  return parsed.data
}

/**
 * The public key of a public or private Ed25519 JWK, checked to be usable under cabildo's rule.
 * @throws CabildoError `E_KEY` when the JWK is not an Ed25519 key or `x` is not a usable key.
 */
export function publicKeyFromJwk(jwk: unknown): Uint8Array {
  const { x } = parseJwk(jwk)
  const publicKey = decodeBase64url(x, 32)
  if (publicKey === undefined) throw keyError('"x" is not 32 bytes of canonical base64url', ['x'])
  const problem = publicKeyProblem(publicKey)
  if (problem !== undefined) throw keyError(`"x" is ${problem}`, ['x'])
  return publicKey
}

/** The public JWK of a 32-byte public key. */
export function publicKeyToJwk(publicKey: Uint8Array): Ed25519PublicJwk {
  return { kty: 'OKP', crv: 'Ed25519', x: encodeBase64url(publicKey) }
}

/**
 * A key pair from a private Ed25519 JWK (RFC 8037: `d` is the seed, `x` its public key). Other
 * members (`kid`, `alg`, `use`, ...) are ignored.
 * @throws CabildoError `E_KEY` when the JWK is malformed, has no `d`, or `x` is not the public key of `d`.
 */
export async function keyPairFromJwk(jwk: unknown, options: KeyPairOptions = {}): Promise<KeyPair> {
  const { d, x } = parseJwk(jwk)
  if (d === undefined) throw keyError('a private JWK needs "d" (this is a public key)', ['d'])
  const seed = decodeBase64url(d, 32)
  if (seed === undefined) throw keyError('"d" is not 32 bytes of canonical base64url', ['d'])
  const keyPair = await keyPairFromSeed(seed, options)
  if (keyPair.publicJwk().x !== x) throw keyError('"x" is not the public key of "d"', ['x'])
  return keyPair
}
