/**
 * `did:key` identifiers of Ed25519 public keys (W3C CCG, "The did:key Method"): the key itself is
 * the identifier, so anyone can check a signature offline without a registry.
 *
 * ```ts
 * import { didFromPublicKey, publicKeyFromDid } from 'cabildo'
 * const did = didFromPublicKey(publicKey) // 'did:key:z6Mk…'
 * publicKeyFromDid(did)                   // the same 32 bytes
 * ```
 *
 * Layout: `did:key:` + `z` (multibase: base58btc) + base58btc(`0xed 0x01` ‖ 32-byte key), where
 * `0xed 0x01` is the unsigned-varint multicodec code 0xed, `ed25519-pub`. Every Ed25519 did:key
 * therefore starts with `did:key:z6Mk`.
 * @module
 */
import { CabildoError } from '../errors'
import { decodeBase58btc, encodeBase58btc } from './base58btc'
import { publicKeyProblem } from './ed25519-rules'

/** The prefix of every did:key with multibase base58btc. */
const DID_KEY_PREFIX = 'did:key:z'

/** The unsigned-varint multicodec prefix of `ed25519-pub` (code 0xed). */
const ED25519_PUB = [0xed, 0x01] as const

/**
 * The shape of an Ed25519 did:key: every 34-byte value with the `0xed01` header is 47 base58btc
 * characters beginning `6Mk`.
 */
const DID_KEY_SYNTAX = /^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/

function fail(reason: string): never {
  throw new CabildoError('E_KEY', `Not an Ed25519 did:key: ${reason}`, { reason })
}

/**
 * The did:key of a 32-byte Ed25519 public key.
 * @throws CabildoError `E_KEY` when the key is not 32 bytes.
 */
export function didFromPublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) fail(`public key must be 32 bytes, got ${publicKey.length}`)
  const bytes = new Uint8Array(34)
  bytes.set(ED25519_PUB)
  bytes.set(publicKey, 2)
  return DID_KEY_PREFIX + encodeBase58btc(bytes)
}

/**
 * The raw bytes inside an Ed25519 did:key, checking its syntax only (no curve arithmetic).
 * @throws CabildoError `E_KEY` when the string is not an Ed25519 did:key.
 */
export function decodeDidKey(did: string): Uint8Array {
  if (typeof did !== 'string' || !did.startsWith(DID_KEY_PREFIX)) fail('must start with "did:key:z"')
  let bytes: Uint8Array
  try {
    bytes = decodeBase58btc(did.slice(DID_KEY_PREFIX.length))
  } catch {
    fail('the multibase value is not base58btc')
  }
  if (bytes[0] !== ED25519_PUB[0] || bytes[1] !== ED25519_PUB[1]) fail('the multicodec is not ed25519-pub (0xed)')
  if (bytes.length !== 34) fail(`an ed25519-pub key is 32 bytes, got ${bytes.length - 2}`)
  return bytes.slice(2)
}

/**
 * The 32 bytes inside a string with the syntax of an Ed25519 did:key, or `undefined` for any
 * other value; never throws. {@link isDidKey} is `tryDecodeDidKey(value) !== undefined`.
 */
export function tryDecodeDidKey(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || !DID_KEY_SYNTAX.test(value)) return undefined
  try {
    return decodeDidKey(value)
  } catch {
    return undefined
  }
}

/**
 * The Ed25519 public key of a did:key, checked to be a usable key under cabildo's rule (a
 * canonical encoding of a curve point that is not of small order; see `publicKeyProblem`). The
 * check decompresses the point (a fraction of a millisecond); verifiers do not need it.
 * @throws CabildoError `E_KEY` when the string is not an Ed25519 did:key or the key is unusable.
 */
export function publicKeyFromDid(did: string): Uint8Array {
  const publicKey = decodeDidKey(did)
  const problem = publicKeyProblem(publicKey)
  if (problem !== undefined) fail(`the key is ${problem}`)
  return publicKey
}

/**
 * True when a string has the syntax of an Ed25519 did:key (no curve check; use
 * {@link publicKeyFromDid} to know the key is usable). Cheap enough for schema validation.
 */
export function isDidKey(value: unknown): value is string {
  return tryDecodeDidKey(value) !== undefined
}
