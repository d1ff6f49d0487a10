/**
 * The one Ed25519 verification rule cabildo applies on every platform.
 *
 * RFC 8032 leaves implementations room: some check the cofactored equation `[8][S]B = [8]R + [8][k]A`
 * (ZIP 215, noble's default), others the cofactorless `[S]B = R + [k]A`; some accept non-canonical
 * point encodings or small-order keys. A signer can craft a signature that one rule accepts and
 * another rejects (Chalkias, Garillot, Nikolaenko: "Taming the many EdDSAs", 2020). If two replicas
 * used two rules, a malicious key holder could make them disagree about a record forever, and
 * their views would diverge.
 *
 * cabildo's rule is the one OpenSSL's `ossl_ed25519_verify` applies (behind Node's WebCrypto), made
 * explicit so that the pure-JavaScript backend follows it exactly; a platform's WebCrypto is used
 * only if it gives the answers of {@link conformanceProbes}:
 * 1. the key is refused before any backend sees it unless it is 32 bytes, a canonical encoding
 *    (`y < p`) and not one of the 8 small-order points ({@link publicKeyEncodingProblem}: byte
 *    comparisons only, no curve arithmetic). A key with a torsion component is allowed: the
 *    equation below treats it identically on every backend;
 * 2. `S` (the last 32 bytes, little-endian) must be `< L`;
 * 3. `A` is decoded (a `y` that is not on the curve fails every signature);
 * 4. `k = SHA-512(R ‖ A ‖ M) mod L` over the bytes as given, `R' = [S]B − [k]A`, and the
 *    signature is valid iff the canonical encoding of `R'` equals the 32 bytes of `R`.
 *
 * Step 4 compares encodings, not points, so a non-canonical `R` never verifies, and it computes
 * `R'` exactly, so a torsion component in `R` or in `A` is never multiplied away (the cofactored
 * equation would). Any two implementations of these steps accept exactly the same signatures.
 * With step 1, this is RFC 8032 section 5.1.7 with its strict decodings (5.1.3) and its
 * cofactorless option, minus small-order keys. (OpenSSL itself decodes `A` more laxly: `y` modulo
 * `p`, `x = 0` with either sign bit; step 1 keeps such keys away from every backend.)
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js'

/** The lowest byte of `p = 2^255 − 19`, which is `ed ff … ff 7f` in little-endian. */
const P_LOW_BYTE = 0xed

/**
 * The small-order points (the torsion subgroup `E[8]`), canonically encoded, plus the two
 * encodings of an `x = 0` point with the sign bit set (the identity and the point of order 2),
 * which decode to the same points in lax decoders such as OpenSSL's. Other non-canonical spellings
 * have `y >= p` and are refused as such. The list is libsodium's blacklist restricted to `y < p`.
 */
const SMALL_ORDER_ENCODINGS: readonly Uint8Array[] = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
  '0100000000000000000000000000000000000000000000000000000000000080', // identity, x = 0 with sign bit
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // order 2, x = 0 with sign bit
].map((hex) => Uint8Array.from({ length: 32 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16)))

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return false
  return true
}

/** True when the 255 low bits of 32 bytes, little-endian, are `>= p` (a non-canonical `y`). */
function isUnreducedY(bytes: Uint8Array): boolean {
  if (((bytes[31] as number) & 0x7f) !== 0x7f) return false
  for (let i = 30; i > 0; i--) if (bytes[i] !== 0xff) return false
  return (bytes[0] as number) >= P_LOW_BYTE
}

/**
 * Why 32 bytes are not an acceptable Ed25519 public key *encoding* under cabildo's rule, or
 * `undefined` when they are: wrong length, `y >= p`, or a small-order point. Byte comparisons
 * only (well under a microsecond): it does not tell whether `y` is on the curve, which the
 * verification equation settles identically on every backend (see the module comment).
 */
export function publicKeyEncodingProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length !== 32) return `expected 32 bytes, got ${bytes.length}`
  if (isUnreducedY(bytes)) return 'not a canonical encoding (y >= p)'
  for (const bad of SMALL_ORDER_ENCODINGS) {
    if (sameBytes(bytes, bad)) return 'a small-order point (anyone could sign for it)'
  }
  return undefined
}

