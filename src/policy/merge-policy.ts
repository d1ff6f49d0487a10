/**
 * The one interface every merge policy implements: a pure fold from a set of records to a
 * resolved view, the conflicts it saw and the records it refused.
 *
 * ```ts
 * import { lww, type MergePolicy } from 'cabildo'
 * const title = lww<string>()
 * const { view, conflicts, rejected } = title.resolve(records)
 * // view: the highest write in the total order; conflicts: the writes it overwrote;
 * // rejected: records that failed verification or a rule, with a code and a reason
 * ```
 *
 * The contract (checked by `runPolicyTests` from `cabildo/testing`):
 * - determinism: the same input gives a deep-equal output, on every replica;
 * - order independence: any permutation of the input, with any entry repeated, gives the same output;
 * - nothing is silently dropped: a record that does not count, and was not explicitly superseded
 *   by a later record, is in `conflicts` or in `rejected` (with a code and a reason);
 * - for an {@link IncrementalPolicy}: adding the records one by one, in any order, gives what
 *   `resolve` gives for the same set.
 * @module
 */
import type { PolicyEntry } from './policy-record'

/**
 * Codes of refused records, a documented union:
 * - `E_SIGNATURE`: the caller could not verify the signature (carried from a `FailedRecord`);
 * - `E_INVALID`: the record or its payload breaks a rule of the policy (malformed, a transition
 *   that does not exist, a ballot the voting method refuses);
 * - `E_FORBIDDEN`: the author lacks the role the act needs, at the record's clock;
 * - `E_LATE`: the record comes after the signed act that closed what it belongs to;
 * - `over_cap`: a well-formed, authorized record that did not fit under a cap. It is spelled
 *   differently on purpose: it is not an error of its author, only an outcome of the order.
 */
export const RejectionCode = {
  E_SIGNATURE: 'E_SIGNATURE',
  E_INVALID: 'E_INVALID',
  E_FORBIDDEN: 'E_FORBIDDEN',
  E_LATE: 'E_LATE',
  over_cap: 'over_cap',
} as const
/** A code of a refused record; see {@link RejectionCode}. */
export type RejectionCode = (typeof RejectionCode)[keyof typeof RejectionCode]

/** A record a policy refused: it stays in the document and is reported here. */
export interface Rejected {
  /** The refused record's hash. */
  readonly hash: string
  /** Why, as a stable code. */
  readonly code: RejectionCode
  /** A sentence for people. */
  readonly reason: string
  /** The name of the rule that refused it, when the rule has one (e.g. a voting method's `maxProjects`). */
  readonly rule?: string
}

/**
 * Kinds of conflict:
 * - `concurrent`: several values are live at once and nobody has resolved them yet (`multiValue`,
 *   an element both added and removed in `union`);
 * - `lost`: records that lost to `winner` under the policy's deterministic rule (overwritten
 *   register writes, a transition from a state that another transition already left, a second close);
 * - `superseded`: records replaced by a later record of the same author (earlier ballots of a
 *   voter, a repeated support).
 */
export const ConflictKind = {
  concurrent: 'concurrent',
  lost: 'lost',
  superseded: 'superseded',
} as const
/** A kind of conflict; see {@link ConflictKind}. */
export type ConflictKind = (typeof ConflictKind)[keyof typeof ConflictKind]

/** Something a person may want to look at: records that did not simply win. */
export interface Conflict {
  /** What happened; see {@link ConflictKind}. */
  readonly kind: ConflictKind
  /**
   * Where, inside the view: `[]` at the top, `[voter]` in `onePerVoter`, `[element]` in `union`,
   * and a `keyed` policy puts the entity's key in front.
   */
  readonly path: readonly string[]
  /** The records concerned (the losers, or every live value for `concurrent`), in the total order. */
  readonly hashes: readonly string[]
  /** The record that won, when there is one. */
  readonly winner?: string
  /** A sentence for people. */
  readonly reason: string
}

/** What a policy returns: the view plus everything that did not simply win. */
export interface Resolution<V> {
  /** The resolved view. */
  readonly view: V
  /** Conflicts the fold saw, in a deterministic order. */
  readonly conflicts: readonly Conflict[]
  /** Refused records, sorted by the total order of records (unknown fields sort first). */
  readonly rejected: readonly Rejected[]
}

/**
 * A merge policy: a pure, deterministic fold from its input to a {@link Resolution}.
 * `resolve` must not mutate its input, read a clock, draw random numbers or keep state between calls.
 */
export interface MergePolicy<In, View> {
  /**
   * Folds the input into a resolution.
   * @throws never for any input of type `In`: bad records end up in `rejected`
   */
  resolve(input: In): Resolution<View>
}

/** Stateful, incremental form of a policy: feed records as they arrive, read the view at any time. */
export interface IncrementalResolver<E, View> {
  /** Adds one entry, in any order; repeating an entry changes nothing. */
  add(entry: E): void
  /** The resolution of every entry added so far: deep-equal to the batch `resolve` of the same set. */
  view(): Resolution<View>
  /** How many distinct records (by hash) were added. */
  readonly size: number
}

/** A policy over record sets that also offers an incremental resolver. */
export interface IncrementalPolicy<E, View> extends MergePolicy<readonly E[], View> {
  /** Starts an empty incremental resolver with the policy's configuration. */
  incremental(): IncrementalResolver<E, View>
}

/** A policy over sets of {@link PolicyEntry}: the shape of every built-in policy. */
export type RecordPolicy<View> = IncrementalPolicy<PolicyEntry, View>
