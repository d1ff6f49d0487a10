/**
 * Base58btc, the Bitcoin alphabet of base 58, as used by multibase (`z` prefix) and so by
 * `did:key` identifiers.
 *
 * ```ts
 * import { encodeBase58btc, decodeBase58btc } from 'cabildo'
 * const text = encodeBase58btc(new Uint8Array([0, 0, 1, 2])) // '115T'
 * decodeBase58btc(text)                                      // Uint8Array [0, 0, 1, 2]
 * ```
 *
 * The codec is the textbook base conversion (draft-msporny-base58, section 3): quadratic in the
 * input length, which is fine for the 34-byte keys it is used for here.
 * @module
 */
import { CabildoError } from '../errors'

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** The digit of each ASCII code, -1 outside the alphabet. */
const DIGIT_OF = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) DIGIT_OF[ALPHABET.charCodeAt(i)] = i

/** Encodes bytes as base58btc text (no multibase prefix). Leading zero bytes become `1`s. */
export function encodeBase58btc(bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  // Base-58 digits, least significant first.
  const digits: number[] = []
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i] as number
    for (let j = 0; j < digits.length; j++) {
      carry += (digits[j] as number) << 8
      digits[j] = carry % 58
      carry = Math.floor(carry / 58)
    }
    while (carry > 0) {
      digits.push(carry % 58)
      carry = Math.floor(carry / 58)
    }
  }
  let out = '1'.repeat(zeros)
  for (let i = digits.length - 1; i >= 0; i--) out += ALPHABET[digits[i] as number]
  return out
}

/**
 * Decodes base58btc text (no multibase prefix). Leading `1`s become zero bytes.
 * @throws CabildoError `E_ARGUMENT` when the text contains a character outside the alphabet.
 */
export function decodeBase58btc(text: string): Uint8Array {
  let zeros = 0
  while (zeros < text.length && text.charCodeAt(zeros) === 0x31) zeros++
  // The value in 32-bit limbs, least significant first (58 · 2^32 stays far below 2^53).
  const limbs = new Uint32Array(Math.ceil((text.length - zeros) / 5) + 1)
  let used = 0
  for (let i = zeros; i < text.length; i++) {
    const code = text.charCodeAt(i)
    const digit = code < 128 ? (DIGIT_OF[code] as number) : -1
    if (digit < 0) {
      throw new CabildoError('E_ARGUMENT', `Not base58btc: unexpected character at ${i}`, {
        argument: 'text',
        reason: `character ${JSON.stringify(text[i])} is not in the base58btc alphabet`,
      })
    }
    let carry = digit
    for (let k = 0; k < used; k++) {
      const x = (limbs[k] as number) * 58 + carry
      const low = x >>> 0
      limbs[k] = low
      carry = (x - low) / 0x1_0000_0000
    }
    if (carry > 0) limbs[used++] = carry
  }
  // Significant bytes of the value, then the leading zeros the text spelled as '1's.
  let length = used * 4
  while (length > 0 && (((limbs[(length - 1) >> 2] as number) >>> (((length - 1) & 3) * 8)) & 0xff) === 0) length--
  const out = new Uint8Array(zeros + length)
  for (let b = 0; b < length; b++) out[out.length - 1 - b] = ((limbs[b >> 2] as number) >>> ((b & 3) * 8)) & 0xff
  return out
}
