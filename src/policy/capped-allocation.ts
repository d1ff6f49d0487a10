/**
 * Allocations under a cap: accepted in the total order until the cap is reached; the rest are
 * flagged `over_cap` in `rejected`, never dropped. Amounts are exact decimal strings.
 *
 * ```ts
 * import { cappedAllocation } from 'cabildo'
 * const budget = cappedAllocation({ cap: '600000', access: { authorize, role: 'staff' } })
 * const { view, rejected } = budget.resolve(records) // records: { amount: '150000.50', ... }
 * view.allocated // '450000.5'; rejected lists the allocations flagged over_cap
 * ```
 *
 * Two documented ways to fill (`fit`):
 * - `'prefix'` (default): allocations are taken in the total order; the first one that does not
 *   fit closes the cap, and it and every later allocation are `over_cap`;
 * - `'greedy'`: each allocation is taken if it still fits, so a later, smaller one may pass
 *   after a larger one was flagged.
 * Either way an allocation's outcome depends only on the allocations before it in the total
 * order: accepting a later allocation never un-accepts an earlier one.
 * @module
 */
import { engineBackedPolicy, type BatchResolver } from './engine-policy'
import { CabildoError } from '../errors'
import { addDecimal, compareDecimal, formatDecimal, parseDecimal, ZERO_DECIMAL, type Decimal } from './decimal'
import type { IncrementalPolicy, Resolution } from './merge-policy'
import { type AccessRule, type PolicyEntry, type PolicyRecord } from './policy-record'
import { compareRecords } from '../identity/record-order'
import { checkAccess, createRecordIntake, insertionIndex, payloadField, refuse, sortRejected, type Refusal } from './record-intake'

/** How allocations fill the cap; see the module comment. */
export const CapFit = { prefix: 'prefix', greedy: 'greedy' } as const
/** How allocations fill the cap; see {@link CapFit}. */
export type CapFit = (typeof CapFit)[keyof typeof CapFit]

/** Options of {@link cappedAllocation}. */
export interface CappedAllocationConfig {
  /** The cap, a non-negative decimal string (`'600000'`). */
  readonly cap: string
  /** How allocations fill the cap. Default `'prefix'`. */
  readonly fit?: CapFit
  /** Reads the amount (a non-negative decimal string). Default: the payload's `amount` field. */
  readonly amount?: (payload: unknown, record: PolicyRecord) => unknown
  /** A role allocators need; others are refused with `E_FORBIDDEN`. */
  readonly access?: AccessRule
}

/** One accepted allocation. */
export interface Allocation {
  /** Hash of the allocation record. */
  readonly hash: string
  /** Who allocated. */
  readonly author: string
  /** Lamport clock of the record. */
  readonly clock: number
  /** The amount, as written. */
  readonly amount: string
}

/** The view of a {@link cappedAllocation}. */
export interface CappedAllocationView {
  /** The cap, in shortest form. */
  readonly cap: string
  /** The exact sum of accepted amounts. */
  readonly allocated: string
  /** `cap - allocated`, never negative. */
  readonly remaining: string
  /** Accepted allocations, in the total order. */
  readonly accepted: readonly Allocation[]
}

type Outcome = { readonly kind: 'accepted'; readonly amount: string } | { readonly kind: 'refused'; readonly refusal: Refusal }

interface Slot {
  readonly record: PolicyRecord
  outcome: Outcome
  /** Sum accepted after this record. */
  sum: Decimal
  /** In `prefix` fit: whether the cap was closed at or before this record. */
  full: boolean
}

/**
 * An allocation policy with a cap.
 * Guarantees: the accepted amounts never sum above the cap; an allocation's outcome depends only
 * on the records before it in the total order; over-cap allocations are reported, not dropped.
 * @throws CabildoError `E_ARGUMENT` when `cap` is not a non-negative decimal string
 */
