import { ed25519 } from '@noble/curves/ed25519.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { canonicalJson, contentHash } from '../../src/encoding/canonical'
import { CabildoError } from '../../src/errors'
import { didFromPublicKey } from '../../src/identity/did-key'
import { nobleBackend, webCryptoBackend, type Ed25519Backend } from '../../src/identity/ed25519-backend'
import { keyPairFromJwk, keyPairFromSeed, type KeyPair } from '../../src/identity/keys'
import {
  createVerifier,
  filterVerified,
  nextClock,
  recordHash,
  signRecord,
  verifyRecord,
  verifyRecords,
  type SignedRecord,
} from '../../src/identity/signed-record'
import { craftKey, craftSignature, L, le, le32, P, Point, toHex, torsion } from './ed25519-craft'
import { forgeCofactoredOnlySignature, hex, rfc8032, rfc8037Jwk } from './fixtures'

const backends = ['noble', 'webcrypto'] as const
const DOC = 'tickets/2026-03'

function body(clock = 1) {
  return {
    type: 'ticket.transition',
    doc: DOC,
    clock,
    payload: { ticket: 't-17', to: 'closed', note: 'Fixed the streetlight ✓', tags: ['light', 'north'] },
    at: '2026-03-04T10:00:00Z',
  }
}

/** A backend that counts signature checks, to observe the cache. */
function counting(inner: Ed25519Backend): Ed25519Backend & { calls: number } {
  const wrapped = {
    ...inner,
    name: `counting-${inner.name}`,
    calls: 0,
    verifier: async (publicKey: Uint8Array) => {
      const verify = await inner.verifier(publicKey)
      return async (message: Uint8Array, signature: Uint8Array) => {
        wrapped.calls++
        return verify(message, signature)
      }
    },
  }
  return wrapped
}

