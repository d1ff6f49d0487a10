/**
 * The one Ed25519 verification rule cabildo applies on every platform.
 *
 * RFC 8032 leaves implementations room: some check the cofactored equation `[8][S]B = [8]R + [8][k]A`
 * (ZIP 215, noble's default), others the cofactorless `[S]B = R + [k]A` (OpenSSL, BoringSSL, so
 * Node's and Chromium's WebCrypto); some accept non-canonical point encodings or small-order keys.
 * A signer can craft a signature that one rule accepts and another rejects (Chalkias, Garillot,
 * Nikolaenko: "Taming the many EdDSAs", 2020). If two replicas used two rules, a malicious key
 * holder could make them disagree about a record forever, and their views would diverge.
 *
 * cabildo therefore fixes the strictest common rule and checks it independently of the backend:
 * - the public key is a canonical encoding (`y < p`) of a point of the prime-order subgroup, not
 *   the identity nor any small-order point ({@link publicKeyProblem});
 * - `S < L`, `R` is canonically encoded, and the cofactorless equation holds. Backends that check
 *   the cofactored equation must also require `R` to be torsion-free ({@link isTorsionFreeEncoding}),
 *   which makes the two equations agree.
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js'

/**
 * Why 32 bytes are not an acceptable Ed25519 public key under cabildo's rule, or `undefined`
 * when they are. Costs one point decompression and one scalar multiplication (about 2 ms in
 * JavaScript): callers cache the answer per key.
 */
export function publicKeyProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length !== 32) return `expected 32 bytes, got ${bytes.length}`
  let point
  try {
    // zip215 = false: refuse y >= p and the "negative zero" x encoding (RFC 8032, 5.1.3).
    point = ed25519.Point.fromBytes(bytes, false)
  } catch {
    return 'not a canonical encoding of a curve point'
  }
  if (point.isSmallOrder()) return 'a small-order point (it would let many messages verify)'
  if (!point.isTorsionFree()) return 'not in the prime-order subgroup (it has a torsion component)'
  return undefined
}

/**
 * True when 32 bytes canonically encode a point of the prime-order subgroup (the identity
 * included). Used on a signature's `R` by backends that check the cofactored equation.
 */
export function isTorsionFreeEncoding(bytes: Uint8Array): boolean {
  try {
    return ed25519.Point.fromBytes(bytes, false).isTorsionFree()
  } catch {
    return false
  }
}

/**
 * Known-answer signatures that tell whether a platform's Ed25519 follows the rule. All use the
 * RFC 8032 section 7.1 TEST 1 key; `test/identity/ed25519-backend.test.ts` rebuilds each one from
 * its definition below.
 */
export const conformanceProbes = {
  /** RFC 8032, 7.1, TEST 1 public key. */
  publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  /** The message of the cabildo probes (UTF-8). */
  message: 'cabildo/probe',
  /** Must verify: RFC 8032 TEST 1's signature of the empty message. */
  rfc8032: {
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  /** Must verify: the honest signature of the probe message. */
  honest:
    'a3aab027420704c737346a145375375e89695eb5d742f5f79bf091bda6d15e4343f9cc6b355994a2ce1574d3f4892fa76c3a443373844bdc8606902cc5bcc40a',
  /** Must fail: `R = rB + T` with `T` of order 8, valid only under the cofactored equation. */
  torsionR:
    '2163816872ba9a90d5ce43ffcc37b976118236cb3facd8a181210be310e3de6d13bd661ea766398e585cac5c974bcd89430e853099139cbfa5c34c0d47e40206',
  /** Must fail: `R` is the identity written non-canonically (`y = p + 1`), `S = k·a`. */
  nonCanonicalR:
    'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7fbb679776e4f2bd00a2afc18bb0cc8f26489671c04a0deef5d3780119c3e3610e',
  /** Must fail: the honest signature with `S + L` in place of `S`. */
  unreducedS:
    'a3aab027420704c737346a145375375e89695eb5d742f5f79bf091bda6d15e4330cdc2c84fbca6faa4b26b76d3830ebc6c3a443373844bdc8606902cc5bcc41a',
} as const
