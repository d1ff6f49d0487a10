/**
 * A rule applied before a merge policy: each verified entry either passes on to the policy or is
 * refused, with its code, by a domain check the policy does not know (a support before the
 * proposal was published, an allocation for an unknown project).
 *
 * ```ts
 * const { passed, refused } = screenEntries(entries, (record) => (record.clock > opened ? undefined : refuse(record, 'E_INVALID', 'too early')))
 * policy.resolve(passed) // failed entries pass through, so the policy reports them
 * ```
 * @module
 */
import { isFailedRecord, type PolicyEntry, type PolicyRecord } from '../policy/policy-record'
import { sortRejected, type Refusal } from '../policy/record-intake'
import type { Rejected } from '../policy/merge-policy'

/** What {@link screenEntries} returns. */
export interface ScreenedEntries {
  /** Entries for the policy: those the check let through, and every failed entry. */
  readonly passed: PolicyEntry[]
  /** Refused records, one per hash, in the total order. */
  readonly refused: Rejected[]
}

/**
 * Splits entries by a pure check. Order-free: a record repeated in the input is refused once.
 * @param check - a refusal for a record that must not reach the policy, `undefined` otherwise
 */
export function screenEntries(entries: readonly PolicyEntry[], check: (record: PolicyRecord) => Refusal | undefined): ScreenedEntries {
  const passed: PolicyEntry[] = []
  const refusals = new Map<string, Refusal>()
  for (const entry of entries) {
    const refusal = isFailedRecord(entry) ? undefined : check(entry)
    if (refusal) refusals.set(refusal.rejected.hash, refusal)
    else passed.push(entry)
  }
  return { passed, refused: sortRejected(refusals.values()) }
}
