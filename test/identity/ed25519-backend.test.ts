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
  })

  it('the probes catch laxer rules: plain noble (ZIP 215) and strict noble without the torsion check both fail', async () => {
    const lax = (zip215: boolean): Ed25519Backend => ({
      ...nobleBackend,
      name: `lax-${zip215}`,
      verifier: async (publicKey) => async (message, signature) => ed25519.verify(signature, message, publicKey, { zip215 }),
    })
    expect(await conformsToRule(lax(true))).toBe(false)
    expect(await conformsToRule(lax(false))).toBe(false)
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
