/**
 * Allocations of a participatory budget (line items: money given to a project) as signed acts by
 * district `staff`, capped at the budget's total with `cappedAllocation`.
 *
 * ```ts
 * const { view, rejected } = resolveAllocations(entries, { cap: '600000', projects: new Set(['park']), authorize })
 * view.lines     // accepted line items, in the total order
 * view.remaining // what is left under the cap
 * ```
 *
 * The cap fills `greedy`: an allocation is accepted when it still fits after every allocation
 * before it in the total order, so one line item too large for what is left (`over_cap`) does
 * not freeze the budget: staff can still allocate what remains.
 * @module
 */
import { cappedAllocation } from '../policy/capped-allocation'
import type { Rejected } from '../policy/merge-policy'
import { isFailedRecord, type Authorize, type PolicyEntry, type PolicyRecord } from '../policy/policy-record'
import { refuse, type Refusal } from '../policy/record-intake'
import { budgetAllocatePayload, type BudgetAllocatePayload } from './budget-rules'
import { screenEntries } from './screen-entries'

/** What allocations are checked against. */
export interface AllocationRules {
  /** The cap: the budget's total, a decimal string. */
  readonly cap: string
  /** The budget's project ids. */
  readonly projects: ReadonlySet<string>
  /** The role check of the budget's district roster (allocators need `staff`). */
  readonly authorize: Authorize
}

/** One accepted line item. */
export interface AllocationLine {
  /** Hash of the allocation act. */
  readonly hash: string
  /** Who allocated. */
  readonly author: string
  /** Its Lamport clock. */
  readonly clock: number
  /** The project funded. */
  readonly project: string
  /** The amount, as written (a decimal string). */
  readonly amount: string
  /** The note given with it, if any. */
  readonly note?: string
}

/** The allocations of a budget. */
export interface BudgetAllocations {
  /** The cap, in shortest form. */
  readonly cap: string
  /** The exact sum of accepted amounts. */
  readonly allocated: string
  /** `cap - allocated`. */
  readonly remaining: string
  /** Accepted line items, in the total order. */
  readonly lines: readonly AllocationLine[]
}

/**
 * Why an allocation cannot be weighed against the cap: its author lacks `staff` at its clock
 * (`E_FORBIDDEN`), its payload is malformed (`E_INVALID`, rule `payload`) or names a project
 * that is not the budget's (`E_INVALID`, rule `unknown-project`); `undefined` when it may be.
 */
export function allocationProblem(record: PolicyRecord, rules: AllocationRules): Refusal | undefined {
  if (!rules.authorize(record.author, 'staff', record.clock)) {
    return refuse(record, 'E_FORBIDDEN', `${record.author} lacks role 'staff' at clock ${record.clock} to allocate`)
  }
  const parsed = budgetAllocatePayload.safeParse(record.payload)
  if (!parsed.success) return refuse(record, 'E_INVALID', 'expected a payload { budget, project, amount }', 'payload')
  if (!rules.projects.has(parsed.data.project)) return refuse(record, 'E_INVALID', `project ${parsed.data.project} is not in this budget`, 'unknown-project')
  return undefined
}

/**
 * Resolves a budget's allocations. Pure and order-free.
 * @param entries - the budget's allocation acts (failed ones included, to be reported)
 * @throws CabildoError `E_ARGUMENT` when the cap is not a non-negative decimal string
 */
export function resolveAllocations(entries: readonly PolicyEntry[], rules: AllocationRules): { view: BudgetAllocations; rejected: readonly Rejected[] } {
  const { passed, refused } = screenEntries(entries, (record) => allocationProblem(record, rules))
  const payloads = new Map<string, BudgetAllocatePayload>()
  for (const entry of passed) if (!isFailedRecord(entry)) payloads.set(entry.hash, entry.payload as BudgetAllocatePayload)
  const { view, rejected } = cappedAllocation({ cap: rules.cap, fit: 'greedy' }).resolve(passed)
  const lines = view.accepted.map((a): AllocationLine => {
    const { project, note } = payloads.get(a.hash) as BudgetAllocatePayload
    return { hash: a.hash, author: a.author, clock: a.clock, project, amount: a.amount, ...(note === undefined ? {} : { note }) }
  })
  return { view: { cap: view.cap, allocated: view.allocated, remaining: view.remaining, lines }, rejected: [...refused, ...rejected] }
}
