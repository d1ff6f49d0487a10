/**
 * Strict base64url (RFC 4648 section 5, no padding), as used by JWK key members and by record
 * signatures.
 *
 * Decoders such as `atob` or Node's `Buffer` skip characters they do not know and ignore stray
 * bits, so several strings decode to the same bytes. Here only the one canonical spelling of each
 * byte string is accepted, so a signature or a key has exactly one text form.
 * @module
 */
import { fromBase64UrlEncoded, toBase64UrlEncoded } from 'lib0/buffer'

const BASE64URL = /^[A-Za-z0-9_-]*$/

/** Encodes bytes as unpadded base64url. */
export function encodeBase64url(bytes: Uint8Array): string {
  return toBase64UrlEncoded(bytes)
}

/**
 * Decodes canonical unpadded base64url, optionally of an exact byte length.
 * Returns `undefined` for anything else (other characters, padding, non-zero trailing bits, a
 * length that is impossible or not the expected one): callers turn that into their own error.
 */
export function decodeBase64url(text: string, length?: number): Uint8Array | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined
  if (length !== undefined && text.length !== Math.ceil((length * 4) / 3)) return undefined
  const bytes = fromBase64UrlEncoded(text)
  if (length !== undefined && bytes.length !== length) return undefined
  // Non-zero bits in the last character are ignored by the decoder: re-encoding exposes them.
  if (encodeBase64url(bytes) !== text) return undefined
  return bytes
}
