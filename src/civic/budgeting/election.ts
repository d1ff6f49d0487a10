/**
 * The input of every outcome rule: a budget, its projects and its counted ballots, and the
 * one-time preparation (exact costs, per-project supporter lists) that the rules share.
 *
 * ```ts
 * import type { BudgetElection } from './election'
 * const election: BudgetElection = {
 *   total: '600000',
 *   projects: [{ id: 'park', cost: '250000.75' }, { id: 'library', cost: '400000' }],
 *   ballots: [{ kind: 'approval', approved: ['park'] }, { kind: 'approval', approved: ['park', 'library'] }],
 * }
 * ```
 * @module
 */
import { CabildoError } from '../../errors'
import type { BallotChoice } from '../../schema/budget'
import { compare, parseRational, ZERO, type Rational } from './rational'

/**
 * A budget with its projects and counted ballots (one per voter, already checked by the
 * merge policy). Money is exact decimal text, as in the budget schema (`"600000"`,
 * `"250000.75"`); ballots are {@link BallotChoice}s.
 */
export interface BudgetElection {
  /** The money to allocate. */
  readonly total: string
  /** The projects competing for it, ids unique. */
  readonly projects: ReadonlyArray<{ readonly id: string; readonly cost: string }>
  /** One counted ballot per voter. Empty ballots count as voters (they get a share under MES). */
  readonly ballots: ReadonlyArray<BallotChoice>
}

/**
 * How ballots express support: `approval` (approval, knapsack and ordinal ballots: a voter
 * supports each project they approved or ranked) or `points` (cumulative and scoring ballots:
 * a voter supports each project they gave a positive number of points, with that weight).
 */
export type BallotFamily = 'approval' | 'points'

/**
 * An election counted once: exact numbers and each project's support, without the per-voter
 * detail. Enough for the greedy rule; internal to the budgeting rules.
 */
export interface TalliedElection {
  /** Project ids, in input order; every other array is indexed like it. */
  readonly ids: readonly string[]
  /** Exact costs. */
  readonly costs: readonly Rational[]
  /** The exact budget. */
  readonly budget: Rational
  /** Number of voters (ballots, empty ones included). */
  readonly voters: number
  /** How the ballots express support. */
  readonly family: BallotFamily
  /** Number of supporters of each project. */
  readonly votes: readonly number[]
  /** Each project's total score: approvals for the approval family, the sum of points otherwise. */
  readonly score: readonly number[]
}

/**
 * An election prepared once for the rules: a {@link TalliedElection} and, for each project, the
 * voters who support it (and with how many points). Internal to the budgeting rules.
 */
export interface PreparedElection extends TalliedElection {
  /** Voter indexes supporting each project, ascending. */
  readonly supporters: readonly Int32Array[]
  /** For the points family, each supporter's positive points, aligned with `supporters`. */
  readonly points: readonly Float64Array[] | null
}

/** The family of a ballot kind. */
export function familyOf(kind: BallotChoice['kind']): BallotFamily {
  return kind === 'cumulative' || kind === 'scoring' ? 'points' : 'approval'
}

function argumentError(reason: string, argument = 'election'): CabildoError<'E_ARGUMENT'> {
  return new CabildoError('E_ARGUMENT', reason, { argument, reason })
}

function parseMoney(text: string, what: string): Rational {
  let value: Rational
  try {
    value = parseRational(text)
  } catch {
    throw argumentError(`${what} is not an exact amount: ${JSON.stringify(text)}`)
  }
  if (compare(value, ZERO) < 0) throw argumentError(`${what} is negative: ${text}`)
  return value
}

/**
 * Calls `visit` with each (project id, points) pair a ballot gives, in ballot order, without
 * allocating for approval-like ballots (which give 1 point each).
 */
