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

const DIGIT_OF: ReadonlyMap<string, number> = new Map([...ALPHABET].map((c, i) => [c, i]))

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
  while (zeros < text.length && text[zeros] === '1') zeros++
  // Bytes, least significant first.
  const bytes: number[] = []
  for (let i = zeros; i < text.length; i++) {
    const digit = DIGIT_OF.get(text[i] as string)
    if (digit === undefined) {
      throw new CabildoError('E_ARGUMENT', `Not base58btc: unexpected character at ${i}`, {
        argument: 'text',
        reason: `character ${JSON.stringify(text[i])} is not in the base58btc alphabet`,
      })
    }
    let carry = digit
    for (let j = 0; j < bytes.length; j++) {
      carry += (bytes[j] as number) * 58
      bytes[j] = carry & 0xff
      carry >>= 8
    }
    while (carry > 0) {
      bytes.push(carry & 0xff)
      carry >>= 8
    }
  }
  const out = new Uint8Array(zeros + bytes.length)
  for (let i = 0; i < bytes.length; i++) out[out.length - 1 - i] = bytes[i] as number
  return out
}
