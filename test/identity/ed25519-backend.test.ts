import { ed25519 } from '@noble/curves/ed25519.js'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  conformsToRule,
  nobleBackend,
  resolveEd25519Backend,
  webCryptoBackend,
  type Ed25519Backend,
} from '../../src/identity/ed25519-backend'
import { conformanceProbes } from '../../src/identity/ed25519-rules'
import { craftKey, craftSignature, encodingsOf, L, le, le32, torsion } from './ed25519-craft'
import { hex, rfc8032 } from './fixtures'

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('Ed25519 backends', () => {
  const backends: Array<[string, () => Promise<Ed25519Backend>]> = [
    ['noble', async () => nobleBackend],
    ['webcrypto', async () => webCryptoBackend()],
  ]

  for (const [name, make] of backends) {
    it(`${name}: derives RFC 8032 public keys and signatures exactly, and verifies them`, async () => {
      const backend = await make()
      for (const v of rfc8032) {
        expect(toHex(await backend.publicKeyFromSeed(hex(v.seed)))).toBe(v.publicKey)
        const sign = await backend.signer(hex(v.seed), hex(v.publicKey))
        expect(toHex(await sign(hex(v.message)))).toBe(v.signature)
        const verify = await backend.verifier(hex(v.publicKey))
        expect(await verify(hex(v.message), hex(v.signature))).toBe(true)
        expect(await verify(utf8('another message'), hex(v.signature))).toBe(false)
      }
    })

    it(`${name}: follows cabildo's verification rule on the conformance probes`, async () => {
      expect(await conformsToRule(await make())).toBe(true)
    })
  }

  it('the probes are what their comments say they are (rebuilt from scratch with node:crypto SHA-512)', () => {
    const P = ed25519.Point
    const L = P.Fn.ORDER
    const le = (b: Uint8Array): bigint => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n)
    const le32 = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 255n))
    const sha512 = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(createHash('sha512').update(Buffer.concat(parts)).digest())
    const seed = hex(rfc8032[0].seed)
    const A = hex(rfc8032[0].publicKey)
    // RFC 8032, 5.1.5: the secret scalar is the clamped first half of SHA-512(seed).
    const h = sha512(seed).slice(0, 32)
    h[0] = (h[0] as number) & 248
    h[31] = ((h[31] as number) & 127) | 64
    const a = le(h)
    const M = utf8(conformanceProbes.message)
    const sign = (R: Uint8Array, r: bigint): Uint8Array => {
      const k = le(sha512(R, A, M)) % L
      return new Uint8Array([...R, ...le32((r + k * a) % L)])
    }
    expect(toHex(P.BASE.multiply(a % L).toBytes())).toBe(conformanceProbes.publicKey)

    const T = P.fromBytes(hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'))
    expect(T.multiplyUnsafe(8n).is0() && !T.is0()).toBe(true)
    const r = le(sha512(utf8('cabildo/probe/nonce'))) % L
    expect(toHex(sign(P.BASE.multiply(r).add(T).toBytes(), r))).toBe(conformanceProbes.torsionR)

    const identityAsPPlus1 = le32(2n ** 255n - 19n + 1n)
    expect(toHex(sign(identityAsPPlus1, 0n))).toBe(conformanceProbes.nonCanonicalR)

    const honest = hex(conformanceProbes.honest)
    expect(toHex(ed25519.sign(M, seed))).toBe(conformanceProbes.honest)
    const bigS = new Uint8Array([...honest.slice(0, 32), ...le32(le(honest.slice(32)) + L)])
    expect(toHex(bigS)).toBe(conformanceProbes.unreducedS)

    const identityWithSignBit = le32(1n | (1n << 255n))
    expect(toHex(sign(identityWithSignBit, 0n))).toBe(conformanceProbes.signedZeroR)

    // The torsion key and its two signatures, by the derivations written in ed25519-rules.ts.
    const A2 = P.fromBytes(A).add(T).toBytes()
    expect(toHex(A2)).toBe(conformanceProbes.torsionKey.publicKey)
    const k2 = (R: Uint8Array): bigint => le(sha512(R, A2, M)) % L
    let cofactorless: Uint8Array | undefined
    for (let n = 0; cofactorless === undefined; n++) {
      const rn = le(sha512(utf8(`cabildo/probe/torsion-key/${n}`))) % L
      for (const c of [1n, 3n, 5n, 7n]) {
        const R = P.BASE.multiply(rn).subtract(T.multiplyUnsafe(c)).toBytes()
        if (k2(R) % 8n === c) {
          cofactorless = new Uint8Array([...R, ...le32((rn + k2(R) * a) % L)])
          break
        }
      }
    }
    expect(toHex(cofactorless)).toBe(conformanceProbes.torsionKey.cofactorless)
    let cofactoredOnly: Uint8Array | undefined
    for (let n = 0; cofactoredOnly === undefined; n++) {
      const rn = le(sha512(utf8(`cabildo/probe/torsion-key-cofactored/${n}`))) % L
      const R = P.BASE.multiply(rn).toBytes()
      if (k2(R) % 8n !== 0n) cofactoredOnly = new Uint8Array([...R, ...le32((rn + k2(R) * a) % L)])
    }
    expect(toHex(cofactoredOnly)).toBe(conformanceProbes.torsionKey.cofactoredOnly)
    // Both are valid under the cofactored equation (ZIP 215); the rule accepts only the first.
    for (const sig of [cofactorless, cofactoredOnly]) expect(ed25519.verify(sig, M, A2, { zip215: true })).toBe(true)

    // y = 2 is the y of no curve point; R = B, S = 1 would verify for the identity key.
    expect(conformanceProbes.offCurveKey.publicKey).toBe(toHex(le32(2n)))
    expect(() => P.fromBytes(hex(conformanceProbes.offCurveKey.publicKey), true)).toThrow()
    expect(conformanceProbes.offCurveKey.signature).toBe(toHex(new Uint8Array([...P.BASE.toBytes(), ...le32(1n)])))
  })

  it("the probes catch rules other than cabildo's: cofactored (ZIP 215 or strict), torsion-free R, lax R, unchecked S", async () => {
    const P = ed25519.Point
    const sha512 = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(createHash('sha512').update(Buffer.concat(parts)).digest())
    const variant = (name: string, verify: (pk: Uint8Array, m: Uint8Array, sig: Uint8Array) => boolean): Ed25519Backend => ({
      ...nobleBackend,
      name,
      verifier: async (publicKey) => async (message, signature) => {
        try {
          return verify(publicKey, message, signature)
        } catch {
          return false
        }
      },
    })
    // Cofactorless, but comparing points after decoding R laxly; optionally without the S < L check.
    const pointsEqual = (checkS: boolean) => (pk: Uint8Array, m: Uint8Array, sig: Uint8Array): boolean => {
      const s = le(sig.subarray(32))
      if (checkS && s >= L) return false
      const k = le(sha512(sig.subarray(0, 32), pk, m)) % L
      const R = P.fromBytes(sig.subarray(0, 32), true)
      return P.BASE.multiplyUnsafe(s % L).subtract(P.fromBytes(pk, true).multiplyUnsafe(k)).equals(R)
    }
    const others = [
      variant('zip215', (pk, m, sig) => ed25519.verify(sig, m, pk, { zip215: true })),
      variant('strict', (pk, m, sig) => ed25519.verify(sig, m, pk, { zip215: false })),
      // The rule cabildo had before: strict, and R torsion-free (right for torsion-free keys only).
      variant('torsion-free-R', (pk, m, sig) => ed25519.verify(sig, m, pk, { zip215: false }) && P.fromBytes(sig.subarray(0, 32)).isTorsionFree()),
      variant('lax-R', pointsEqual(true)),
      // Canonical R, but S taken modulo L.
      variant('unchecked-S', (pk, m, sig) => pointsEqual(false)(pk, m, sig) && toHex(P.fromBytes(sig.subarray(0, 32)).toBytes()) === toHex(sig.subarray(0, 32))),
    ]
    for (const other of others) expect([other.name, await conformsToRule(other)]).toEqual([other.name, false])
  })

  it('noble and WebCrypto (both forced) agree on crafted inputs: torsion keys and R, non-canonical encodings, S >= L', async () => {
    const web = webCryptoBackend()
    const tally = { valid: 0, torsionKeyValid: 0, nonCanonicalKeyValid: 0, invalid: 0 }
    const mutations = ['none', 'S+L', 'S|2^255', 'R re-encoded', 'message'] as const
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: L - 1n })),
        fc.nat(7),
        fc.nat(3),
        fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: L - 1n })),
        fc.nat(7),
        fc.constantFrom(...mutations),
        fc.uint8Array({ maxLength: 48 }),
        async (a, t, variant, r, c, mutation, message) => {
          const key = craftKey(a, t, variant)
          const crafted = craftSignature(key, message, r, c, 8)
          let signature = crafted.signature
          let expected: boolean | undefined = crafted.valid
          if (mutation === 'S+L') {
            signature = new Uint8Array([...signature.slice(0, 32), ...le32(le(signature.slice(32)) + L)])
            expected = false
          } else if (mutation === 'S|2^255') {
            signature = signature.slice()
            signature[63] = (signature[63] as number) | 0x80
            expected = false
          } else if (mutation === 'R re-encoded') {
            const other = encodingsOf(crafted.R).find((e) => toHex(e) !== toHex(signature.subarray(0, 32)))
            if (other !== undefined) {
              signature = new Uint8Array([...other, ...signature.slice(32)])
              expected = false // a non-canonical R never equals the encoding of R'
            }
          } else if (mutation === 'message') {
            message = new Uint8Array([...message, 1])
            expected = undefined // whatever the answer, both backends must give it
          }
          const answers = [
            await (await nobleBackend.verifier(key.bytes))(message, signature),
            await (await web.verifier(key.bytes))(message, signature),
          ]
          expect(answers[0]).toBe(answers[1])
          if (expected !== undefined) expect(answers[0]).toBe(expected)
          if (answers[0]) {
            tally.valid++
            if (!key.T.equals(torsion[0] as typeof key.T)) tally.torsionKeyValid++
            if (toHex(key.bytes) !== toHex(key.point.toBytes())) tally.nonCanonicalKeyValid++
          } else tally.invalid++
        },
      ),
      { seed: 42, numRuns: 160 },
    )
    // The property saw both answers, including valid signatures by torsion and non-canonical keys.
    expect(tally.valid).toBeGreaterThan(20)
    expect(tally.torsionKeyValid).toBeGreaterThan(10)
    expect(tally.nonCanonicalKeyValid).toBeGreaterThan(0)
    expect(tally.invalid).toBeGreaterThan(20)
  })

  it('noble and WebCrypto (both forced) agree on arbitrary key and signature bytes', async () => {
    const web = webCryptoBackend()
    const points = fc.constantFrom(...torsion.map((t) => t.toBytes()), ed25519.Point.BASE.toBytes())
    const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
    await fc.assert(
      fc.asyncProperty(fc.oneof(bytes32, points), fc.oneof(bytes32, points), bytes32, fc.uint8Array({ maxLength: 16 }), async (pk, R, S, message) => {
        const signature = new Uint8Array([...R, ...S])
        const [vn, vw] = [await nobleBackend.verifier(pk), await web.verifier(pk)]
        expect(await vn(message, signature)).toBe(await vw(message, signature))
      }),
      { seed: 7, numRuns: 150 },
    )
  })

  it('both backends give identical keys and signatures, and agree on every mutated signature', async () => {
    const web = webCryptoBackend()
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(63),
        fc.integer({ min: 1, max: 255 }),
        async (seed, message, at, flip) => {
          const pub = await nobleBackend.publicKeyFromSeed(seed)
          expect(await web.publicKeyFromSeed(seed)).toEqual(pub)
          const sig = await (await nobleBackend.signer(seed, pub))(message)
          expect(await (await web.signer(seed, pub))(message)).toEqual(sig)
          const bad = sig.slice()
          bad[at] = (bad[at] as number) ^ flip
          const [vn, vw] = [await nobleBackend.verifier(pub), await web.verifier(pub)]
          expect([await vn(message, sig), await vw(message, sig)]).toEqual([true, true])
          expect([await vn(message, bad), await vw(message, bad)]).toEqual([false, false])
        },
      ),
      { seed: 42, numRuns: 40 },
    )
  })

  describe('selection', () => {
    afterEach(() => {
      vi.unstubAllGlobals()
      vi.resetModules()
    })

    it("'auto' picks WebCrypto exactly when the platform's WebCrypto passes the probes", async () => {
      const expected = (await conformsToRule(webCryptoBackend())) ? 'webcrypto' : 'noble'
      expect((await resolveEd25519Backend()).name).toBe(expected)
      expect((await resolveEd25519Backend('noble')).name).toBe('noble')
      expect(await resolveEd25519Backend(nobleBackend)).toBe(nobleBackend)
    })

    it('falls back to noble without WebCrypto, and forcing webcrypto then fails with E_KEY', async () => {
      vi.resetModules()
      vi.stubGlobal('crypto', { getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto) })
      const fresh = await import('../../src/identity/ed25519-backend')
      const freshErrors = await import('../../src/errors')
      expect((await fresh.resolveEd25519Backend('auto')).name).toBe('noble')
      const err = await fresh.resolveEd25519Backend('webcrypto').catch((e: unknown) => e)
      expect(freshErrors.CabildoError.is(err, 'E_KEY')).toBe(true)
    })
  })
})
