/**
 * The records merge policies consume, their total order, and the injected authorization check.
 *
 * ```ts
 * import { compareRecords, type PolicyRecord } from 'cabildo'
 * const a: PolicyRecord = { hash: 'aa', author: 'did:key:z6MkA', clock: 3, type: 'ballot', payload: {} }
 * const b: PolicyRecord = { hash: '0b', author: 'did:key:z6MkB', clock: 3, type: 'ballot', payload: {} }
 * ;[b, a].sort(compareRecords) // [a, b]: same clock, 'did:key:z6MkA' < 'did:key:z6MkB'
 * ```
 *
 * These types are structural on purpose: the identity layer produces values of this shape after
 * it verified a signature, and a researcher can build them by hand from any log of records.
 * @module
 */

/** A record as a policy sees it, after the caller verified its signature. */
export interface PolicyRecord<P = unknown> {
  /** Content address: lowercase hex SHA-256 of the canonical body. Identifies the record. */
  readonly hash: string
  /** `did:key` (or other stable id) of the signer. */
  readonly author: string
  /** Lamport clock, an integer `>= 1`, declared by the author. */
  readonly clock: number
  /** What the record is, e.g. `'ticket.transition'`, `'ballot'`. */
  readonly type: string
  /** The record's data; policies validate it before they use it. */
  readonly payload: P
  /** Wall-clock ISO time: data shown to people, never used to decide anything. */
  readonly at?: string
}

/** Codes a caller may attach to a record that failed before it reached the policy. */
export type FailedRecordCode = 'E_SIGNATURE' | 'E_INVALID'

/**
 * A record that failed verification (bad signature, or a body that does not parse), passed to a
 * policy anyway so that it is reported in `rejected` instead of silently dropped.
 *
 * Only `record.hash` is required: a body that failed to parse may lack the other fields.
 */
export interface FailedRecord {
  /** What is known of the record; `hash` identifies it in `rejected`. */
  readonly record: { readonly hash: string } & Partial<Omit<PolicyRecord, 'hash'>>
  /** Why it failed. */
  readonly code: FailedRecordCode
  /** A sentence for people. */
  readonly reason: string
}

/** One element of a policy's input: a verified record, or a record that failed verification. */
export type PolicyEntry<P = unknown> = PolicyRecord<P> | FailedRecord

/**
 * Whether `author` holds `role` at Lamport clock `clock`. Must be pure (a roster provides it),
 * so that every replica reaches the same answer.
 */
export type Authorize = (author: string, role: string, clock: number) => boolean

/** A role that records must carry, checked with an injected {@link Authorize}. */
export interface AccessRule {
  /** The pure authorization check. */
  readonly authorize: Authorize
  /** The role an author needs, at the record's own clock. */
  readonly role: string
}

/** Tells a {@link FailedRecord} from a verified {@link PolicyRecord}. */
export function isFailedRecord(entry: PolicyEntry): entry is FailedRecord {
  return typeof (entry as FailedRecord).code === 'string' && typeof (entry as FailedRecord).record === 'object'
}

/** Compares two strings by UTF-16 code units, as `<` does: no locale, the same on every engine. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Why a verified record is unusable as a record at all (wrong field types, a clock that is not
 * an integer `>= 1`), or `undefined` when its shape is fine. Policies reject such records with
 * `E_INVALID` instead of letting a malformed clock break the total order.
 */
export function recordShapeProblem(record: PolicyRecord): string | undefined {
  const r = record as unknown as Record<string, unknown>
  if (typeof r.hash !== 'string' || r.hash.length === 0) return 'hash is not a non-empty string'
  if (typeof r.author !== 'string' || r.author.length === 0) return 'author is not a non-empty string'
  if (typeof r.clock !== 'number' || !Number.isSafeInteger(r.clock) || r.clock < 1) {
    return 'clock is not an integer >= 1'
  }
  if (typeof r.type !== 'string') return 'type is not a string'
  return undefined
}
