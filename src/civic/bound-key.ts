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
import { compareRecords } from '../identity/record-order'
import { isFailedRecord, type PolicyEntry } from '../policy/policy-record'

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

/** The act that created a record and bound its key to its creator. */
export interface BoundCreation<P> {
  /** The creator: the act's signer. */
  readonly author: string
  /** Hash of the creation act. */
  readonly hash: string
  /** Its Lamport clock. */
  readonly clock: number
  /** Its payload, as parsed. */
  readonly payload: P
}

/**
 * The creation act of record `id`: the first (in the total order) verified act of type `type`
 * whose payload `parse` accepts, names `id`, and carries a nonce that binds `id`'s key to the
 * act's signer. Acts whose nonce binds the key to someone else are ignored: they cannot exist
 * short of a preimage search (see {@link boundKey}).
 * @param parse - reads the payload, or gives `undefined` when it is malformed
 * @param idOf - the record id a parsed payload names
 */
export function boundCreation<P extends { readonly nonce: string }>(
  id: string,
  entries: readonly PolicyEntry[],
  type: string,
  parse: (payload: unknown) => P | undefined,
  idOf: (payload: P) => string,
): BoundCreation<P> | undefined {
  let best: BoundCreation<P> | undefined
  for (const entry of entries) {
    if (isFailedRecord(entry) || entry.type !== type) continue
    const payload = parse(entry.payload)
    if (!payload || idOf(payload) !== id || !isBoundTo(id, entry.author, payload.nonce)) continue
    if (!best || compareRecords(entry, best) < 0) best = { author: entry.author, hash: entry.hash, clock: entry.clock, payload }
  }
  return best
}