describe('signed records', () => {
  for (const backend of backends) {
    it(`${backend}: a signed record verifies, and its hash is contentHash of the body`, async () => {
      const key = await keyPairFromJwk(rfc8037Jwk, { backend })
      const record = await signRecord(key, body())
      expect(record.v).toBe(1)
      expect(record.author).toBe(key.did)
      const { sig, ...rest } = record
      expect(sig).toMatch(/^[A-Za-z0-9_-]{86}$/)
      expect(recordHash(record)).toBe(contentHash(rest))
      const result = await verifyRecord(record, { doc: DOC, verifier: createVerifier({ backend }) })
      expect(result).toEqual({ ok: true, hash: contentHash(rest) })
    })
  }

  it('signs exactly "cabildo/record/v1\\n" + canonical JSON of the body (checked with noble directly)', async () => {
    const key = await keyPairFromJwk(rfc8037Jwk)
    const record = await signRecord(key, body())
    const { sig, ...rest } = record
    const message = new TextEncoder().encode('cabildo/record/v1\n' + canonicalJson(rest))
    const signature = new Uint8Array(Buffer.from(sig, 'base64url'))
    expect(ed25519.verify(signature, message, hex(rfc8032[0].publicKey))).toBe(true)
    // Without the domain tag, the same signature does not verify: it cannot be taken for another kind of signature.
    expect(ed25519.verify(signature, new TextEncoder().encode(canonicalJson(rest)), hex(rfc8032[0].publicKey))).toBe(false)
  })

  it('records signed on one backend verify on the other, with identical signatures', async () => {
    const [noble, web] = await Promise.all(backends.map((backend) => keyPairFromSeed(hex(rfc8032[1].seed), { backend })))
    const a = await signRecord(noble as KeyPair, body(3))
    const b = await signRecord(web as KeyPair, body(3))
    expect(a).toEqual(b)
    for (const backend of backends) {
      const verifier = createVerifier({ backend })
      expect((await verifier.verify(a)).ok).toBe(true)
    }
  })

  it('a tampered field breaks verification, whatever the field and the new value', async () => {
    const key = await keyPairFromSeed(hex(rfc8032[2].seed), { backend: 'noble' })
    const other = await keyPairFromSeed(hex(rfc8032[1].seed), { backend: 'noble' })
    const verifier = createVerifier()
    const fields = ['v', 'type', 'doc', 'author', 'clock', 'payload', 'at', 'sig', 'extra'] as const
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 2 }), fc.nat(), async (field, value, n) => {
        const record: SignedRecord = await signRecord(key, { ...body(), payload: { n } })
        const tampered: Record<string, unknown> = { ...record }
        const replacements: Record<(typeof fields)[number], unknown> = {
          v: 2,
          type: record.type + '.x',
          doc: 'tickets/2026-04',
          author: other.did,
          clock: record.clock + 1 + (n % 5),
          payload: { n, extra: value },
          at: '2026-03-04T10:00:01Z',
          sig: record.sig.slice(0, 10) + (record.sig[10] === 'A' ? 'B' : 'A') + record.sig.slice(11),
          extra: value,
        }
        tampered[field] = replacements[field]
        const result = await verifier.verify(tampered)
        expect(result.ok).toBe(false)
      }),
      { seed: 42, numRuns: 60 },
    )
  })

  it('a record replayed into another document is rejected as E_INVALID, naming the replay', async () => {
    const key = await keyPairFromJwk(rfc8037Jwk)
    const record = await signRecord(key, body())
    const result = await verifyRecord(record, { doc: 'tickets/2026-04' })
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.code).toBe('E_INVALID')
      expect(result.reason).toMatch(/replay/)
      expect(result.hash).toBe(recordHash(record))
    }
  })

  it('classifies failures: malformed shapes are E_INVALID, bad signatures and unusable authors are E_SIGNATURE', async () => {
    const key = await keyPairFromJwk(rfc8037Jwk)
    const record = await signRecord(key, body())
    const other = await signRecord(await keyPairFromSeed(hex(rfc8032[1].seed)), body())
    const smallOrderAuthor = didFromPublicKey(hex('0100000000000000000000000000000000000000000000000000000000000000'))
    const cases: Array<[unknown, 'E_INVALID' | 'E_SIGNATURE']> = [
      [null, 'E_INVALID'],
      ['a string', 'E_INVALID'],
      [{ ...record, clock: 0 }, 'E_INVALID'],
      [{ ...record, clock: 1.5 }, 'E_INVALID'],
      [{ ...record, author: 'did:web:example.org' }, 'E_INVALID'],
      [{ ...record, at: 'yesterday' }, 'E_INVALID'],
      [{ ...record, payload: undefined }, 'E_INVALID'],
      [{ ...record, payload: { x: Number.NaN } }, 'E_INVALID'],
      [{ ...record, sig: record.sig + '=' }, 'E_INVALID'],
      [{ ...record, sig: other.sig }, 'E_SIGNATURE'],
      [{ ...record, author: smallOrderAuthor }, 'E_SIGNATURE'],
    ]
    const results = await verifyRecords(cases.map(([r]) => r))
    results.forEach((result, i) => {
      expect(result.ok).toBe(false)
      if (!result.ok) expect(result.code).toBe(cases[i]?.[1])
    })
  })

  it("rejects an author's cofactored-only signature on both backends (no replica can disagree)", async () => {
    const key = await keyPairFromJwk(rfc8037Jwk)
    const honest = await signRecord(key, body())
    const { sig: _sig, ...rest } = honest
    const message = new TextEncoder().encode('cabildo/record/v1\n' + canonicalJson(rest))
    const forged = { ...rest, sig: Buffer.from(await forgeCofactoredOnlySignature(rfc8032[0].seed, message)).toString('base64url') }
    // It is a valid signature for the permissive (ZIP 215) rule...
    expect(ed25519.verify(new Uint8Array(Buffer.from(forged.sig, 'base64url')), message, key.publicKey)).toBe(true)
    // ...and cabildo rejects it whichever backend verifies.
    for (const backend of backends) {
      const result = await createVerifier({ backend }).verify(forged)
      expect(result.ok ? 'ok' : result.code).toBe('E_SIGNATURE')
    }
  })

  it('hashes and verifies the same whatever the key order of the JSON that carried the record', async () => {
    const key = await keyPairFromJwk(rfc8037Jwk)
    const record = await signRecord(key, body())
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(record).reverse()))) as SignedRecord
    expect(recordHash(reordered)).toBe(recordHash(record))
    expect(await verifyRecord(reordered)).toEqual(await verifyRecord(record))
  })
})