/**
 * Why 32 bytes are not a usable Ed25519 public key under cabildo's rule, or `undefined` when they
 * are: {@link publicKeyEncodingProblem}, and the point must be on the curve. Keys with a torsion
 * component are usable (the rule verifies them identically everywhere). Costs one point
 * decompression (a fraction of a millisecond in JavaScript); the verifier does not need it.
 */
export function publicKeyProblem(bytes: Uint8Array): string | undefined {
  const problem = publicKeyEncodingProblem(bytes)
  if (problem !== undefined) return problem
  try {
    ed25519.Point.fromBytes(bytes, false)
  } catch {
    return 'not a curve point'
  }
  return undefined
}

/**
 * Known-answer signatures that tell whether a platform's Ed25519 follows the rule. Unless said
 * otherwise they use the RFC 8032 section 7.1 TEST 1 key `A` (secret scalar `a`), the message
 * {@link conformanceProbes.message}, `T` = the order-8 point `26e8…fc05`, and `k = SHA-512(R ‖ key ‖ M) mod L`.
 * `test/identity/ed25519-backend.test.ts` rebuilds each one from its definition below with
 * `node:crypto`'s SHA-512.
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
  /** Must fail: `R = rB + T`, `S = r + k·a`: valid only under the cofactored equation. */
  torsionR:
    '2163816872ba9a90d5ce43ffcc37b976118236cb3facd8a181210be310e3de6d13bd661ea766398e585cac5c974bcd89430e853099139cbfa5c34c0d47e40206',
  /** Must fail: `R` is the identity written non-canonically (`y = p + 1`), `S = k·a`. */
  nonCanonicalR:
    'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7fbb679776e4f2bd00a2afc18bb0cc8f26489671c04a0deef5d3780119c3e3610e',
  /** Must fail: `R` is the identity written with the sign bit of `x = 0` set (`0100…0080`), `S = k·a`. */
  signedZeroR:
    '0100000000000000000000000000000000000000000000000000000000000080dce1dba74857dc632175283ca4ef4a218b5e639ff5da245153e0a5b714d70f0e',
  /** Must fail: the honest signature with `S + L` in place of `S`. */
  unreducedS:
    'a3aab027420704c737346a145375375e89695eb5d742f5f79bf091bda6d15e4330cdc2c84fbca6faa4b26b76d3830ebc6c3a443373844bdc8606902cc5bcc41a',
  /** A key with a torsion component: `A' = A + T` (canonical, on the curve, not small-order). */
  torsionKey: {
    publicKey: '3b5b475c4b82dd1572799fc546f4c6c03e478c6654aa4c7f945b347ea32af60d',
    /**
     * Must verify: valid under the cofactorless equation. For the first `n` and smallest odd `c`
     * such that `k ≡ c (mod 8)`: `r = SHA-512("cabildo/probe/torsion-key/<n>") mod L`,
     * `R = rB − cT`, `S = r + k·a`; then `[S]B − [k]A' = rB − kT = R`.
     */
    cofactorless:
      'a92f24003927715fa23659445b63b704a8e299371be315a0e531292e3c9ebaf1a48b3328dbd161db09b9712948e245f7094804c64a4e9a7b17bf02ba2a56a10b',
    /**
     * Must fail: signed as if `A'` were `aB`, i.e. for the first `n` with `k ≢ 0 (mod 8)`:
     * `r = SHA-512("cabildo/probe/torsion-key-cofactored/<n>") mod L`, `R = rB`, `S = r + k·a`.
     * Valid only under the cofactored equation.
     */
    cofactoredOnly:
      '8f4db10cce234d99bce902f5c7202457c2863976401bb8742f3d1ee26cc08e0dcb21c995fd8558d8eb4f40862940317bd585069a88cc5ff0764a4d3280ade101',
  },
  /** A key that is not on the curve (`y = 2`): every signature fails. */
  offCurveKey: {
    publicKey: '0200000000000000000000000000000000000000000000000000000000000000',
    /** Must fail: `R = B`, `S = 1`, which a verifier treating the key as the identity would accept. */
    signature:
      '58666666666666666666666666666666666666666666666666666666666666660100000000000000000000000000000000000000000000000000000000000000',
  },
} as const
