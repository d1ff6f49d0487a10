/**
 * Signed acts on participatory budgets: `openVoting()`, `closeVoting()`, `castBallot()`,
 * `allocate()`, and `resolve()` for the authoritative view, kept up to date incrementally.
 *
 * ```ts
 * const budget = await space.budgets.create({ title: 'PB 2027', total: '600000', currency: 'EUR', district: 'north', votingMethod: { kind: 'approval', maxProjects: 3 } })
 * await space.projects.create({ budget: budget.id, title: 'Park', cost: '400000', district: 'north' })
 * await budget.openVoting()                                        // district staff: signs the terms of the vote
 * await budget.castBallot({ kind: 'approval', approved: [park.id] }) // an eligible voter
 * const { phase, ballots, allocations, rejected } = await budget.resolve()
 * ```
 *
 * Each budget that was resolved once keeps a live tally: an observer on its shard's act log
 * verifies new acts as they arrive (from this replica or by sync) and feeds them to the tally,
 * so one new ballot among 100 000 is verified and folded alone. `resolve()` waits for the
 * verification in flight. Every act is refused before it is stored when it would not count.
 * @module
 */
import { CabildoError } from '../errors'
import type { Collection, CreatePlan } from '../doc/collection'
import type { Entity } from '../doc/entity'
import { BudgetAct, budgetTerms, isBudgetAct, type Eligibility } from '../civic/budget-rules'
import { createBudgetTally, type BudgetTally, type BudgetTallyInput, type BudgetView } from '../civic/budget-tally'
import type { Roster } from '../identity/roster'
import type { SignedRecord } from '../identity/signed-record'
import type { Rejected } from '../policy/merge-policy'
import type { PolicyRecord } from '../policy/policy-record'
import type { BallotChoice, Budget, BudgetPhase, BudgetProject } from '../schema/budget'
import { watchActs, type ActFeed } from './act-feed'
import { asPolicyRecord, boundCreatePlan, refusalError, type CreateContext } from './act-checks'
import type { SpaceActs } from './space-acts'

/** Options of the budgets of a Space. */
export interface BudgetOptions {
  /** Who may vote when staff opens a vote without saying: `roster` (default) or `anyone`. */
  readonly eligibility?: Eligibility
}

/** Options of {@link BudgetActions.openVoting}. */
export interface OpenVotingOptions {
  /** Who may vote: keys granted `voter:<budget id>` (`roster`), or any key (`anyone`). Signed into the terms. */
  readonly eligibility?: Eligibility
  /** A note shown with the phase change. */
  readonly note?: string
}

/** A line item: money given to one of the budget's projects. */
export interface AllocationInput {
  /** The project's id. */
  readonly project: string
  /** The amount, a decimal string (`'150000.50'`). */
  readonly amount: string
  /** A note shown with it. */
  readonly note?: string
}

/** The signed acts of a budget entity. */
export interface BudgetActions {
  /**
   * Opens the vote (district `staff`): signs the terms ballots are checked against, i.e. the
   * current voting method, total and project costs, and who may vote.
   * @throws CabildoError `E_FORBIDDEN`, `E_INVALID` (e.g. the budget record is incomplete, or the vote is already open).
   */
  openVoting(options?: OpenVotingOptions): Promise<BudgetView>
  /** Closes the vote (district `staff`): ballots cast after this act are late. @throws CabildoError `E_FORBIDDEN`, `E_INVALID`. */
  closeVoting(options?: { readonly note?: string }): Promise<BudgetView>
  /**
   * Casts a ballot signed with the Space's key; a later ballot of the same key replaces it.
   * @throws CabildoError `E_FORBIDDEN` (not eligible), `E_INVALID` (refused by the voting method,
   *   or the vote is not open), `E_LATE` (after the close).
   */
  castBallot(choice: BallotChoice): Promise<BudgetView>
  /** Allocates money to a project (district `staff`), within the budget's total. @throws CabildoError `E_FORBIDDEN`, `E_INVALID` (rule `over_cap` when it does not fit). */
  allocate(input: AllocationInput): Promise<BudgetView>
  /** The authoritative view: phase, counted ballots, allocations, conflicts and rejected acts. */
  resolve(): Promise<BudgetView>
}