describe('verifier cache', () => {
  it('a second verification of the same record is a cache hit and runs no signature check', async () => {
    const backend = counting(nobleBackend)
    const verifier = createVerifier({ backend })
    const record = await signRecord(await keyPairFromJwk(rfc8037Jwk), body())
    expect((await verifier.verify(record)).ok).toBe(true)
    expect((await verifier.verify(record, { doc: DOC })).ok).toBe(true)
    expect(backend.calls).toBe(1)
    expect(verifier.stats).toEqual({ hits: 1, misses: 1, size: 1 })
    // The document check is not cached away.
    expect((await verifier.verify(record, { doc: 'elsewhere' })).ok).toBe(false)
  })

  it('caches failures too, and keeps at most cacheSize outcomes (least recently used dropped)', async () => {
    const backend = counting(webCryptoBackend())
    const verifier = createVerifier({ backend, cacheSize: 2 })
    const key = await keyPairFromJwk(rfc8037Jwk)
    const [a, b, c] = await Promise.all([1, 2, 3].map((clock) => signRecord(key, body(clock))))
    const bad = { ...(a as SignedRecord), sig: (b as SignedRecord).sig }
    await verifier.verify(bad)
    await verifier.verify(bad)
    expect(backend.calls).toBe(1)
    for (const record of [a, b, c]) await verifier.verify(record)
    expect(verifier.stats.size).toBe(2)
    const before = backend.calls
    await verifier.verify(c) // most recent: kept
    expect(backend.calls).toBe(before)
    await verifier.verify(a) // oldest: dropped
    expect(backend.calls).toBe(before + 1)
  })

  it('verifies a batch in input order and checks each duplicate once', async () => {
    const backend = counting(nobleBackend)
    const verifier = createVerifier({ backend })
    const key = await keyPairFromJwk(rfc8037Jwk)
    const records = await Promise.all([1, 2, 3, 4].map((clock) => signRecord(key, body(clock))))
    const batch = [records[0], records[1], { ...records[2], clock: 99 }, records[0], 'junk', records[3], records[1]]
    const results = await verifier.verifyMany(batch)
    expect(results.map((r) => r.ok)).toEqual([true, true, false, true, false, true, true])
    expect(results[0]).toEqual(results[3])
    expect(backend.calls).toBe(4) // 3 distinct good records + the tampered one; 'junk' fails before any check
  })

  it('filterVerified splits verified from rejected and checks payloads against a schema', async () => {
    const key = await keyPairFromJwk(rfc8037Jwk)
    const good = await signRecord(key, { type: 'vote', doc: DOC, clock: 1, payload: { project: 'p1' } })
    const badPayload = await signRecord(key, { type: 'vote', doc: DOC, clock: 2, payload: { project: 7 } })
    const otherDoc = await signRecord(key, { type: 'vote', doc: 'x', clock: 3, payload: { project: 'p2' } })
    const { verified, rejected } = await filterVerified([good, badPayload, otherDoc], {
      doc: DOC,
      payload: z.object({ project: z.string() }),
    })
    expect(verified).toEqual([{ record: good, hash: recordHash(good) }])
    expect(rejected.map((r) => [r.record, r.code])).toEqual([
      [badPayload, 'E_INVALID'],
      [otherDoc, 'E_INVALID'],
    ])
    expect(rejected[0]?.reason).toMatch(/^payload\.project/)
  })
})

describe('signRecord input checks and nextClock', () => {
  it('refuses malformed bodies (E_SCHEMA), another author (E_ARGUMENT) and payloads without canonical JSON (E_ARGUMENT)', async () => {
    const key = await keyPairFromJwk(rfc8037Jwk)
    const other = await keyPairFromSeed(hex(rfc8032[1].seed))
    const attempts: Array<[() => Promise<unknown>, string]> = [
      [() => signRecord(key, { ...body(), clock: 0 }), 'E_SCHEMA'],
      [() => signRecord(key, { ...body(), doc: '' }), 'E_SCHEMA'],
      [() => signRecord(key, { ...body(), payload: undefined }), 'E_SCHEMA'],
      [() => signRecord(key, { ...body(), author: other.did }), 'E_ARGUMENT'],
      [() => signRecord(key, { ...body(), payload: [1, undefined] }), 'E_ARGUMENT'],
      [() => signRecord(key, { ...body(), payload: { when: new Date(0) } }), 'E_ARGUMENT'],
    ]
    for (const [attempt, code] of attempts) {
      const err = await attempt().catch((e: unknown) => e)
      expect(err instanceof CabildoError ? err.code : err).toBe(code)
    }
  })

  it('nextClock is one more than the highest clock seen, from 1, and refuses non-integers', () => {
    expect(nextClock(0)).toBe(1)
    expect(nextClock(41)).toBe(42)
    for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER]) {
      expect(() => nextClock(bad)).toThrow(CabildoError)
    }
  })
})

