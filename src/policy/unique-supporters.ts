/**
 * Supports of a proposal: one support per key, withdrawal by the same key, and a threshold that
 * derives a `qualified` state.
 *
 * ```ts
 * import { uniqueSupporters } from 'cabildo'
 * const supports = uniqueSupporters({ threshold: 300, access: { authorize, role: 'resident' } })
 * const { view } = supports.resolve(records) // records of type 'support' / 'support.withdraw'
 * view.count; view.qualified; view.qualifiedAt // the support that first reached 300
 * ```
 *
 * The fold walks the records in the total order, per key: a support makes the key a supporter
 * (a repeated support replaces the previous one, reported as `superseded`); a withdrawal ends it
 * (`E_INVALID` when there is nothing to withdraw). Only the author can support or withdraw for
 * itself: the key IS the author. Records of other types are `E_INVALID`.
 *
 * Two facts come out: `qualified` (the current count reaches the threshold) and `qualifiedAt`
 * (the support at which the count first reached it, in the total order), which stays set even
 * if supporters withdraw later; a process decides which of the two it honours.
 * @module
 */
import { CabildoError } from '../errors'
import type { Conflict, RecordPolicy, Resolution } from './merge-policy'
import { compareStrings, type AccessRule, type PolicyEntry, type PolicyRecord } from './policy-record'
import { checkAccess, prepareEntries, refuse, sortRejected, type Refusal } from './record-intake'
import { refoldPolicy } from './refold-policy'

/** Options of {@link uniqueSupporters}. */
export interface UniqueSupportersConfig {
  /** Supporters needed to qualify, an integer `>= 1`. */
  readonly threshold: number
  /** Record type of a support. Default `'support'`. */
  readonly supportType?: string
  /** Record type of a withdrawal. Default `'support.withdraw'`. */
  readonly withdrawType?: string
  /** A role supporters need at the record's clock; others are refused with `E_FORBIDDEN`. */
  readonly access?: AccessRule
}

/** One current supporter. */
export interface Supporter {
  /** The supporting key. */
  readonly supporter: string
  /** Hash of the support that counts. */
  readonly hash: string
  /** Its Lamport clock. */
  readonly clock: number
}

/** The view of {@link uniqueSupporters}. */
export interface UniqueSupportersView {
  /** Current supporters, sorted by key (UTF-16 code units). */
  readonly supporters: readonly Supporter[]
  /** `supporters.length`. */
  readonly count: number
  /** The configured threshold. */
  readonly threshold: number
  /** Whether the current count reaches the threshold. */
  readonly qualified: boolean
  /** The support at which the count first reached the threshold in the total order; `null` if never. */
  readonly qualifiedAt: { readonly hash: string; readonly clock: number } | null
}

/**
 * The support-counting policy.
 * Guarantees: each key counts at most once; the result depends only on the set of records;
 * `qualifiedAt` depends only on the records before it in the total order, so later records
 * never move it.
 * @throws CabildoError `E_ARGUMENT` when `threshold` is not an integer >= 1
 */
export function uniqueSupporters(config: UniqueSupportersConfig): RecordPolicy<UniqueSupportersView> {
  const { threshold } = config
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new CabildoError('E_ARGUMENT', `threshold must be an integer >= 1, got ${String(threshold)}`, {
      argument: 'threshold',
      reason: 'expected an integer >= 1',
    })
  }
  const supportType = config.supportType ?? 'support'
  const withdrawType = config.withdrawType ?? 'support.withdraw'

  const resolve = (entries: readonly PolicyEntry[]): Resolution<UniqueSupportersView> => {
    const { records, refusals } = prepareEntries(entries)
    const refused: Refusal[] = [...refusals]
    const conflicts: Conflict[] = []
    const active = new Map<string, PolicyRecord>()
    let qualifiedAt: UniqueSupportersView['qualifiedAt'] = null
    for (const record of records) {
      if (record.type !== supportType && record.type !== withdrawType) {
        refused.push(refuse(record, 'E_INVALID', `type '${record.type}' is neither '${supportType}' nor '${withdrawType}'`))
        continue
      }
      const forbidden = checkAccess(config.access, record, 'support')
      if (forbidden) {
        refused.push(forbidden)
        continue
      }
      const previous = active.get(record.author)
      if (record.type === withdrawType) {
        if (previous === undefined) refused.push(refuse(record, 'E_INVALID', 'nothing to withdraw: the key does not support'))
        else active.delete(record.author)
        continue
      }
      if (previous !== undefined) {
        const reason = `replaced by the same key's later support ${record.hash}`
        conflicts.push({ kind: 'superseded', path: [record.author], hashes: [previous.hash], winner: record.hash, reason })
      }
      active.set(record.author, record)
      if (qualifiedAt === null && active.size >= threshold) qualifiedAt = { hash: record.hash, clock: record.clock }
    }
    const supporters = [...active.values()]
      .map((r) => ({ supporter: r.author, hash: r.hash, clock: r.clock }))
      .sort((a, b) => compareStrings(a.supporter, b.supporter))
    const view: UniqueSupportersView = {
      supporters,
      count: supporters.length,
      threshold,
      qualified: supporters.length >= threshold,
      qualifiedAt,
    }
    return { view, conflicts, rejected: sortRejected(refused) }
  }
  return refoldPolicy(resolve)
}
