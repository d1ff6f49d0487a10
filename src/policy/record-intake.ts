/**
 * The first step of every policy: de-duplicate entries by hash, carry failed records into
 * `rejected`, refuse malformed records, and sort what is left in the total order.
 *
 * ```ts
 * import { prepareEntries, sortRejected } from 'cabildo'
 * const { records, refusals } = prepareEntries(entries)
 * for (const record of records) { ... }        // verified, well-formed, unique, in total order
 * const rejected = sortRejected(refusals)       // failed and malformed entries, with codes
 * ```
 *
 * Building your own policy on these two functions gives it the duplication and order
 * independence `runPolicyTests` checks, for free.
 * @module
 */
import type { Rejected, RejectionCode } from './merge-policy'
import { compareRecords } from '../identity/record-order'
import {
  compareStrings,
  isFailedRecord,
  recordShapeProblem,
  type AccessRule,
  type FailedRecord,
  type PolicyEntry,
  type PolicyRecord,
} from './policy-record'

/** A refused record with the fields that place it in the total order. */
export interface Refusal {
  /** Lamport clock of the record, `0` when unknown (a record that failed to parse). */
  readonly clock: number
  /** Author of the record, `''` when unknown. */
  readonly author: string
  /** What is reported. */
  readonly rejected: Rejected
}

/** Builds a {@link Refusal} for a record. */
export function refuse(
  record: Pick<PolicyRecord, 'hash' | 'clock' | 'author'>,
  code: RejectionCode,
  reason: string,
  rule?: string,
): Refusal {
  const rejected: Rejected = rule === undefined ? { hash: record.hash, code, reason } : { hash: record.hash, code, reason, rule }
  return { clock: record.clock, author: record.author, rejected }
}

/** Sorts refusals in the total order of their records and returns what `Resolution.rejected` holds. */
export function sortRejected(refusals: Iterable<Refusal>): Rejected[] {
  return [...refusals]
    .sort((a, b) => {
      if (a.clock !== b.clock) return a.clock < b.clock ? -1 : 1
      if (a.author !== b.author) return a.author < b.author ? -1 : 1
      return compareStrings(a.rejected.hash, b.rejected.hash)
    })
    .map((r) => r.rejected)
}

/** The refusal a failed entry turns into. Unknown or ill-typed order fields sort first. */
function failedRefusal(entry: FailedRecord): Refusal {
  const { record } = entry
  const clock = typeof record.clock === 'number' && Number.isSafeInteger(record.clock) ? record.clock : 0
  const author = typeof record.author === 'string' ? record.author : ''
  return refuse({ hash: String(record.hash), clock, author }, entry.code, String(entry.reason))
}

/** Of two failed copies of the same hash, the one kept: independent of arrival order. */
function preferFailed(a: FailedRecord, b: FailedRecord): FailedRecord {
  const byCode = compareStrings(a.code, b.code)
  if (byCode !== 0) return byCode < 0 ? a : b
  return compareStrings(String(a.reason), String(b.reason)) <= 0 ? a : b
}

/** The result of {@link RecordIntake.add}. */
export type IntakeResult =
  /** A new, well-formed, verified record: fold it. */
  | { readonly kind: 'record'; readonly record: PolicyRecord }
  /** Something changed in the intake's own refusals (a failed or malformed entry). */
  | { readonly kind: 'refused' }
  /** Nothing new: a repeated entry, or a failed copy of a record already verified. */
  | { readonly kind: 'duplicate' }

/**
 * Incremental de-duplication of entries. A hash counts once; a verified copy beats any failed
 * copy (the hash names the content, so a copy with a broken signature adds nothing once the
 * content is proven); among failed copies the smallest `(code, reason)` is kept.
 */
export interface RecordIntake {
  /** Takes one entry and says what the policy must do with it. */
  add(entry: PolicyEntry): IntakeResult
  /** The distinct hashes seen. */
  readonly size: number
  /** Refusals made by the intake itself (failed and malformed entries), unsorted. */
  refusals(): Refusal[]
}

/** Creates an empty {@link RecordIntake}. */
export function createRecordIntake(): RecordIntake {
  const verified = new Set<string>()
  const failed = new Map<string, FailedRecord>()
  const malformed = new Map<string, Refusal>()
  return {
    add(entry) {
      if (isFailedRecord(entry)) {
        const hash = String(entry.record.hash)
        if (verified.has(hash)) return { kind: 'duplicate' }
        const before = failed.get(hash)
        const kept = before === undefined ? entry : preferFailed(before, entry)
        if (kept === before) return { kind: 'duplicate' }
        failed.set(hash, kept)
        return { kind: 'refused' }
      }
      const hash = String((entry as { hash?: unknown }).hash)
      if (verified.has(hash)) return { kind: 'duplicate' }
      verified.add(hash)
      failed.delete(hash)
      const problem = recordShapeProblem(entry)
      if (problem !== undefined) {
        const clock = Number.isSafeInteger(entry.clock) ? entry.clock : 0
        const author = typeof entry.author === 'string' ? entry.author : ''
        malformed.set(hash, refuse({ hash, clock, author }, 'E_INVALID', `malformed record: ${problem}`))
        return { kind: 'refused' }
      }
      return { kind: 'record', record: entry }
    },
    get size() {
      return verified.size + failed.size
    },
    refusals() {
      return [...malformed.values(), ...[...failed.values()].map(failedRefusal)]
    },
  }
}

/** What {@link prepareEntries} returns. */
export interface PreparedEntries {
  /** Verified, well-formed records, one per hash, in the total order. */
  readonly records: PolicyRecord[]
  /** Failed and malformed entries, unsorted. */
  readonly refusals: Refusal[]
}

/** Batch intake: de-duplicates, refuses failed and malformed entries, sorts the rest. */
export function prepareEntries(entries: readonly PolicyEntry[]): PreparedEntries {
  const intake = createRecordIntake()
  const records: PolicyRecord[] = []
  for (const entry of entries) {
    const result = intake.add(entry)
    if (result.kind === 'record') records.push(result.record)
  }
  records.sort(compareRecords)
  return { records, refusals: intake.refusals() }
}

/**
 * Checks an optional {@link AccessRule} for a record at its own clock.
 * @returns a `E_FORBIDDEN` refusal, or `undefined` when allowed (or when there is no rule)
 */
export function checkAccess(access: AccessRule | undefined, record: PolicyRecord, action: string): Refusal | undefined {
  if (access === undefined || access.authorize(record.author, access.role, record.clock)) return undefined
  return refuse(record, 'E_FORBIDDEN', `${record.author} lacks role '${access.role}' at clock ${record.clock} to ${action}`)
}

/** Reads an own property of a payload that must be a plain object; `undefined` otherwise. */
export function payloadField(payload: unknown, name: string): unknown {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined
  return Object.prototype.hasOwnProperty.call(payload, name) ? (payload as Record<string, unknown>)[name] : undefined
}

/** Reads a payload's `supersedes` list: the hashes its author saw and replaces. Non-strings are ignored. */
export function supersededHashes(payload: unknown): readonly string[] {
  const list = payloadField(payload, 'supersedes')
  return Array.isArray(list) ? list.filter((h): h is string => typeof h === 'string') : []
}

/** Binary search: the index where `item` goes in `sorted` (ascending by `compare`). */
export function insertionIndex<T>(sorted: readonly T[], item: T, compare: (a: T, b: T) => number): number {
  let lo = 0
  let hi = sorted.length
  // The common case is a record newer than all others: check the end first.
  if (hi > 0 && compare(sorted[hi - 1] as T, item) < 0) return hi
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compare(sorted[mid] as T, item) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}