describe('both backends, forced, give the same answer for crafted records', () => {
  const signingBytes = (body: object): Uint8Array => new TextEncoder().encode('cabildo/record/v1\n' + canonicalJson(body))
  const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')
  const verifiers = () => backends.map((backend) => createVerifier({ backend }))

  it('keys with a torsion component, non-canonical and small-order keys, torsioned R, S >= L', async () => {
    const tally = { ok: 0, torsionKeyOk: 0, refused: 0 }
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: L - 1n })),
        fc.nat(7),
        fc.nat(3),
        fc.bigInt({ min: 1n, max: L - 1n }),
        fc.nat(7),
        fc.constantFrom('none', 'S+L', 'cofactored-only'),
        async (a, t, variant, r, c, mutation) => {
          const key = craftKey(a, t, variant)
          const rest = { v: 1 as const, type: 'ballot', doc: DOC, author: didFromPublicKey(key.bytes), clock: 1, payload: { approve: ['p1'] } }
          const message = signingBytes(rest)
          // 'cofactored-only': R torsion-free, signed as if the key had no torsion component.
          const crafted = mutation === 'cofactored-only' ? craftSignature(key, message, r, 0, 1) : craftSignature(key, message, r, c, 8)
          let signature = crafted.signature
          if (mutation === 'S+L') signature = new Uint8Array([...signature.slice(0, 32), ...le32(le(signature.slice(32)) + L)])
          const record = { ...rest, sig: base64url(signature) }
          const [noble, web] = await Promise.all(verifiers().map((v) => v.verify(record, { doc: DOC })))
          expect(noble).toEqual(web) // same answer, same reason
          const usableKey = a !== 0n && toHex(key.bytes) === toHex(key.point.toBytes())
          expect(noble?.ok).toBe(usableKey && crafted.valid && mutation !== 'S+L')
          if (noble?.ok) {
            tally.ok++
            if (t % 8 !== 0) tally.torsionKeyOk++
          } else tally.refused++
        },
      ),
      { seed: 42, numRuns: 80 },
    )
    expect(tally.torsionKeyOk).toBeGreaterThan(5)
    expect(tally.refused).toBeGreaterThan(5)
  })

  it('refuses authors whose key is off the curve, non-canonical or small-order, with the same reason on both', async () => {
    const rest = { v: 1 as const, type: 'ballot', doc: DOC, clock: 1, payload: {} }
    const authors = [le32(2n), le32(P + 3n), le32(1n | (1n << 255n)), torsion[3]?.toBytes() as Uint8Array]
    for (const bytes of authors) {
      const record = { ...rest, author: didFromPublicKey(bytes), sig: base64url(new Uint8Array([...Point.BASE.toBytes(), ...le32(1n)])) }
      const [noble, web] = await Promise.all(verifiers().map((v) => v.verify(record)))
      expect(noble).toEqual(web)
      expect(noble?.ok ? 'ok' : noble?.code).toBe('E_SIGNATURE')
    }
  })
})

describe('verifier robustness', () => {
  it('a cached outcome is used only for the same signature: another signature of the same body is checked', async () => {
    const backend = counting(nobleBackend)
    const verifier = createVerifier({ backend })
    const key = await keyPairFromJwk(rfc8037Jwk)
    const record = await signRecord(key, body())
    const other = await signRecord(key, body(2))
    expect((await verifier.verify(record)).ok).toBe(true)
    expect((await verifier.verify({ ...record, sig: other.sig })).ok).toBe(false)
    expect((await verifier.verify(record)).ok).toBe(true)
    expect(backend.calls).toBe(3)
  })

  it('a record whose members cannot be read is E_INVALID, never a throw', async () => {
    const key = await keyPairFromJwk(rfc8037Jwk)
    const record = await signRecord(key, body())
    const hostile = { ...record }
    Object.defineProperty(hostile, 'payload', { enumerable: true, get: () => { throw new Error('boom') } })
    const result = await createVerifier().verify(hostile)
    expect(result.ok ? 'ok' : result.code).toBe('E_INVALID')
  })
})
