import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { publicKeyEncodingProblem, publicKeyProblem } from '../../src/identity/ed25519-rules'
import { craftKey, encodingsOf, L, le, le32, P, toHex, torsion } from './ed25519-craft'
import { hex } from './fixtures'

/** The reference answer, from its definition: canonical y, and not a point of order dividing 8. */
function encodingAcceptable(bytes: Uint8Array): boolean {
  const y = le(bytes) & ((1n << 255n) - 1n)
  if (y >= P) return false
  try {
    return !ed25519.Point.fromBytes(bytes, true).isSmallOrder()
  } catch {
    return true // not on the curve: the encoding rule does not look at that
  }
}

describe('Ed25519 key rules', () => {
  it('the small-order list is the torsion subgroup: it matches noble\'s list and the multiples of an order-8 point', () => {
    const multiples = torsion.map((t) => toHex(t.toBytes())).sort()
    expect(multiples).toEqual([...ED25519_TORSION_SUBGROUP].sort())
    for (const encoding of ED25519_TORSION_SUBGROUP) expect(publicKeyEncodingProblem(hex(encoding))).toMatch(/small-order/)
  })

  it('refuses every lax encoding of a small-order point (y + p, x = 0 with the sign bit)', () => {
    const lax = torsion.flatMap((t) => encodingsOf(t))
    expect(lax.length).toBeGreaterThan(8) // the non-canonical ones are there too
    for (const bytes of lax) expect([toHex(bytes), publicKeyEncodingProblem(bytes)]).toEqual([toHex(bytes), expect.any(String)])
  })

  it('refuses every y >= p, whatever the sign bit, and accepts canonical keys with a torsion component', () => {
    for (let y = P; y < 2n ** 255n; y++) {
      for (const sign of [0n, 1n << 255n]) expect(publicKeyEncodingProblem(le32(y | sign))).toMatch(/canonical/)
    }
    expect(publicKeyEncodingProblem(le32(P - 2n))).toBeUndefined()
    for (let t = 1; t < 8; t++) {
      const key = craftKey(123456789n, t)
      expect(publicKeyEncodingProblem(key.bytes)).toBeUndefined()
      expect(publicKeyProblem(key.bytes)).toBeUndefined()
    }
  })

  it('agrees with the definition on random, crafted and near-p encodings', () => {
    const nearP = fc.bigInt({ min: P - 40n, max: 2n ** 255n - 1n }).chain((y) => fc.boolean().map((s) => le32(s ? y | (1n << 255n) : y)))
    const crafted = fc
      .tuple(fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: L - 1n })), fc.nat(7), fc.nat(3))
      .map(([a, t, v]) => craftKey(a, t, v).bytes)
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), nearP, crafted), (bytes) => {
        expect(publicKeyEncodingProblem(bytes) === undefined).toBe(encodingAcceptable(bytes))
      }),
      { seed: 42, numRuns: 400 },
    )
  })

  it('publicKeyProblem also refuses points off the curve and wrong lengths', () => {
    expect(publicKeyProblem(le32(2n))).toMatch(/curve/)
    expect(publicKeyEncodingProblem(le32(2n))).toBeUndefined() // the equation settles it, on every backend
    expect(publicKeyProblem(new Uint8Array(31))).toMatch(/32 bytes/)
    expect(publicKeyEncodingProblem(new Uint8Array(33))).toMatch(/32 bytes/)
  })
})
