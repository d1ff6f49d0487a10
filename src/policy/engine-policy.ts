/**
 * The batch and incremental forms of a policy, built from one engine factory, so every policy
 * that keeps an incremental engine offers `resolve` and `incremental()` the same way.
 * @module
 */
import type { IncrementalPolicy, IncrementalResolver } from './merge-policy'
import type { PolicyEntry } from './policy-record'

/** An incremental resolver that can also take a whole batch at once (cheaper than one by one). */
export type BatchResolver<V> = IncrementalResolver<PolicyEntry, V> & { bulk(entries: readonly PolicyEntry[]): void }

/**
 * A policy whose `resolve` feeds a fresh engine the whole batch and whose `incremental()` hands
 * out a fresh engine without its `bulk` method.
 */
export function engineBackedPolicy<V>(createEngine: () => BatchResolver<V>): IncrementalPolicy<PolicyEntry, V> {
  return {
    resolve(entries) {
      const engine = createEngine()
      engine.bulk(entries)
      return engine.view()
    },
    incremental() {
      const engine = createEngine()
      return {
        add: (entry) => engine.add(entry),
        view: () => engine.view(),
        get size() {
          return engine.size
        },
      }
    },
  }
}
