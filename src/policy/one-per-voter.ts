/**
 * One ballot per voter: each eligible voter's latest valid ballot counts; earlier ones are
 * reported as `superseded`; ballots after the signed close, from ineligible keys or refused by
 * the voting method are `rejected` with a code and a reason.
 *
 * ```ts
 * import { onePerVoter } from 'cabildo'
 * const vote = onePerVoter({ authorize: roster.authorize, eligibilityRole: 'voter', closeRole: 'staff' })
 * const live = vote.incremental()
 * for (const record of records) live.add(record) // any order; one add is O(log n)
 * live.view().view.ballots // [{ voter, hash, clock, payload }], one per voter, sorted by voter
 * ```
 *
 * Rules, for a record of type `ballotType` (default `'ballot'`), in this order:
 * 1. its author lacks `eligibilityRole` at the ballot's clock: `E_FORBIDDEN`;
 * 2. `validate(payload)` refuses it (the voting method's rules): `E_INVALID` with the rule;
 * 3. its clock is greater than the close's clock: `E_LATE`. A ballot with the SAME clock as the
 *    close counts: the close cannot have seen it (its author would have declared a higher clock)
 *    and it cannot have seen the close, so it is concurrent with it, like every ballot the closer
 *    had not received; refusing it would protect nothing, since an author can declare any lower clock;
 * 4. otherwise it is a candidate; of a voter's candidates the latest counts: highest clock, ties
 *    broken by the total order. The others are `superseded`, not rejected.
 * A record of type `closeType` (default `'ballot.close'`) closes the vote when its author holds
 * `closeRole` at its clock (else `E_FORBIDDEN`); the first close in the total order is the one
 * that counts and later closes are reported as `lost`. Any other type is `E_INVALID`.
 * @module
 */
import { engineBackedPolicy, type BatchResolver } from './engine-policy'
import type { Conflict, IncrementalPolicy, Resolution } from './merge-policy'
import { compareStrings, type Authorize, type PolicyEntry, type PolicyRecord } from './policy-record'
import { compareRecords } from '../identity/record-order'
import { createRecordIntake, insertionIndex, refuse, sortRejected, type Refusal } from './record-intake'

/** What a voting method's check says about a ballot payload. */
export type BallotValidation = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly rule?: string }

/** Options of {@link onePerVoter}. */
export interface OnePerVoterConfig {
  /** The pure roster check. */
  readonly authorize: Authorize
  /** The role a voter needs at the ballot's clock. */
  readonly eligibilityRole: string
  /** The role that may close the vote. */
  readonly closeRole: string
  /** Record type of ballots. Default `'ballot'`. */
  readonly ballotType?: string
  /** Record type of the close event. Default `'ballot.close'`. */
  readonly closeType?: string
  /** The voting method's check of a ballot payload; default: every payload is valid. A throw refuses the ballot. */
  readonly validate?: (payload: unknown) => BallotValidation
}

/** A ballot that counts. */
export interface CountedBallot {
  /** The voter: the ballot's author. */
  readonly voter: string
  /** Hash of the ballot record. */
  readonly hash: string
  /** Lamport clock of the ballot. */
  readonly clock: number
  /** The ballot's content, as validated. */
  readonly payload: unknown
}

/** The close event that counts. */
export interface VoteClose {
  /** Hash of the close record. */
  readonly hash: string
  /** Who closed. */
  readonly author: string
  /** Its Lamport clock: ballots with a greater clock are late. */
  readonly clock: number
}

/** The view of {@link onePerVoter}. */
export interface OnePerVoterView {
  /** The close that counts, or `null` while the vote is open. */
  readonly close: VoteClose | null
  /** One counted ballot per voter, sorted by voter (UTF-16 code units). */
  readonly ballots: readonly CountedBallot[]
}

/**
 * One voter's ballots and, cached until the voter or the close changes, what they yield: the
 * cache is why reading the view after one new ballot costs a pass over voters, not a re-fold.
 */
interface VoterState {
  readonly voter: string
  /** Valid ballots of an eligible voter, in the total order. */
  readonly candidates: PolicyRecord[]
  /** Whether the cached fields below are stale. */
  dirty: boolean
  counted: CountedBallot | undefined
  superseded: Conflict | undefined
  late: Refusal[]
}

const byVoter = (a: VoterState, b: VoterState): number => compareStrings(a.voter, b.voter)

const byRecord = (a: PolicyRecord, b: PolicyRecord): number => compareRecords(a, b)

/**
 * The one-ballot-per-voter policy, batch and incremental.
 * Guarantees: at most one counted ballot per voter; the result depends only on the set of
 * records; every ballot that does not count is either superseded (listed in `conflicts`) or
 * rejected with a code.
 */
