/**
 * A counter: the exact sum of every record's `delta` (a PN-counter, Shapiro et al. 2011, where
 * each record is its own increment so no per-replica slot is needed).
 *
 * ```ts
 * import { counter } from 'cabildo'
 * counter().resolve(records).view.value // e.g. '42' or '1500.25': an exact decimal string
 * // records: { delta: 1 } or { delta: '-0.5' }
 * ```
 * @module
 */
import { addDecimal, formatDecimal, parseDecimal, ZERO_DECIMAL } from './decimal'
import type { RecordPolicy, Resolution } from './merge-policy'
import type { AccessRule, PolicyEntry } from './policy-record'
import { checkAccess, payloadField, prepareEntries, refuse, sortRejected, type Refusal } from './record-intake'
import { refoldPolicy } from './refold-policy'

/** Options of {@link counter}. */
export interface CounterConfig {
  /** A role writers need; others are refused with `E_FORBIDDEN`. */
  readonly access?: AccessRule
}

/** The view of a {@link counter}. */
export interface CounterView {
  /** The exact sum, as a decimal string in shortest form (`'0'`, `'-3'`, `'1500.25'`). */
  readonly value: string
  /** How many records were counted. */
  readonly count: number
}

/**
 * Sums `payload.delta` of every valid record: a safe integer number, or a decimal string
 * (`'-12.5'`). Floats are refused (`E_INVALID`) rather than rounded.
 * Guarantee: the value is the exact sum of the counted deltas, independent of order.
 */
export function counter(config: CounterConfig = {}): RecordPolicy<CounterView> {
  const resolve = (entries: readonly PolicyEntry[]): Resolution<CounterView> => {
    const { records, refusals } = prepareEntries(entries)
    const refused: Refusal[] = [...refusals]
    let sum = ZERO_DECIMAL
    let count = 0
    for (const record of records) {
      const forbidden = checkAccess(config.access, record, 'change this counter')
      if (forbidden) {
        refused.push(forbidden)
        continue
      }
      const delta = payloadField(record.payload, 'delta')
      const parsed =
        typeof delta === 'number' ? (Number.isSafeInteger(delta) ? parseDecimal(String(delta)) : undefined) : parseDecimal(delta)
      if (parsed === undefined) {
        refused.push(refuse(record, 'E_INVALID', 'delta is neither a safe integer nor a decimal string'))
        continue
      }
      sum = addDecimal(sum, parsed)
      count += 1
    }
    return { view: { value: formatDecimal(sum), count }, conflicts: [], rejected: sortRejected(refused) }
  }
  return refoldPolicy(resolve)
}
