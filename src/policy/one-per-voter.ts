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
 *
 * Incremental views. The resolver keeps the three result lists (counted ballots by voter,
 * conflicts, rejected records in the total order) as sorted lists (`createSortedSnapshot`)
 * and, at `view()`, re-settles only the voters whose ballots changed since the previous view.
 * So a view after k new ballots costs O(k log n) of bookkeeping plus one native copy of each
 * result array that changed; arrays that did not change are shared with the previous view. A
 * returned resolution is a snapshot: later adds never modify it. A new close that counts (the
 * first one, or one earlier in the total order than the current one) can change which ballots
 * are late for any voter, so that view makes a pass over every voter, O(n), and re-settles those
 * with a ballot after either close. The batch `resolve` is the same engine fed all records at
 * once: one pass, one sort of each result list.
 * @module
 */
import { engineBackedPolicy, type BatchResolver } from './engine-policy'
import type { Conflict, IncrementalPolicy, Rejected, Resolution } from './merge-policy'
import { compareStrings, isFailedRecord, type Authorize, type PolicyEntry, type PolicyRecord } from './policy-record'
import { compareRecords } from '../identity/record-order'
import { createRecordIntake, insertionIndex, refuse, type Refusal } from './record-intake'
import { createSortedSnapshot } from './sorted-snapshot'

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
 * One voter's ballots and what they yield, kept until the voter's ballots or the close change:
 * the reason why reading the view after one new ballot re-settles one voter, not all.
 */
interface VoterState {
  readonly voter: string
  /** Valid ballots of an eligible voter, in the total order. */
  readonly candidates: PolicyRecord[]
  /** Whether the voter got ballots since it was last settled (and is listed in the engine's `dirty`). */
  dirty: boolean
  /** The ballot that counts, the same object as in the ballots list. */
  counted: CountedBallot | undefined
  /** The voter's earlier candidates, the same object as in the conflicts list. */
  superseded: Conflict | undefined
  /** Refusals of the candidates after the close, the same objects as in the rejected list. */
  late: readonly Refusal[]
}

/** The late ballots of most voters: none (shared, never modified). */
const NO_REFUSALS: readonly Refusal[] = []

const byRecord = (a: PolicyRecord, b: PolicyRecord): number => compareRecords(a, b)

/** The order of `Resolution.rejected`: the total order of the refused records, as `sortRejected` sorts. */
function compareRefusals(a: Refusal, b: Refusal): number {
  if (a.clock !== b.clock) return a.clock < b.clock ? -1 : 1
  if (a.author !== b.author) return a.author < b.author ? -1 : 1
  return compareStrings(a.rejected.hash, b.rejected.hash)
}

/** Counted ballots are listed by voter. */
const byBallotVoter = (a: CountedBallot, b: CountedBallot): number => compareStrings(a.voter, b.voter)

/**
 * Conflicts are listed by voter (their path); the lost closes, at path `[]`, sort first since an
 * author is never empty.
 */
const byConflictPath = (a: Conflict, b: Conflict): number => compareStrings(a.path[0] ?? '', b.path[0] ?? '')

const shownRefusal = (refusal: Refusal): Rejected => refusal.rejected

/** Whether two string lists are equal, element by element. */
function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * What the shared intake refuses an entry for (a failed copy, or a malformed record), asked of a
 * fresh intake holding only that entry: the codes and reasons stay those of `createRecordIntake`.
 */
function intakeRefusal(entry: PolicyEntry): Refusal {
  const alone = createRecordIntake()
  alone.add(entry)
  // The entry was refused by an intake in the same state for its hash, so this one refuses it too.
  return alone.refusals()[0] as Refusal
}