export function onePerVoter(config: OnePerVoterConfig): IncrementalPolicy<PolicyEntry, OnePerVoterView> {
  const ballotType = config.ballotType ?? 'ballot'
  const closeType = config.closeType ?? 'ballot.close'
  const validate = config.validate ?? (() => ({ ok: true }) as const)

  const checkBallot = (record: PolicyRecord): Refusal | undefined => {
    if (!config.authorize(record.author, config.eligibilityRole, record.clock)) {
      return refuse(record, 'E_FORBIDDEN', `${record.author} is not eligible ('${config.eligibilityRole}') at clock ${record.clock}`)
    }
    let result: BallotValidation
    try {
      result = validate(record.payload)
    } catch (err) {
      result = { ok: false, reason: `validation failed: ${err instanceof Error ? err.message : String(err)}` }
    }
    return result.ok ? undefined : refuse(record, 'E_INVALID', result.reason, result.rule)
  }

  /** Recomputes a voter's counted ballot, superseded ballots and late ballots for a close clock. */
  const settle = (state: VoterState, close: VoteClose | null): void => {
    const closeClock = close?.clock ?? Number.POSITIVE_INFINITY
    const { candidates, voter } = state
    state.late = []
    // Candidates are in the total order, so in clock order: late ones are a suffix.
    let last = candidates.length - 1
    while (last >= 0 && (candidates[last] as PolicyRecord).clock > closeClock) {
      const late = candidates[last] as PolicyRecord
      state.late.push(refuse(late, 'E_LATE', `cast at clock ${late.clock}, after the close ${close?.hash ?? ''} at clock ${closeClock}`))
      last -= 1
    }
    const counted = candidates[last]
    state.counted = counted === undefined ? undefined : { voter, hash: counted.hash, clock: counted.clock, payload: counted.payload }
    state.superseded =
      counted === undefined || last === 0
        ? undefined
        : {
            kind: 'superseded',
            path: [voter],
            hashes: candidates.slice(0, last).map((b) => b.hash),
            winner: counted.hash,
            reason: `replaced by the voter's later ballot ${counted.hash}`,
          }
    state.dirty = false
  }

  const createEngine = (): BatchResolver<OnePerVoterView> => {
    const intake = createRecordIntake()
    const refusals: Refusal[] = []
    const closes: PolicyRecord[] = []
    const voters = new Map<string, VoterState>()
    /** The same states, sorted by voter. */
    const sorted: VoterState[] = []
    let settledClose: PolicyRecord | undefined
    let cached: Resolution<OnePerVoterView> | undefined

    /** Classifies a new record; returns a ballot that still has to be filed under its voter. */
    const classify = (record: PolicyRecord): PolicyRecord | undefined => {
      if (record.type === closeType) {
        if (config.authorize(record.author, config.closeRole, record.clock)) {
          closes.splice(insertionIndex(closes, record, byRecord), 0, record)
        } else {
          refusals.push(refuse(record, 'E_FORBIDDEN', `${record.author} lacks role '${config.closeRole}' at clock ${record.clock} to close the vote`))
        }
        return undefined
      }
      if (record.type !== ballotType) {
        refusals.push(refuse(record, 'E_INVALID', `type '${record.type}' is neither '${ballotType}' nor '${closeType}'`))
        return undefined
      }
      const refusal = checkBallot(record)
      if (refusal !== undefined) {
        refusals.push(refusal)
        return undefined
      }
      return record
    }
    const newState = (voter: string, ballot: PolicyRecord): VoterState => ({
      voter,
      candidates: [ballot],
      dirty: true,
      counted: undefined,
      superseded: undefined,
      late: [],
    })

    return {
      add(entry) {
        const result = intake.add(entry)
        if (result.kind === 'duplicate') return
        cached = undefined
        if (result.kind !== 'record') return
        const ballot = classify(result.record)
        if (ballot === undefined) return
        const state = voters.get(ballot.author)
        if (state === undefined) {
          const created = newState(ballot.author, ballot)
          voters.set(ballot.author, created)
          sorted.splice(insertionIndex(sorted, created, byVoter), 0, created)
          return
        }
        state.candidates.splice(insertionIndex(state.candidates, ballot, byRecord), 0, ballot)
        state.dirty = true
      },
      bulk(entries) {
        cached = undefined
        for (const entry of entries) {
          const result = intake.add(entry)
          if (result.kind !== 'record') continue
          const ballot = classify(result.record)
          if (ballot === undefined) continue
          const state = voters.get(ballot.author)
          if (state === undefined) voters.set(ballot.author, newState(ballot.author, ballot))
          else state.candidates.push(ballot)
        }
        sorted.push(...voters.values())
        sorted.sort(byVoter)
        for (const state of sorted) state.candidates.sort(byRecord)
      },
      view() {
        if (cached !== undefined) return cached
        const first = closes[0]
        const close: VoteClose | null = first === undefined ? null : { hash: first.hash, author: first.author, clock: first.clock }
        // A new close that counts changes which ballots are late, for every voter.
        const resettle = first !== settledClose
        settledClose = first
        const rejected: Refusal[] = [...intake.refusals(), ...refusals]
        const conflicts: Conflict[] = []
        if (close !== null && closes.length > 1) {
          const reason = `the vote was already closed by ${close.hash} at clock ${close.clock}`
          conflicts.push({ kind: 'lost', path: [], hashes: closes.slice(1).map((c) => c.hash), winner: close.hash, reason })
        }
        const ballots: CountedBallot[] = []
        for (const state of sorted) {
          if (state.dirty || resettle) settle(state, close)
          if (state.counted !== undefined) ballots.push(state.counted)
          if (state.superseded !== undefined) conflicts.push(state.superseded)
          for (const late of state.late) rejected.push(late)
        }
        cached = { view: { close, ballots }, conflicts, rejected: sortRejected(rejected) }
        return cached
      },
      get size() {
        return intake.size
      },
    }
  }

  return engineBackedPolicy(createEngine)
}