function forEachSupport(ballot: BallotChoice, visit: (id: string, points: number) => void): void {
  switch (ballot.kind) {
    case 'approval':
    case 'knapsack':
      for (const id of ballot.approved) visit(id, 1)
      return
    case 'ordinal':
      for (const id of ballot.ranking) visit(id, 1)
      return
    case 'cumulative':
      for (const [id, points] of Object.entries(ballot.points)) visit(id, points)
      return
    case 'scoring':
      for (const [id, points] of Object.entries(ballot.scores)) visit(id, points)
      return
  }
}

/** A tally and the project index it was made with. */
interface Counted {
  readonly tally: TalliedElection
  readonly index: ReadonlyMap<string, number>
}

function count(election: BudgetElection): Counted {
  const budget = parseMoney(election.total, 'the budget total')
  const ids: string[] = []
  const costs: Rational[] = []
  const index = new Map<string, number>()
  for (const project of election.projects) {
    if (index.has(project.id)) throw argumentError(`project id ${JSON.stringify(project.id)} appears twice`, 'projects')
    index.set(project.id, ids.length)
    ids.push(project.id)
    costs.push(parseMoney(project.cost, `the cost of project ${JSON.stringify(project.id)}`))
  }
  const first = election.ballots[0]
  const family: BallotFamily = first === undefined ? 'approval' : familyOf(first.kind)
  const counts = new Int32Array(ids.length)
  const score = new Array<number>(ids.length).fill(0)
  const seen = new Int32Array(ids.length).fill(-1)
  let voter = 0
  const visit = (id: string, points: number): void => {
    const p = index.get(id)
    if (p === undefined) throw argumentError(`ballot ${voter} names unknown project ${JSON.stringify(id)}`, 'ballots')
    if (seen[p] === voter) throw argumentError(`ballot ${voter} names project ${JSON.stringify(id)} twice`, 'ballots')
    seen[p] = voter
    if (!Number.isSafeInteger(points) || (points < 0 && election.ballots[voter]?.kind === 'cumulative')) {
      throw argumentError(`ballot ${voter} gives invalid points to ${JSON.stringify(id)}: ${points}`, 'ballots')
    }
    score[p] = (score[p] as number) + points
    if (points > 0) counts[p] = (counts[p] as number) + 1
  }
  for (; voter < election.ballots.length; voter++) {
    const ballot = election.ballots[voter] as BallotChoice
    if (familyOf(ballot.kind) !== family) {
      throw argumentError(`ballot ${voter} is ${ballot.kind} but the first ballot is ${first?.kind}`, 'ballots')
    }
    forEachSupport(ballot, visit)
  }
  const votes = Array.from(counts)
  return {
    tally: { ids, costs, budget, voters: election.ballots.length, family, votes, score: family === 'approval' ? votes : score },
    index,
  }
}

/**
 * Checks an election and counts each project's support, without the per-voter detail of
 * {@link prepareElection} (one pass, no allocation per approval-like ballot).
 * @throws CabildoError `E_ARGUMENT` in the cases {@link prepareElection} lists
 */
export function tallyElection(election: BudgetElection): TalliedElection {
  return count(election).tally
}

/**
 * Checks an election and prepares it for the rules.
 * @throws CabildoError `E_ARGUMENT` when a project id repeats, an amount is not an exact
 *   non-negative number, ballots mix approval-like and point-like kinds, or a ballot names an
 *   unknown project, names one twice, or gives points that are not integers (or negative
 *   cumulative points)
 */
export function prepareElection(election: BudgetElection): PreparedElection {
  const { tally, index } = count(election)
  // The ballots are valid now: fill exact-size typed arrays in a second pass.
  const supporters = tally.votes.map((c) => new Int32Array(c))
  const points = tally.family === 'points' ? tally.votes.map((c) => new Float64Array(c)) : null
  const fill = new Int32Array(tally.ids.length)
  election.ballots.forEach((ballot, voter) => {
    forEachSupport(ballot, (id, pts) => {
      if (pts <= 0) return
      const p = index.get(id) as number
      const at = fill[p] as number
      ;(supporters[p] as Int32Array)[at] = voter
      if (points) (points[p] as Float64Array)[at] = pts
      fill[p] = at + 1
    })
  })
  return { ...tally, supporters, points }
}