/** Reads the costs of a budget's projects (id → cost). */
export type ProjectCosts = (budget: Entity<typeof Budget>) => Promise<ReadonlyMap<string, string>>

/**
 * The costs of a budget's projects, read from a projects collection (valid, unarchived projects
 * of the budget). Kept per budget until a project of the budget's shard changes, so that
 * resolving a budget again (e.g. after each new ballot) does not re-read and re-validate every project.
 */
export function projectCostsFrom(projects: () => Collection<typeof BudgetProject>): ProjectCosts {
  /** Costs by budget id, by shard; a shard's entry goes when any project of the shard changes. */
  const cached = new Map<string, Map<string, ReadonlyMap<string, string>>>()
  let watching = false
  return async (budget) => {
    if (!watching) {
      projects().observe((change) => cached.delete(change.shard))
      watching = true
    }
    const known = cached.get(budget.shard)?.get(budget.id)
    if (known) return known
    const costs = new Map<string, string>()
    for (const project of await projects().list({ shards: [budget.shard], where: (p) => p.budget === budget.id })) {
      const read = project.get()
      if (read.valid) costs.set(project.id, read.value.cost)
    }
    let shard = cached.get(budget.shard)
    if (!shard) cached.set(budget.shard, (shard = new Map()))
    shard.set(budget.id, costs)
    return costs
  }
}

interface LiveBudget {
  readonly tally: BudgetTally
  readonly feed: ActFeed
}

