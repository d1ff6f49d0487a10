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
 * An election prepared once for the rules: exact numbers, and for each project the voters who
 * support it (and with how many points). Internal to the budgeting rules.
 */
export interface PreparedElection {
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
  /** Voter indexes supporting each project, ascending. */
  readonly supporters: readonly Int32Array[]
  /** For the points family, each supporter's positive points, aligned with `supporters`. */
  readonly points: readonly Float64Array[] | null
  /** Number of supporters of each project. */
  readonly votes: readonly number[]
  /** Each project's total score: approvals for the approval family, the sum of points otherwise. */
  readonly score: readonly number[]
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

/** The (project id, points) pairs a ballot gives, in ballot order. Approval-like ballots give 1. */
function entriesOf(ballot: BallotChoice): Array<readonly [string, number]> {
  switch (ballot.kind) {
    case 'approval':
    case 'knapsack':
      return ballot.approved.map((id) => [id, 1] as const)
    case 'ordinal':
      return ballot.ranking.map((id) => [id, 1] as const)
    case 'cumulative':
      return Object.entries(ballot.points)
    case 'scoring':
      return Object.entries(ballot.scores)
  }
}

/**
 * Checks an election and prepares it for the rules.
 * @throws CabildoError `E_ARGUMENT` when a project id repeats, an amount is not an exact
 *   non-negative number, ballots mix approval-like and point-like kinds, or a ballot names an
 *   unknown project, names one twice, or gives points that are not integers (or negative
 *   cumulative points)
 */
export function prepareElection(election: BudgetElection): PreparedElection {
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

  // Two passes: count supporters, then fill exact-size typed arrays.
  const counts = new Int32Array(ids.length)
  const score = new Array<number>(ids.length).fill(0)
  const seen = new Int32Array(ids.length).fill(-1)
  const entries: Array<Array<readonly [number, number]>> = []
  election.ballots.forEach((ballot, voter) => {
    if (familyOf(ballot.kind) !== family) {
      throw argumentError(`ballot ${voter} is ${ballot.kind} but the first ballot is ${first?.kind}`, 'ballots')
    }
    const own: Array<readonly [number, number]> = []
    for (const [id, points] of entriesOf(ballot)) {
      const p = index.get(id)
      if (p === undefined) throw argumentError(`ballot ${voter} names unknown project ${JSON.stringify(id)}`, 'ballots')
      if (seen[p] === voter) throw argumentError(`ballot ${voter} names project ${JSON.stringify(id)} twice`, 'ballots')
      seen[p] = voter
      if (!Number.isSafeInteger(points) || (points < 0 && ballot.kind === 'cumulative')) {
        throw argumentError(`ballot ${voter} gives invalid points to ${JSON.stringify(id)}: ${points}`, 'ballots')
      }
      score[p] = (score[p] as number) + points
      if (points > 0) {
        counts[p] = (counts[p] as number) + 1
        own.push([p, points])
      }
    }
    entries.push(own)
  })
  const supporters = Array.from(counts, (c) => new Int32Array(c))
  const points = family === 'points' ? Array.from(counts, (c) => new Float64Array(c)) : null
  const fill = new Int32Array(ids.length)
  entries.forEach((own, voter) => {
    for (const [p, pts] of own) {
      const at = fill[p] as number
      ;(supporters[p] as Int32Array)[at] = voter
      if (points) (points[p] as Float64Array)[at] = pts
      fill[p] = at + 1
    }
  })
  return {
    ids,
    costs,
    budget,
    voters: election.ballots.length,
    family,
    supporters,
    points,
    votes: Array.from(counts),
    score: family === 'approval' ? Array.from(counts) : score,
  }
}
