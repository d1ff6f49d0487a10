/**
 * A set of strings built from add and remove records, with a documented bias for an element that
 * was added and removed concurrently.
 *
 * ```ts
 * import { union } from 'cabildo'
 * const tags = union({ bias: 'add-wins' })
 * tags.resolve(records).view.elements // e.g. ['lighting', 'safety']
 * // records: { op: 'add' | 'remove', element: 'safety', supersedes?: [hashes the author saw] }
 * ```
 *
 * Which operations are live (per element, in the total order):
 * - an op WITHOUT a `supersedes` field supersedes every earlier op on its element: writers that
 *   name nothing get a last-writer-wins element set;
 * - an op WITH `supersedes` (even `[]`) supersedes exactly the named earlier ops on its element:
 *   the observed-remove set of Shapiro et al. (2011). An add and a remove that did not see each
 *   other both stay live, and the bias decides: `add-wins` keeps the element, `remove-wins` drops
 *   it; either way a `concurrent` conflict names them.
 * @module
 */
import type { Conflict, RecordPolicy, Resolution } from './merge-policy'
import { compareStrings, type AccessRule, type PolicyEntry, type PolicyRecord } from './policy-record'
import { checkAccess, payloadField, prepareEntries, refuse, sortRejected, supersededHashes, type Refusal } from './record-intake'
import { refoldPolicy } from './refold-policy'

/** What wins when an element is added and removed concurrently. */
export const UnionBias = { addWins: 'add-wins', removeWins: 'remove-wins' } as const
/** What wins when an element is added and removed concurrently; see {@link UnionBias}. */
export type UnionBias = (typeof UnionBias)[keyof typeof UnionBias]

/** Options of {@link union}. */
export interface UnionConfig {
  /** Which op wins between a concurrent add and remove. Default `'add-wins'`. */
  readonly bias?: UnionBias
  /** A role writers need; others are refused with `E_FORBIDDEN`. */
  readonly access?: AccessRule
}

/** The live operations on one element: what a remover names in `supersedes` to remove it. */
export interface ElementOps {
  /** Live add records, in the total order. */
  readonly adds: readonly string[]
  /** Live remove records, in the total order. */
  readonly removes: readonly string[]
}

/** The view of a {@link union} set. */
export interface UnionView {
  /** The elements in the set, sorted by UTF-16 code units. */
  readonly elements: readonly string[]
  /** Every element that has live ops (present or not), in the same sorted order. */
  readonly live: ReadonlyMap<string, ElementOps>
}

interface Op {
  readonly record: PolicyRecord
  readonly add: boolean
  readonly explicit: boolean
}

/**
 * An add/remove set with a documented bias.
 * Guarantees: membership depends only on the set of records; an op only ever hides ops on its own
 * element that precede it in the total order.
 */
export function union(config: UnionConfig = {}): RecordPolicy<UnionView> {
  const addWins = (config.bias ?? 'add-wins') === 'add-wins'
  const resolve = (entries: readonly PolicyEntry[]): Resolution<UnionView> => {
    const { records, refusals } = prepareEntries(entries)
    const refused: Refusal[] = [...refusals]
    const byElement = new Map<string, Op[]>()
    for (const record of records) {
      const forbidden = checkAccess(config.access, record, 'change this set')
      if (forbidden) {
        refused.push(forbidden)
        continue
      }
      const op = payloadField(record.payload, 'op')
      const element = payloadField(record.payload, 'element')
      if ((op !== 'add' && op !== 'remove') || typeof element !== 'string') {
        refused.push(refuse(record, 'E_INVALID', "expected a payload { op: 'add' | 'remove', element: string }"))
        continue
      }
      const explicit = payloadField(record.payload, 'supersedes') !== undefined
      const ops = byElement.get(element) ?? []
      ops.push({ record, add: op === 'add', explicit })
      byElement.set(element, ops)
    }
    const elements: string[] = []
    const live = new Map<string, ElementOps>()
    const conflicts: Conflict[] = []
    for (const element of [...byElement.keys()].sort(compareStrings)) {
      const ops = byElement.get(element) as Op[]
      const alive = liveOps(ops)
      const adds = alive.filter((o) => o.add).map((o) => o.record.hash)
      const removes = alive.filter((o) => !o.add).map((o) => o.record.hash)
      live.set(element, { adds, removes })
      if (adds.length > 0 && (addWins || removes.length === 0)) elements.push(element)
      if (adds.length > 0 && removes.length > 0) {
        conflicts.push({
          kind: 'concurrent',
          path: [element],
          hashes: alive.map((o) => o.record.hash),
          reason: `added and removed concurrently: ${addWins ? 'add' : 'remove'} wins`,
        })
      }
    }
    return { view: { elements, live }, conflicts, rejected: sortRejected(refused) }
  }
  return refoldPolicy(resolve)
}

/** The ops no later op on the same element superseded (ops are in the total order). */
function liveOps(ops: readonly Op[]): Op[] {
  let lastImplicit = -1
  ops.forEach((o, i) => {
    if (!o.explicit) lastImplicit = i
  })
  const index = new Map(ops.map((o, i) => [o.record.hash, i]))
  const dead = new Set<number>()
  ops.forEach((o, i) => {
    if (!o.explicit) return
    for (const hash of supersededHashes(o.record.payload)) {
      const j = index.get(hash)
      if (j !== undefined && j < i) dead.add(j)
    }
  })
  return ops.filter((_, i) => i >= lastImplicit && !dead.has(i))
}
