import { ed25519 } from '@noble/curves/ed25519.js'
import { describe, expect, it } from 'vitest'
import { CabildoError } from '../../src/errors'
import { encodeBase58btc } from '../../src/identity/base58btc'
import { decodeDidKey, didFromPublicKey, isDidKey, publicKeyFromDid, tryDecodeDidKey } from '../../src/identity/did-key'
import { keyPairFromSeed } from '../../src/identity/keys'
import { base58Reference, didKeySpecExample, didKeyVectors, hex } from './fixtures'

function expectKeyError(fn: () => unknown): void {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  expect(CabildoError.is(caught, 'E_KEY')).toBe(true)
}

describe('did:key', () => {
  it('encodes and decodes the did:key specification example (did ↔ JWK x)', () => {
    const publicKey = new Uint8Array(Buffer.from(didKeySpecExample.x, 'base64url'))
    expect(didFromPublicKey(publicKey)).toBe(didKeySpecExample.did)
    expect(publicKeyFromDid(didKeySpecExample.did)).toEqual(publicKey)
  })

  it('matches the W3C CCG test vectors: seed → did, and did → publicKeyBase58', async () => {
    for (const v of didKeyVectors) {
      const publicKey = base58Reference(v.publicKeyBase58)
      expect(didFromPublicKey(publicKey)).toBe(v.did)
      expect(publicKeyFromDid(v.did)).toEqual(publicKey)
      for (const backend of ['noble', 'webcrypto'] as const) {
        const key = await keyPairFromSeed(hex(v.seed), { backend })
        expect(key.did).toBe(v.did)
      }
    }
  })

  it('puts the ed25519-pub multicodec varint 0xed 0x01 before the key', () => {
    const bytes = base58Reference(didKeySpecExample.did.slice('did:key:z'.length))
    expect([...bytes.slice(0, 2)]).toEqual([0xed, 0x01])
    expect(bytes.length).toBe(34)
    expect(decodeDidKey(didKeySpecExample.did)).toEqual(bytes.slice(2))
  })

  it('rejects malformed identifiers with E_KEY', () => {
    const cases = [
      '',
      'did:web:example.com',
      'did:key:6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp', // no multibase prefix
      'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0', // '0' is not base58
      'did:key:zTjsVPtY', // too short for an Ed25519 key (did-key-test-suite)
      // secp256k1 did:key (multicodec 0xe7): a valid did:key, but not Ed25519
      'did:key:zQ3shQo6TF2moaqMTrUZEM1jeuYRQXeHEx4evX9751y2qPqRA',
      // 33-byte key with the right header
      'did:key:z' + encodeBase58btc(new Uint8Array([0xed, 0x01, ...new Uint8Array(33).fill(7)])),
      didKeySpecExample.did + '#' + didKeySpecExample.did.slice(8), // a DID URL, not a DID
    ]
    for (const did of cases) {
      expectKeyError(() => decodeDidKey(did))
      expect(isDidKey(did)).toBe(false)
    }
  })

  it('refuses keys that are not usable under the rule (small-order, off-curve, non-canonical), and accepts keys with a torsion component', () => {
    const identity = hex('0100000000000000000000000000000000000000000000000000000000000000')
    const order8 = hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05')
    // y = p + 1: a non-canonical spelling of the identity.
    const nonCanonical = hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')
    // y = 2 is not the y of any curve point.
    const offCurve = hex('0200000000000000000000000000000000000000000000000000000000000000')
    for (const bytes of [identity, order8, nonCanonical, offCurve]) {
      const did = didFromPublicKey(bytes)
      expect(isDidKey(did)).toBe(true) // syntax is fine
      expectKeyError(() => publicKeyFromDid(did))
    }
    // An honest key plus a point of order 8: outside the prime-order subgroup, but the verification
    // rule treats it identically on every backend, so it is usable (test/identity/ed25519-backend.test.ts).
    const base = ed25519.Point.BASE.multiply(12345n)
    const mixed = base.add(ed25519.Point.fromBytes(order8)).toBytes()
    expect(publicKeyFromDid(didFromPublicKey(mixed))).toEqual(mixed)
    expect(publicKeyFromDid(didFromPublicKey(base.toBytes()))).toEqual(base.toBytes())
  })

  it('tryDecodeDidKey returns the key bytes exactly when isDidKey holds, and never throws', () => {
    const cases: unknown[] = [didKeySpecExample.did, 'did:key:z6Mk' + 'z'.repeat(44), 'did:web:x', 42, null, didKeySpecExample.did + 'x']
    for (const value of cases) {
      const bytes = tryDecodeDidKey(value)
      expect(bytes !== undefined).toBe(isDidKey(value))
      if (bytes !== undefined) expect(bytes).toEqual(decodeDidKey(value as string))
    }
  })

  it('refuses public keys that are not 32 bytes when encoding', () => {
    expectKeyError(() => didFromPublicKey(new Uint8Array(31)))
  })
})