/** The budget-related services a Space gives its budgets collection. */
export function budgetBehaviour(
  acts: SpaceActs,
  options: BudgetOptions,
  projectCosts: ProjectCosts,
): {
  planCreate: (context: CreateContext) => Promise<CreatePlan>
  extend: (entity: Entity<typeof Budget>) => BudgetActions
} {
  const lives = new Map<string, Promise<LiveBudget>>()
  const rosterIds = new WeakMap<Roster, number>()
  let rosterCount = 0

  const start = (entity: Entity<typeof Budget>): Promise<LiveBudget> => {
    const forget = (): void => {
      if (lives.get(entity.id) === created) lives.delete(entity.id)
    }
    const created = (async (): Promise<LiveBudget> => {
      const doc = await acts.docOf(entity.shard)
      const tally = createBudgetTally(entity.id)
      const feed = watchActs(acts, entity.shard, doc, isBudgetAct(entity.id), (entries) => entries.forEach((e) => tally.add(e)), forget)
      return { tally, feed }
    })()
    lives.set(entity.id, created)
    created.catch(forget)
    return created
  }

  /** The budget's live tally, with every act seen so far delivered. A failed or stopped feed is started afresh next time. */
  const settled = async (entity: Entity<typeof Budget>): Promise<BudgetTally> => {
    const { tally, feed } = await (lives.get(entity.id) ?? start(entity))
    await feed.settled()
    return tally
  }

  const inputOf = async (entity: Entity<typeof Budget>, tally: BudgetTally): Promise<BudgetTallyInput> => {
    const value = entity.get().value
    const roster = await acts.roster(tally.origin()?.district ?? value.district ?? '')
    let id = roster ? rosterIds.get(roster) : 0
    if (roster && id === undefined) rosterIds.set(roster, (id = ++rosterCount))
    const costs = await projectCosts(entity)
    return {
      authorize: roster ? (author, role, clock) => roster.hasRole(author, role, clock) : () => false,
      // The same Roster object answers the same until the roster changes (see SpaceActs.roster).
      authorizeKey: `roster#${id ?? 0}`,
      total: value.total ?? '0',
      projects: [...costs.keys()],
    }
  }

  const resolve = async (entity: Entity<typeof Budget>): Promise<BudgetView> => {
    const tally = await settled(entity)
    return tally.resolve(await inputOf(entity, tally))
  }

  /** Signs an act, checks it against the settled tally, stores it only if it counts. */
  const commit = async (
    entity: Entity<typeof Budget>,
    type: string,
    payload: Record<string, unknown>,
    check: (tally: BudgetTally, record: PolicyRecord, input: BudgetTallyInput) => Rejected | undefined,
    refusal: { readonly message: string; readonly action: string },
    write?: () => void,
  ): Promise<BudgetView> => {
    const tally = await settled(entity)
    const input = await inputOf(entity, tally)
    const record: SignedRecord = await acts.sign(entity.shard, type, payload)
    const refused = check(tally, asPolicyRecord(record), input)
    if (refused) throw refusalError(refused, refusal.message, record.author, refusal.action)
    const doc = await acts.docOf(entity.shard)
    doc.transact(() => {
      acts.append(doc, record)
      write?.()
    }, acts.localOrigin)
    return resolve(entity)
  }

  const phase = async (entity: Entity<typeof Budget>, from: BudgetPhase, to: BudgetPhase, extra: Record<string, unknown>): Promise<BudgetView> => {
    const payload = { budget: entity.id, from, to, ...extra }
    const message = `Cannot move budget ${entity.id} from ${from} to ${to}`
    return commit(
      entity,
      BudgetAct.phase,
      payload,
      (tally, record, input) => {
        const checked = tally.checkPhase(record, input)
        return checked.rejected ?? (checked.phase === to ? undefined : { hash: record.hash, code: 'E_INVALID', reason: 'a concurrent phase change won' })
      },
      { message, action: `budget.${to}` },
      // The plain phase mirrors the signed one for plain readers; the signed acts stay authoritative.
      () => entity.update({ phase: to }),
    )
  }

  const openVoting = async (entity: Entity<typeof Budget>, opts: OpenVotingOptions = {}): Promise<BudgetView> => {
    const before = await resolve(entity)
    const value = entity.get().value
    const costs = await projectCosts(entity)
    const terms = budgetTerms.safeParse({
      votingMethod: value.votingMethod,
      total: value.total,
      projects: Object.fromEntries([...costs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      eligibility: opts.eligibility ?? options.eligibility ?? 'roster',
    })
    if (!terms.success) {
      const issue = terms.error.issues[0]
      throw new CabildoError('E_INVALID', `Cannot open the vote of budget ${entity.id}: its terms are incomplete`, {
        reason: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
        rule: 'terms',
      })
    }
    return phase(entity, before.phase, 'voting', { terms: terms.data, ...(opts.note === undefined ? {} : { note: opts.note }) })
  }

  return {
    planCreate: boundCreatePlan(acts, BudgetAct.create, (budget, nonce, fields) => ({ budget, nonce, district: fields['district'] })),
    extend: (entity) => ({
      openVoting: (o) => openVoting(entity, o),
      closeVoting: async (o = {}) => phase(entity, (await resolve(entity)).phase, 'closed', o.note === undefined ? {} : { note: o.note }),
      castBallot: (choice) =>
        commit(entity, BudgetAct.ballot, { budget: entity.id, choice }, (tally, record, input) => tally.checkBallot(record, input), {
          message: `Cannot cast a ballot in budget ${entity.id}`,
          action: BudgetAct.ballot,
        }),
      allocate: (line) =>
        commit(
          entity,
          BudgetAct.allocate,
          { budget: entity.id, project: line.project, amount: line.amount, ...(line.note === undefined ? {} : { note: line.note }) },
          (tally, record, input) => tally.checkAllocation(record, input),
          { message: `Cannot allocate ${line.amount} to ${line.project} in budget ${entity.id}`, action: BudgetAct.allocate },
        ),
      resolve: () => resolve(entity),
    }),
  }
}
