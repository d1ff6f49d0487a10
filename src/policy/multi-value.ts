/**
 * A multi-value register: concurrent writes are all kept and surfaced as a `concurrent`
 * conflict until someone resolves them by writing a value that supersedes them.
 *
 * ```ts
 * import { multiValue } from 'cabildo'
 * const { view, conflicts } = multiValue<string>().resolve(records)
 * view.values.map((v) => v.value) // every live value, in the total order
 * // resolve: write { value: 'merged', supersedes: view.values.map((v) => v.hash) }
 * ```
 *
 * "Concurrent" is defined by the records themselves, as in Dynamo's and Riak's siblings: a value
 * is live unless a record later in the total order names its hash in `payload.supersedes`. A
 * record can only supersede records before it in the total order (it cannot have seen the others),
 * which rules out cycles. Refused records supersede nothing.
 * @module
 */
import type { Conflict, RecordPolicy, Resolution } from './merge-policy'
import { type PolicyEntry, type PolicyRecord } from './policy-record'
import { compareRecords } from '../identity/record-order'
import { checkAccess, payloadField, prepareEntries, refuse, sortRejected, supersededHashes, type Refusal } from './record-intake'
import { refoldPolicy } from './refold-policy'
import type { RegisterConfig } from './registers'

/** One live value of a {@link multiValue} register. */
export interface LiveValue<T> {
  /** The value written. */
  readonly value: T
  /** Hash of the write. */
  readonly hash: string
  /** Author of the write. */
  readonly author: string
  /** Lamport clock of the write. */
  readonly clock: number
}

/** The view of a {@link multiValue} register. */
export interface MultiValueView<T> {
  /** Values no later record superseded, in the total order: empty, one, or a conflict. */
  readonly values: readonly LiveValue<T>[]
}

/**
 * A register that keeps every concurrent value.
 * Guarantees: the live set depends only on the set of records; a write never hides a value it did
 * not name; while more than one value is live, one `concurrent` conflict lists them all.
 */
export function multiValue<T = unknown>(config: RegisterConfig<T> = {}): RecordPolicy<MultiValueView<T>> {
  const read = config.value ?? ((payload: unknown) => payloadField(payload, 'value') as T | undefined)
  const resolve = (entries: readonly PolicyEntry[]): Resolution<MultiValueView<T>> => {
    const { records, refusals } = prepareEntries(entries)
    const refused: Refusal[] = [...refusals]
    const writes: { record: PolicyRecord; value: T }[] = []
    for (const record of records) {
      const forbidden = checkAccess(config.access, record, 'write this register')
      if (forbidden) {
        refused.push(forbidden)
        continue
      }
      const value = read(record.payload, record)
      if (value === undefined) {
        refused.push(refuse(record, 'E_INVALID', 'the write carries no value'))
        continue
      }
      writes.push({ record, value })
    }
    const byHash = new Map(writes.map((w) => [w.record.hash, w.record]))
    const superseded = new Set<string>()
    for (const { record } of writes) {
      for (const hash of supersededHashes(record.payload)) {
        const target = byHash.get(hash)
        if (target !== undefined && compareRecords(target, record) < 0) superseded.add(hash)
      }
    }
    const values = writes
      .filter((w) => !superseded.has(w.record.hash))
      .map(({ record, value }) => ({ value, hash: record.hash, author: record.author, clock: record.clock }))
    const conflicts: Conflict[] =
      values.length > 1
        ? [{ kind: 'concurrent', path: [], hashes: values.map((v) => v.hash), reason: `${values.length} concurrent values: write one that supersedes them` }]
        : []
    return { view: { values }, conflicts, rejected: sortRejected(refused) }
  }
  return refoldPolicy(resolve)
}
