/**
 * The total order of signed records that every policy shares: Lamport clock, then author, then
 * record hash. Every replica sorts the same records the same way, whatever order they arrived in.
 *
 * ```ts
 * import { compareRecords } from 'cabildo'
 * verified.sort(compareRecords) // verified: { record, hash }[] from filterVerified()
 * ```
 *
 * The clock captures causality (Lamport 1978: a record made after seeing another has a higher
 * clock); author and hash only break ties between concurrent records, arbitrarily but identically
 * everywhere. Strings compare by UTF-16 code units, never by locale.
 * @module
 */

/** The three values the order looks at. */
export interface RecordOrderKey {
  readonly clock: number
  readonly author: string
  readonly hash: string
}

/** Something the order can place: an order key, or a verified record (`{ record, hash }`). */
export type OrderableRecord =
  | RecordOrderKey
  | { readonly record: { readonly clock: number; readonly author: string }; readonly hash: string }

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function keyOf(x: OrderableRecord): RecordOrderKey {
  return 'record' in x ? { clock: x.record.clock, author: x.record.author, hash: x.hash } : x
}

/**
 * Compares two records by (clock, author, hash): negative when `a` comes first, positive when
 * `b` does, 0 only for the same record. Usable directly as an `Array.prototype.sort` comparator.
 */
export function compareRecords(a: OrderableRecord, b: OrderableRecord): number {
  const x = keyOf(a)
  const y = keyOf(b)
  return x.clock - y.clock || compareStrings(x.author, y.author) || compareStrings(x.hash, y.hash)
}