export function cappedAllocation(config: CappedAllocationConfig): IncrementalPolicy<PolicyEntry, CappedAllocationView> {
  const cap = parseDecimal(config.cap)
  if (cap === undefined || cap.units < 0n) {
    throw new CabildoError('E_ARGUMENT', `cap is not a non-negative decimal string: ${JSON.stringify(config.cap)}`, {
      argument: 'cap',
      reason: 'expected a non-negative decimal string such as "600000"',
    })
  }
  const greedy = config.fit === 'greedy'
  const readAmount = config.amount ?? ((payload: unknown) => payloadField(payload, 'amount'))
  const capText = formatDecimal(cap)

  const step = (slot: Slot, sum: Decimal, full: boolean): void => {
    const { record } = slot
    slot.sum = sum
    slot.full = full
    const forbidden = checkAccess(config.access, record, 'allocate')
    if (forbidden) {
      slot.outcome = { kind: 'refused', refusal: forbidden }
      return
    }
    const raw = readAmount(record.payload, record)
    const amount = parseDecimal(raw)
    if (amount === undefined || amount.units < 0n) {
      slot.outcome = { kind: 'refused', refusal: refuse(record, 'E_INVALID', 'amount is not a non-negative decimal string') }
      return
    }
    const next = addDecimal(sum, amount)
    if (full || compareDecimal(next, cap) > 0) {
      const left = formatDecimal(addDecimal(cap, { units: -sum.units, scale: sum.scale }))
      const reason = full ? `the cap ${capText} was reached earlier in the total order` : `${raw as string} exceeds the ${left} left under the cap ${capText}`
      slot.outcome = { kind: 'refused', refusal: refuse(record, 'over_cap', reason) }
      slot.full = !greedy
      return
    }
    slot.outcome = { kind: 'accepted', amount: raw as string }
    slot.sum = next
  }

  const createEngine = (): BatchResolver<CappedAllocationView> => {
    const intake = createRecordIntake()
    const slots: Slot[] = []
    let cached: Resolution<CappedAllocationView> | undefined
    const refoldFrom = (p: number): void => {
      const before = p > 0 ? (slots[p - 1] as Slot) : undefined
      let sum = before?.sum ?? ZERO_DECIMAL
      let full = before?.full ?? false
      for (let i = p; i < slots.length; i++) {
        const slot = slots[i] as Slot
        step(slot, sum, full)
        sum = slot.sum
        full = slot.full
      }
    }
    const newSlot = (record: PolicyRecord): Slot => ({ record, outcome: { kind: 'accepted', amount: '0' }, sum: ZERO_DECIMAL, full: false })
    return {
      add(entry) {
        const result = intake.add(entry)
        if (result.kind === 'duplicate') return
        cached = undefined
        if (result.kind !== 'record') return
        const slot = newSlot(result.record)
        const p = insertionIndex(slots, slot, (a, b) => compareRecords(a.record, b.record))
        slots.splice(p, 0, slot)
        refoldFrom(p)
      },
      bulk(entries) {
        for (const entry of entries) {
          const result = intake.add(entry)
          if (result.kind === 'record') slots.push(newSlot(result.record))
        }
        slots.sort((a, b) => compareRecords(a.record, b.record))
        cached = undefined
        refoldFrom(0)
      },
      view() {
        if (cached !== undefined) return cached
        const refusals = intake.refusals()
        const accepted: Allocation[] = []
        for (const { record, outcome } of slots) {
          if (outcome.kind === 'refused') refusals.push(outcome.refusal)
          else accepted.push({ hash: record.hash, author: record.author, clock: record.clock, amount: outcome.amount })
        }
        const sum = slots[slots.length - 1]?.sum ?? ZERO_DECIMAL
        const remaining = formatDecimal(addDecimal(cap, { units: -sum.units, scale: sum.scale }))
        cached = {
          view: { cap: capText, allocated: formatDecimal(sum), remaining, accepted },
          conflicts: [],
          rejected: sortRejected(refusals),
        }
        return cached
      },
      get size() {
        return intake.size
      },
    }
  }

  return engineBackedPolicy(createEngine)
}
