/**
 * Single-value registers: `lww`, `firstWriter`, `max`, `min`. Each write is a record whose
 * payload carries a value (`{ value }` by default); the register keeps one winner and reports
 * the other writes as a `lost` conflict, so no write disappears from sight.
 *
 * ```ts
 * import { lww, max } from 'cabildo'
 * lww<string>().resolve(titleWrites).view?.value      // the write highest in the total order
 * max<number>().resolve(estimateWrites).view?.value   // the largest value written
 * ```
 *
 * Registers are semilattices (Shapiro et al., "Conflict-free Replicated Data Types", 2011): the
 * winner of a set does not depend on the order of its elements, so replicas converge.
 * @module
 */
import type { Conflict, RecordPolicy, Resolution } from './merge-policy'
import { compareStrings, type AccessRule, type PolicyEntry, type PolicyRecord } from './policy-record'
import { checkAccess, payloadField, prepareEntries, refuse, sortRejected, type Refusal } from './record-intake'
import { refoldPolicy } from './refold-policy'

/** The resolved value of a register, with the write it came from; `null` while nothing valid was written. */
export type RegisterView<T> = {
  /** The winning value. */
  readonly value: T
  /** Hash of the winning write. */
  readonly hash: string
  /** Author of the winning write. */
  readonly author: string
  /** Lamport clock of the winning write. */
  readonly clock: number
} | null

/** Reads a record's value: `undefined` refuses the record with `E_INVALID`. */
export type ValueReader<T> = (payload: unknown, record: PolicyRecord) => T | undefined

/** Options shared by the registers. */
export interface RegisterConfig<T> {
  /**
   * Reads (and should check) the value of a write. Default: the payload's `value` field, unchecked;
   * pass a reader that validates (e.g. with a zod schema) when records come from others.
   */
  readonly value?: ValueReader<T>
  /** A role writers need; writes from authors without it are refused with `E_FORBIDDEN`. */
  readonly access?: AccessRule
}

/** Options of `max` and `min`. */
export interface OrderedRegisterConfig<T> extends RegisterConfig<T> {
  /**
   * A total order of values (negative, zero, positive). Default: finite numbers numerically, then
   * strings by UTF-16 code units; other values are refused with `E_INVALID`.
   */
  readonly compare?: (a: T, b: T) => number
}

const defaultReader = <T>(payload: unknown): T | undefined => payloadField(payload, 'value') as T | undefined

/** The default order of values for `max`/`min`: numbers before strings; `undefined` for other values. */
export function compareScalars(a: unknown, b: unknown): number {
  const ra = scalarRank(a)
  const rb = scalarRank(b)
  if (ra !== rb) return ra - rb
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0
  return compareStrings(String(a), String(b))
}

function scalarRank(v: unknown): number {
  return typeof v === 'number' ? 0 : 1
}

function isScalar(v: unknown): boolean {
  return (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string'
}

interface Write<T> {
  readonly record: PolicyRecord
  readonly value: T
}

/** Shared fold: reads and checks every write, then lets `pick` choose the winner's index. */
function registerPolicy<T>(
  config: RegisterConfig<T>,
  accept: (value: T) => boolean,
  pick: (writes: readonly Write<T>[]) => number,
  reason: string,
): RecordPolicy<RegisterView<T>> {
  const read = config.value ?? defaultReader<T>
  const resolve = (entries: readonly PolicyEntry[]): Resolution<RegisterView<T>> => {
    const { records, refusals } = prepareEntries(entries)
    const writes: Write<T>[] = []
    const refused: Refusal[] = [...refusals]
    for (const record of records) {
      const forbidden = checkAccess(config.access, record, 'write this register')
      if (forbidden) {
        refused.push(forbidden)
        continue
      }
      const value = read(record.payload, record)
      if (value === undefined || !accept(value)) {
        refused.push(refuse(record, 'E_INVALID', 'the write carries no usable value'))
        continue
      }
      writes.push({ record, value })
    }
    const rejected = sortRejected(refused)
    if (writes.length === 0) return { view: null, conflicts: [], rejected }
    const index = pick(writes)
    const won = writes[index] as Write<T>
    const losers = writes.filter((_, i) => i !== index).map((w) => w.record.hash)
    const conflicts: Conflict[] =
      losers.length === 0 ? [] : [{ kind: 'lost', path: [], hashes: losers, winner: won.record.hash, reason }]
    const { hash, author, clock } = won.record
    return { view: { value: won.value, hash, author, clock }, conflicts, rejected }
  }
  return refoldPolicy(resolve)
}

/** Index of the best write by `better` (writes are in the total order; ties keep the later one). */
function bestBy<T>(writes: readonly Write<T>[], compare: (a: T, b: T) => number, sign: 1 | -1): number {
  let best = 0
  for (let i = 1; i < writes.length; i++) {
    const c = compare((writes[i] as Write<T>).value, (writes[best] as Write<T>).value) * sign
    if (c >= 0) best = i
  }
  return best
}

/**
 * Last writer wins: the write highest in the total order `(clock, author, hash)`.
 * Guarantee: the view equals the value of the greatest valid write, whatever the delivery order.
 */
export function lww<T = unknown>(config: RegisterConfig<T> = {}): RecordPolicy<RegisterView<T>> {
  return registerPolicy(config, () => true, (writes) => writes.length - 1, 'overwritten by a later write (last writer wins)')
}

/**
 * First writer wins: the write lowest in the total order; later writes are reported as `lost`.
 * Note that an author can declare a low clock: use it where writers are trusted (e.g. a role).
 */
export function firstWriter<T = unknown>(config: RegisterConfig<T> = {}): RecordPolicy<RegisterView<T>> {
  return registerPolicy(config, () => true, () => 0, 'an earlier write holds the register (first writer wins)')
}

/** The largest value wins; among equal values, the write highest in the total order. */
export function max<T = unknown>(config: OrderedRegisterConfig<T> = {}): RecordPolicy<RegisterView<T>> {
  const compare = config.compare ?? compareScalars
  const accept = config.compare === undefined ? isScalar : () => true
  return registerPolicy(config, accept, (writes) => bestBy(writes, compare, 1), 'a larger value holds the register (max)')
}

/** The smallest value wins; among equal values, the write highest in the total order. */
export function min<T = unknown>(config: OrderedRegisterConfig<T> = {}): RecordPolicy<RegisterView<T>> {
  const compare = config.compare ?? compareScalars
  const accept = config.compare === undefined ? isScalar : () => true
  return registerPolicy(config, accept, (writes) => bestBy(writes, compare, -1), 'a smaller value holds the register (min)')
}
