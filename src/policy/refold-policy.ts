/**
 * Turns a batch `resolve` function into a full {@link RecordPolicy}: its incremental resolver
 * keeps the distinct entries and re-folds them when the view is read (at most once per change).
 *
 * ```ts
 * import { refoldPolicy, prepareEntries, sortRejected } from 'cabildo'
 * const count = refoldPolicy((entries) => {
 *   const { records, refusals } = prepareEntries(entries)
 *   return { view: records.length, conflicts: [], rejected: sortRejected(refusals) }
 * })
 * const live = count.incremental()
 * live.add(record)
 * live.view().view // 1
 * ```
 *
 * Use it for policies whose fold is cheap; write a dedicated incremental resolver where a fold
 * is large and records keep arriving (`onePerVoter`, `stateMachine`, `cappedAllocation` do).
 * @module
 */
import type { IncrementalResolver, RecordPolicy, Resolution } from './merge-policy'
import type { PolicyEntry } from './policy-record'
import { createRecordIntake } from './record-intake'

/** An incremental resolver that re-runs `resolve` over the distinct entries added so far. */
export function refoldIncremental<V>(
  resolve: (entries: readonly PolicyEntry[]) => Resolution<V>,
): IncrementalResolver<PolicyEntry, V> {
  const intake = createRecordIntake()
  const entries: PolicyEntry[] = []
  let cached: Resolution<V> | undefined
  return {
    add(entry) {
      if (intake.add(entry).kind === 'duplicate') return
      entries.push(entry)
      cached = undefined
    },
    view() {
      cached ??= resolve(entries)
      return cached
    },
    get size() {
      return intake.size
    },
  }
}

/** A {@link RecordPolicy} from a batch resolve function, with a re-folding incremental form. */
export function refoldPolicy<V>(resolve: (entries: readonly PolicyEntry[]) => Resolution<V>): RecordPolicy<V> {
  return {
    resolve,
    incremental: () => refoldIncremental(resolve),
  }
}
