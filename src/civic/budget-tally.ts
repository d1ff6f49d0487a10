/**
 * The live tally of one participatory budget: feed it the budget's verified acts as they arrive,
 * in any order, and resolve its view at any time. Ballots go to one `onePerVoter` incremental
 * resolver, so a new ballot among 100 000 costs a binary insertion, not a re-fold.
 *
 * ```ts
 * const tally = createBudgetTally(budget.id)
 * for (const entry of entries) tally.add(entry)
 * tally.resolve({ authorize, authorizeKey, total: '600000', projects: ['park'] }).ballots
 * tally.add(newBallot) // later: only the new ballot is folded on the next resolve
 * ```
 *
 * The resolver is rebuilt (from the ballots kept here, without verifying again) only when what
 * decides every ballot changes: the roster (`authorizeKey`), the opening of the vote (its signed
 * terms) or its close. The phase acts and allocations are few and are re-folded on each resolve.
 * Whatever the arrival order, `resolve` gives what {@link resolveBudget} gives for the same set.
 * @module
 */
import type { Conflict, IncrementalResolver, Rejected } from '../policy/merge-policy'
import { onePerVoter, type CountedBallot, type OnePerVoterView, type VoteClose } from '../policy/one-per-voter'
import { isFailedRecord, type Authorize, type PolicyEntry, type PolicyRecord } from '../policy/policy-record'
import { sortRejected, type Refusal } from '../policy/record-intake'
import type { AcceptedTransition } from '../policy/state-machine'
import type { BudgetPhase } from '../schema/budget'
import { actType } from './act-log'
import { resolveAllocations, type BudgetAllocations } from './budget-allocations'
import {
  ballotValidator,
  BudgetAct,
  budgetOrigin,
  budgetPhasePolicy,
  earlyBallot,
  voterRole,
  votingClose,
  votingOpening,
  type BudgetOrigin,
  type BudgetTerms,
  type VotingOpening,
} from './budget-rules'

/** What a budget's view depends on besides its acts. */
export interface BudgetTallyInput {
  /** The role check of the budget's district roster. */
  readonly authorize: Authorize
  /** Changes whenever `authorize` may answer differently (e.g. a fingerprint of the roster). */
  readonly authorizeKey: string
  /** The budget's plain total: the allocation cap until the vote opens with signed terms. */
  readonly total: string
  /** The budget's plain project ids: allocatable until the vote opens with signed terms. */
  readonly projects: readonly string[]
}

/** The resolved state of a budget. */
export interface BudgetView {
  /** The phase, from the accepted signed phase acts. */
  readonly phase: BudgetPhase
  /** Who created the budget, when a valid creation act exists. */
  readonly creator: string | undefined
  /** The district its creation act pinned. */
  readonly district: string | undefined
  /** The signed terms of the vote, once opened. */
  readonly terms: BudgetTerms | undefined
  /** The close event of the vote, once closed. */
  readonly close: VoteClose | null
  /** One counted ballot per voter, sorted by voter. */
  readonly ballots: readonly CountedBallot[]
  /** Ballots replaced by the same voter's later ballot (also in `conflicts`). */
  readonly superseded: readonly Conflict[]
  /** Line items under the cap. */
  readonly allocations: BudgetAllocations
  /** The accepted phase acts, oldest first. */
  readonly history: readonly AcceptedTransition<BudgetPhase>[]
  /** Phase acts that lost a race, then superseded ballots. */
  readonly conflicts: readonly Conflict[]
  /** Acts that do not count, with their codes: phase acts, then ballots, then allocations. */
  readonly rejected: readonly Rejected[]
}

/** The live tally of one budget. */
export interface BudgetTally {
  /** Adds one verified (or failed) act of the budget; repeating one changes nothing. */
  add(entry: PolicyEntry): void
  /** The creator and district from the creation act, once it arrived. */
  origin(): BudgetOrigin | undefined
  /** The view of every act added so far. */
  resolve(input: BudgetTallyInput): BudgetView
  /** Why a new ballot would not count now (`undefined`: it would), without adding it. */
  checkBallot(record: PolicyRecord, input: BudgetTallyInput): Rejected | undefined
  /** Why a new phase act would not be accepted now, and the phase it would lead to. */
  checkPhase(record: PolicyRecord, input: BudgetTallyInput): { readonly rejected: Rejected | undefined; readonly phase: BudgetPhase }
  /** Why a new allocation would not count now (`undefined`: it would). */
  checkAllocation(record: PolicyRecord, input: BudgetTallyInput): Rejected | undefined
  /** Distinct entries added. */
  readonly size: number
  /** How many times the ballot resolver was rebuilt (the roster, the opening or the close changed). */
  readonly rebuilds: number
}

/** A role no roster grants: the close fed to `onePerVoter` was already accepted by the phase machine. */
const CLOSE = '\u0000close'

/** Key of an entry: a verified record by hash; failed copies by hash and failure, so the policy's intake picks among them. */
const entryKey = (e: PolicyEntry): string => (isFailedRecord(e) ? `${e.record.hash}\n${e.code}\n${e.reason}` : e.hash)

interface PhaseState {
  readonly resolution: ReturnType<ReturnType<typeof budgetPhasePolicy>['resolve']>
  readonly opening: VotingOpening | undefined
  readonly close: AcceptedTransition<BudgetPhase> | undefined
}

interface Live {
  readonly key: string
  readonly resolver: IncrementalResolver<PolicyEntry, OnePerVoterView>
  readonly early: Refusal[]
  sortedEarly: Rejected[] | undefined
}

