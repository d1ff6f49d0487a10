/**
 * Crafted Ed25519 inputs for the cross-backend tests, built independently of cabildo's code:
 * `node:crypto` SHA-512 and noble's point arithmetic, following RFC 8032 by hand.
 *
 * Every key here is `Q = aB + T` with `T` in the torsion subgroup (`a = 0` gives a small-order
 * key), so signatures can be made for it: with `R = rB − C` and `S = r + k·a`, the cofactorless
 * equation gives `[S]B − [k]Q = rB − kT`, so the signature is valid iff `C = kT` — an answer
 * known from the construction, without computing `R'` the way the backends do.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { createHash } from 'node:crypto'

export const Point = ed25519.Point
export type EdPoint = ReturnType<typeof Point.fromBytes>
/** The order of the prime subgroup. */
export const L = Point.Fn.ORDER
/** The field prime. */
export const P = 2n ** 255n - 19n

export const le = (b: Uint8Array): bigint => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n)
export const le32 = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 255n))
export const sha512 = (...parts: Uint8Array[]): Uint8Array =>
  new Uint8Array(createHash('sha512').update(Buffer.concat(parts)).digest())
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** A point of order 8 (RFC 8032 does not name one; this is the usual one, e.g. in libsodium's blacklist). */
export const T8 = Point.fromBytes(new Uint8Array(Buffer.from('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'hex')))
/** The torsion subgroup: `torsion[j] = j·T8`. */
export const torsion: readonly EdPoint[] = Array.from({ length: 8 }, (_, j) => (j === 0 ? Point.ZERO : T8.multiplyUnsafe(BigInt(j))))

/** The challenge scalar `k = SHA-512(R ‖ A ‖ M) mod L`, over the bytes as given. */
export function challenge(R: Uint8Array, A: Uint8Array, message: Uint8Array): bigint {
  return le(sha512(R, A, message)) % L
}

/** RFC 8032 5.1.5: the secret scalar of a 32-byte seed. */
export function secretScalar(seed: Uint8Array): bigint {
  const h = sha512(seed).slice(0, 32)
  h[0] = (h[0] as number) & 248
  h[31] = ((h[31] as number) & 127) | 64
  return le(h)
}

/** The affine `y` of a point, reduced. */
function yOf(point: EdPoint): bigint {
  return point.toAffine().y
}

/**
 * The encodings of a point that lax decoders (OpenSSL, ZIP 215) accept: the canonical one, the
 * one with `y + p` when `y < 19`, and, when `x = 0`, both with the sign bit set.
 */
export function encodingsOf(point: EdPoint): Uint8Array[] {
  const canonical = point.toBytes()
  const y = yOf(point)
  const out = [canonical]
  if (y < 19n) {
    const unreduced = le32(y + P)
    unreduced[31] = (unreduced[31] as number) | ((canonical[31] as number) & 0x80)
    out.push(unreduced)
  }
  if (point.toAffine().x === 0n) {
    for (const bytes of [...out]) {
      const signed = bytes.slice()
      signed[31] = (signed[31] as number) | 0x80
      out.push(signed)
    }
  }
  return out
}

/** A key `Q = aB + T`, written with one of its lax encodings. */
export interface CraftedKey {
  readonly a: bigint
  readonly T: EdPoint
  readonly point: EdPoint
  readonly bytes: Uint8Array
}

/** The key `aB + torsion[t]`, in its `variant`-th lax encoding (modulo how many it has). */
export function craftKey(a: bigint, t: number, variant = 0): CraftedKey {
  const T = torsion[t % 8] as EdPoint
  const point = (a === 0n ? Point.ZERO : Point.BASE.multiply(a)).add(T)
  const encodings = encodingsOf(point)
  return { a, T, point, bytes: encodings[variant % encodings.length] as Uint8Array }
}

/** A crafted signature and whether the cofactorless rule accepts it (known from the construction). */
export interface CraftedSignature {
  readonly signature: Uint8Array
  readonly valid: boolean
  /** The point behind `R` (before any re-encoding). */
  readonly R: EdPoint
}

/**
 * Signs `message` for `key` with `R = rB − C` and `S = r + k·a mod L`, trying `C = torsion[c]`,
 * `torsion[c + 1]`, … (at most `tries` of them) until `C = kT`, i.e. until the signature is
 * valid under the cofactorless rule. With `tries = 1` it takes `torsion[c]` whatever happens.
 */
export function craftSignature(key: CraftedKey, message: Uint8Array, r: bigint, c: number, tries = 1): CraftedSignature {
  let last: CraftedSignature | undefined
  for (let i = 0; i < tries; i++) {
    const C = torsion[(c + i) % 8] as EdPoint
    const R = (r === 0n ? Point.ZERO : Point.BASE.multiply(r)).subtract(C)
    const Rbytes = R.toBytes()
    const k = challenge(Rbytes, key.bytes, message)
    const S = (r + k * key.a) % L
    const kT = key.T.equals(Point.ZERO) ? Point.ZERO : key.T.multiplyUnsafe(k)
    last = { signature: new Uint8Array([...Rbytes, ...le32(S)]), valid: C.equals(kT), R }
    if (last.valid) return last
  }
  return last as CraftedSignature
}
