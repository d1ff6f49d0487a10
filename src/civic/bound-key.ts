/**
 * Record keys bound to their creator: `key = hex(SHA-256(did \n nonce))[0..24]`.
 *
 * A record created with an identity gets such a key, and its creation act carries the nonce.
 * Anyone can then check, from the bytes alone, who created the record: claiming another's record
 * means finding a nonce whose hash under one's own did hits that key, a 96-bit preimage search.
 * @module
 */
import { encodeUtf8 } from 'lib0/string'
import { sha256Hex } from '../encoding/canonical'

/** The key length in hex characters (96 bits). */
const KEY_CHARS = 24

/** The record key bound to `did` by `nonce`. */
export function boundKey(did: string, nonce: string): string {
  return sha256Hex(encodeUtf8(`${did}\n${nonce}`)).slice(0, KEY_CHARS)
}

/** Whether the record id `id` (`<shard>/<key>`) was created by `did` with `nonce`. */
export function isBoundTo(id: string, did: string, nonce: unknown): boolean {
  if (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > 64) return false
  return id.slice(id.indexOf('/') + 1) === boundKey(did, nonce)
}