/** Creates the empty tally of budget `id`. */
export function createBudgetTally(id: string): BudgetTally {
  const phaseEntries = new Map<string, PolicyEntry>()
  const allocationEntries = new Map<string, PolicyEntry>()
  const ballotEntries = new Map<string, PolicyEntry>()
  let fresh: PolicyEntry[] = []
  let live: Live | undefined
  let rebuilds = 0

  const phaseState = (input: BudgetTallyInput, extra?: PolicyRecord): PhaseState => {
    const entries = [...phaseEntries.values()].filter((e) => isFailedRecord(e) || e.type === BudgetAct.phase)
    const resolution = budgetPhasePolicy(input.authorize).resolve(extra ? [...entries, extra] : entries)
    return { resolution, opening: votingOpening(resolution.view.history), close: votingClose(resolution.view.history) }
  }

  const votePolicy = (input: BudgetTallyInput, opening: VotingOpening | undefined) => {
    const eligibility = voterRole(id)
    const anyone = opening?.terms.eligibility === 'anyone'
    return onePerVoter({
      authorize: (author, role, clock) => role === CLOSE || (role === eligibility && (anyone || input.authorize(author, role, clock))),
      eligibilityRole: eligibility,
      closeRole: CLOSE,
      ballotType: BudgetAct.ballot,
      closeType: BudgetAct.phase,
      validate: opening ? ballotValidator(opening.terms) : () => ({ ok: false, rule: 'phase', reason: 'the vote is not open' }),
    })
  }

  const closeRecord = (close: AcceptedTransition<BudgetPhase>): PolicyRecord => ({
    hash: close.hash,
    author: close.author,
    clock: close.clock,
    type: BudgetAct.phase,
    payload: close.payload,
  })

  /** Brings the live resolver up to date: rebuilt when the roster, the opening or the close changed, else fed the new ballots. */
  const liveBallots = (input: BudgetTallyInput, state: PhaseState): Live => {
    const key = `${input.authorizeKey}\n${state.opening?.record.hash ?? ''}\n${state.close?.hash ?? ''}`
    let pending = fresh
    fresh = []
    if (live?.key !== key) {
      rebuilds++
      live = { key, resolver: votePolicy(input, state.opening).incremental(), early: [], sortedEarly: undefined }
      if (state.close) live.resolver.add(closeRecord(state.close))
      pending = [...ballotEntries.values()]
    }
    for (const entry of pending) {
      const early = earlyBallot(entry, state.opening)
      if (early) {
        live.early.push(early)
        live.sortedEarly = undefined
      } else live.resolver.add(entry)
    }
    return live
  }

  const allocationInput = (input: BudgetTallyInput, opening: VotingOpening | undefined) => ({
    cap: opening?.terms.total ?? input.total,
    projects: new Set(opening ? Object.keys(opening.terms.projects) : input.projects),
    authorize: input.authorize,
  })

  return {
    add(entry) {
      const type = actType(entry)
      const target = type === BudgetAct.ballot ? ballotEntries : type === BudgetAct.allocate ? allocationEntries : phaseEntries
      const key = entryKey(entry)
      if (target.has(key)) return
      target.set(key, entry)
      if (target === ballotEntries) fresh.push(entry)
    },
    origin: () => budgetOrigin(id, [...phaseEntries.values()]),
    resolve(input) {
      const state = phaseState(input)
      const ballots = liveBallots(input, state)
      const vote = ballots.resolver.view()
      ballots.sortedEarly ??= sortRejected(ballots.early)
      const allocations = resolveAllocations([...allocationEntries.values()], allocationInput(input, state.opening))
      const origin = budgetOrigin(id, [...phaseEntries.values()])
      return {
        phase: state.resolution.view.state,
        creator: origin?.creator,
        district: origin?.district,
        terms: state.opening?.terms,
        close: vote.view.close,
        ballots: vote.view.ballots,
        superseded: vote.conflicts.filter((c) => c.kind === 'superseded'),
        allocations: allocations.view,
        history: state.resolution.view.history,
        conflicts: [...state.resolution.conflicts, ...vote.conflicts],
        rejected: [...state.resolution.rejected, ...ballots.sortedEarly, ...vote.rejected, ...allocations.rejected],
      }
    },
    checkBallot(record, input) {
      const state = phaseState(input)
      const early = earlyBallot(record, state.opening)
      if (early) return early.rejected
      const entries = state.close ? [closeRecord(state.close), record] : [record]
      return votePolicy(input, state.opening)
        .resolve(entries)
        .rejected.find((r) => r.hash === record.hash)
    },
    checkPhase(record, input) {
      const { resolution } = phaseState(input, record)
      return { rejected: resolution.rejected.find((r) => r.hash === record.hash), phase: resolution.view.state }
    },
    checkAllocation(record, input) {
      const state = phaseState(input)
      const entries = [...allocationEntries.values(), record]
      return resolveAllocations(entries, allocationInput(input, state.opening)).rejected.find((r) => r.hash === record.hash)
    },
    get size() {
      return phaseEntries.size + allocationEntries.size + ballotEntries.size
    },
    get rebuilds() {
      return rebuilds
    },
  }
}

/**
 * Resolves a budget from a set of its verified acts at once. Pure: the same acts and input give
 * the same view everywhere, and the same view as a {@link BudgetTally} fed them in any order.
 * @throws CabildoError `E_ARGUMENT` when the cap (the total) is not a non-negative decimal string
 */
export function resolveBudget(id: string, entries: readonly PolicyEntry[], input: BudgetTallyInput): BudgetView {
  const tally = createBudgetTally(id)
  for (const entry of entries) tally.add(entry)
  return tally.resolve(input)
}
