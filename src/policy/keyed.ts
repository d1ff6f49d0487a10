/**
 * Runs one policy per entity: records are grouped by a key read from each record (a ticket id,
 * a field name, a budget id) and every group is resolved on its own.
 *
 * ```ts
 * import { keyed, payloadField, stateMachine } from 'cabildo'
 * const tickets = keyed(stateMachine(ticketRules), (r) => {
 *   const id = payloadField(r.payload, 'ticket')
 *   return typeof id === 'string' ? id : undefined
 * })
 * const { view, conflicts } = tickets.resolve(records)
 * view.get('T-17')?.state // conflicts[i].path starts with the ticket id
 * ```
 * @module
 */
import type { Conflict, IncrementalResolver, MergePolicy, RecordPolicy, Rejected, Resolution } from './merge-policy'
import { compareStrings, type PolicyEntry, type PolicyRecord } from './policy-record'
import { createRecordIntake, refuse, sortRejected, type Refusal } from './record-intake'

/** Reads the group key of a record; `undefined` (or a throw) refuses the record with `E_INVALID`. */
export type KeyOf = (record: PolicyRecord) => string | undefined

/**
 * Groups records by key and resolves each group with `inner`.
 * Guarantees: those of `inner`, per group; the view is a map sorted by key (UTF-16 code units);
 * conflict paths are prefixed with the key; `rejected` merges every group's, in the total order.
 * When `inner` is incremental, so is each group's resolver.
 */
export function keyed<V>(inner: MergePolicy<readonly PolicyEntry[], V>, keyOf: KeyOf): RecordPolicy<ReadonlyMap<string, V>> {
  /** Routes one new verified record: its key, or a refusal. */
  const route = (record: PolicyRecord): string | Refusal => {
    let key: string | undefined
    try {
      key = keyOf(record)
    } catch {
      key = undefined
    }
    return typeof key === 'string' ? key : refuse(record, 'E_INVALID', 'the record names no key for this policy')
  }
  return {
    resolve(entries) {
      const intake = createRecordIntake()
      const groups = new Map<string, PolicyRecord[]>()
      const refusals: Refusal[] = []
      const order = new Map<string, PolicyRecord>()
      for (const entry of entries) {
        const result = intake.add(entry)
        if (result.kind !== 'record') continue
        const key = route(result.record)
        if (typeof key !== 'string') {
          refusals.push(key)
          continue
        }
        order.set(result.record.hash, result.record)
        const group = groups.get(key)
        if (group === undefined) groups.set(key, [result.record])
        else group.push(result.record)
      }
      refusals.push(...intake.refusals())
      return merge([...groups].map(([key, records]) => [key, inner.resolve(records)] as const), refusals, order)
    },
    incremental() {
      const intake = createRecordIntake()
      const groups = new Map<string, IncrementalResolver<PolicyEntry, V>>()
      const unkeyed: Refusal[] = []
      const order = new Map<string, PolicyRecord>()
      let cached: Resolution<ReadonlyMap<string, V>> | undefined
      return {
        add(entry) {
          const result = intake.add(entry)
          if (result.kind === 'duplicate') return
          cached = undefined
          if (result.kind !== 'record') return
          const key = route(result.record)
          if (typeof key !== 'string') {
            unkeyed.push(key)
            return
          }
          order.set(result.record.hash, result.record)
          let group = groups.get(key)
          if (group === undefined) {
            group = startGroup(inner)
            groups.set(key, group)
          }
          group.add(result.record)
        },
        view() {
          cached ??= merge(
            [...groups].map(([key, group]) => [key, group.view()] as const),
            [...intake.refusals(), ...unkeyed],
            order,
          )
          return cached
        },
        get size() {
          return intake.size
        },
      }
    },
  }
}

/** Assembles the keyed resolution: groups sorted by key, conflict paths prefixed, rejected in the total order. */
function merge<V>(
  groups: ReadonlyArray<readonly [string, Resolution<V>]>,
  refusals: Refusal[],
  order: ReadonlyMap<string, PolicyRecord>,
): Resolution<ReadonlyMap<string, V>> {
  const view = new Map<string, V>()
  const conflicts: Conflict[] = []
  for (const [key, resolution] of [...groups].sort((a, b) => compareStrings(a[0], b[0]))) {
    view.set(key, resolution.view)
    for (const c of resolution.conflicts) conflicts.push({ ...c, path: [key, ...c.path] })
    for (const r of resolution.rejected) refusals.push(placed(r, order.get(r.hash)))
  }
  return { view, conflicts, rejected: sortRejected(refusals) }
}

/** A group's resolver: the inner policy's own incremental form, or a collector that resolves on read. */
function startGroup<V>(inner: MergePolicy<readonly PolicyEntry[], V>): IncrementalResolver<PolicyEntry, V> {
  const incremental = (inner as Partial<RecordPolicy<V>>).incremental
  if (typeof incremental === 'function') return incremental.call(inner)
  const entries: PolicyEntry[] = []
  let cached: Resolution<V> | undefined
  return {
    add(entry) {
      entries.push(entry)
      cached = undefined
    },
    view() {
      cached ??= inner.resolve(entries)
      return cached
    },
    get size() {
      return entries.length
    },
  }
}

function placed(rejected: Rejected, record: PolicyRecord | undefined): Refusal {
  return { clock: record?.clock ?? 0, author: record?.author ?? '', rejected }
}