/**
 * The one-ballot-per-voter policy, batch and incremental.
 * Guarantees: at most one counted ballot per voter; the result depends only on the set of
 * records; every ballot that does not count is either superseded (listed in `conflicts`) or
 * rejected with a code. An incremental view is a snapshot that later adds leave untouched, and
 * costs O(k log n) after k adds (plus a copy of each changed result array), except after a new
 * close that counts, which re-settles every voter.
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

  /**
   * Recomputes a voter's counted ballot, superseded ballots and late ballots for a close,
   * keeping the previous objects where their content is unchanged (so that unchanged entries
   * are not edited in the result lists). A late refusal names the close: callers that change
   * the close clear `state.late` first.
   */
  const settle = (state: VoterState, close: VoteClose | null): void => {
    const closeClock = close?.clock ?? Number.POSITIVE_INFINITY
    const { candidates, voter } = state
    // Candidates are in the total order, so in clock order: late ones are a suffix.
    let last = candidates.length - 1
    while (last >= 0 && (candidates[last] as PolicyRecord).clock > closeClock) last -= 1
    if (last < candidates.length - 1 || state.late.length > 0) {
      const previous = new Map(state.late.map((r) => [r.rejected.hash, r]))
      state.late = candidates
        .slice(last + 1)
        .map((late) => previous.get(late.hash) ?? refuse(late, 'E_LATE', `cast at clock ${late.clock}, after the close ${close?.hash ?? ''} at clock ${closeClock}`))
    }
    const counted = candidates[last]
    if (counted === undefined) {
      state.counted = undefined
      state.superseded = undefined
      return
    }
    if (state.counted?.hash !== counted.hash) state.counted = { voter, hash: counted.hash, clock: counted.clock, payload: counted.payload }
    if (last === 0) {
      state.superseded = undefined
      return
    }
    const hashes = candidates.slice(0, last).map((b) => b.hash)
    const before = state.superseded
    if (before === undefined || before.winner !== counted.hash || !sameStrings(before.hashes, hashes)) {
      state.superseded = { kind: 'superseded', path: [voter], hashes, winner: counted.hash, reason: `replaced by the voter's later ballot ${counted.hash}` }
    }
  }

  const createEngine = (): BatchResolver<OnePerVoterView> => {
    const intake = createRecordIntake()
    /** The intake's own refusals (failed and malformed entries), by hash. */
    const intakeRefusals = new Map<string, Refusal>()
    /** Authorized closes, in the total order; the first one counts. */
    const closes: PolicyRecord[] = []
    let close: VoteClose | null = null
    const voters = new Map<string, VoterState>()
    /** Voters with new ballots since the last view. */
    let dirty: VoterState[] = []
    /** Whether the close that counts changed since the last view: then every voter is re-settled. */
    let closeChanged = false
    /** Whether the lost closes changed (a close that does not count arrived). */
    let lostChanged = false
    // The three result lists, edited in place as voters change (see the module notes).
    const ballots = createSortedSnapshot(byBallotVoter)
    const conflicts = createSortedSnapshot(byConflictPath)
    const rejected = createSortedSnapshot(compareRefusals, shownRefusal)
    /** The lost-closes conflict in `conflicts`, if any. */
    let lost: Conflict | undefined
    let cached: Resolution<OnePerVoterView> | undefined

    const withdraw = (hash: string): void => {
      const before = intakeRefusals.get(hash)
      if (before === undefined) return
      intakeRefusals.delete(hash)
      rejected.delete(before)
    }

    /** Runs the shared intake on an entry; returns it when it is a new, well-formed, verified record. */
    const takeIn = (entry: PolicyEntry): PolicyRecord | undefined => {
      const result = intake.add(entry)
      if (result.kind === 'duplicate') return undefined
      cached = undefined
      // A verified copy makes the intake forget the failed copies of its hash.
      if (intakeRefusals.size > 0 && !isFailedRecord(entry)) withdraw(String((entry as { hash?: unknown }).hash))
      if (result.kind === 'record') return result.record
      const refusal = intakeRefusal(entry)
      withdraw(refusal.rejected.hash)
      intakeRefusals.set(refusal.rejected.hash, refusal)
      rejected.set(refusal)
      return undefined
    }

    /** Applies the rules to a new record; returns a ballot that still has to be filed under its voter. */
    const classify = (record: PolicyRecord): PolicyRecord | undefined => {
      let refusal: Refusal | undefined
      if (record.type === closeType) {
        if (config.authorize(record.author, config.closeRole, record.clock)) {
          const at = insertionIndex(closes, record, byRecord)
          closes.splice(at, 0, record)
          if (at === 0) {
            close = { hash: record.hash, author: record.author, clock: record.clock }
            closeChanged = true
          }
          lostChanged = closes.length > 1
          return undefined
        }
        refusal = refuse(record, 'E_FORBIDDEN', `${record.author} lacks role '${config.closeRole}' at clock ${record.clock} to close the vote`)
      } else if (record.type !== ballotType) {
        refusal = refuse(record, 'E_INVALID', `type '${record.type}' is neither '${ballotType}' nor '${closeType}'`)
      } else {
        refusal = checkBallot(record)
        if (refusal === undefined) return record
      }
      // Never withdrawn: the records refused by the rules are verified.
      rejected.set(refusal)
      return undefined
    }

    const markDirty = (state: VoterState): void => {
      if (state.dirty) return
      state.dirty = true
      dirty.push(state)
    }
    /** Files a ballot under a voter seen for the first time; returns the voter's state when it already existed. */
    const fileNew = (ballot: PolicyRecord): VoterState | undefined => {
      const state = voters.get(ballot.author)
      if (state !== undefined) return state
      const created: VoterState = { voter: ballot.author, candidates: [ballot], dirty: false, counted: undefined, superseded: undefined, late: NO_REFUSALS }
      voters.set(ballot.author, created)
      markDirty(created)
      return undefined
    }

    /** The conflict that lists the closes that do not count. */
    const lostConflict = (): Conflict | undefined => {
      if (close === null || closes.length < 2) return undefined
      const reason = `the vote was already closed by ${close.hash} at clock ${close.clock}`
      return { kind: 'lost', path: [], hashes: closes.slice(1).map((c) => c.hash), winner: close.hash, reason }
    }

    /**
     * Re-settles one voter and queues the edits of the result lists. `lateBefore` are the
     * voter's late refusals in the rejected list (the voter's `late` was emptied when the close changed).
     */
    const refresh = (state: VoterState, lateBefore: readonly Refusal[]): void => {
      const { counted, superseded } = state
      settle(state, close)
      state.dirty = false
      if (state.counted !== counted) {
        if (state.counted !== undefined) ballots.set(state.counted)
        else if (counted !== undefined) ballots.delete(counted)
      }
      if (state.superseded !== superseded) {
        if (state.superseded !== undefined) conflicts.set(state.superseded)
        else if (superseded !== undefined) conflicts.delete(superseded)
      }
      if (state.late === lateBefore) return
      const now = new Set(state.late)
      for (const r of lateBefore) if (!now.has(r)) rejected.delete(r)
      const before = new Set(lateBefore)
      for (const r of state.late) if (!before.has(r)) rejected.set(r)
    }

    return {
      add(entry) {
        const record = takeIn(entry)
        if (record === undefined) return
        const ballot = classify(record)
        if (ballot === undefined) return
        const state = fileNew(ballot)
        if (state === undefined) return
        state.candidates.splice(insertionIndex(state.candidates, ballot, byRecord), 0, ballot)
        markDirty(state)
      },
      bulk(entries) {
        for (const entry of entries) {
          const record = takeIn(entry)
          if (record === undefined) continue
          const ballot = classify(record)
          if (ballot === undefined) continue
          const state = fileNew(ballot)
          if (state === undefined) continue
          state.candidates.push(ballot)
          markDirty(state)
        }
        for (const state of dirty) if (state.candidates.length > 1) state.candidates.sort(byRecord)
      },
      view() {
        if (cached !== undefined) return cached
        if (closeChanged && close !== null) {
          // The close decides lateness for every voter, and late refusals name it: a pass over
          // all voters, O(n). A voter with no ballot after either close is left as it is.
          const closeClock = close.clock
          for (const state of voters.values()) {
            const late = state.late
            if (late.length === 0 && (state.candidates[state.candidates.length - 1] as PolicyRecord).clock <= closeClock) {
              if (state.dirty) refresh(state, late)
              continue
            }
            state.late = NO_REFUSALS
            refresh(state, late)
          }
          closeChanged = false
        } else {
          for (const state of dirty) refresh(state, state.late)
        }
        dirty = []
        if (lostChanged) {
          const before = lost
          lost = lostConflict()
          if (lost !== undefined) conflicts.set(lost)
          else if (before !== undefined) conflicts.delete(before)
          lostChanged = false
        }
        cached = { view: { close, ballots: ballots.snapshot() }, conflicts: conflicts.snapshot(), rejected: rejected.snapshot() }
        return cached
      },
      get size() {
        return intake.size
      },
    }
  }

  return engineBackedPolicy(createEngine)
}
