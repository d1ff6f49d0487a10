/**
 * Checks one ballot against its budget's voting method. The merge-policy layer calls
 * {@link validateBallot} (injected) before counting a ballot; a failing ballot stays in the
 * document and is reported with the rule it broke.
 *
 * ```ts
 * import { validateBallot } from './ballot-rules'
 * const projects = new Map([['park', { cost: '400000' }], ['library', { cost: '300000' }]])
 * validateBallot({ kind: 'knapsack' }, { kind: 'knapsack', approved: ['park', 'library'] }, { total: '600000', projects })
 * // { ok: false, code: 'E_INVALID', rule: 'knapsack-limit', reason: 'approved projects cost 700000, above the limit 600000' }
 * ```
 * @module
 */
import { CabildoError } from '../../errors'
import type { BallotChoice, VotingMethod } from '../../schema/budget'
import { add, compare, formatRational, parseRational, ZERO, type Rational } from './rational'

/**
 * The verdict on a ballot. `rule` names the broken rule, stable for programs:
 * `kind` (ballot shape differs from the method), `unknown-project`, `duplicate-project`,
 * `min-projects`, `max-projects`, `knapsack-limit`, `invalid-points` (not a non-negative
 * integer), `max-points`, `max-points-per-project`, `invalid-score` (not an integer),
 * `score-range`, `min-length`, `max-length`.
 */
export type BallotCheck = { ok: true } | { ok: false; code: 'E_INVALID'; rule: string; reason: string }

/** What a ballot is checked against: the budget total and its projects' costs (exact decimal text). */
export interface BallotContext {
  /** The budget total, e.g. `"600000"`. */
  readonly total: string
  /** The budget's projects by id. */
  readonly projects: ReadonlyMap<string, { readonly cost: string }>
}

const OK: BallotCheck = { ok: true }

function fail(rule: string, reason: string): BallotCheck {
  return { ok: false, code: 'E_INVALID', rule, reason }
}

function amount(text: string, what: string): Rational {
  try {
    return parseRational(text)
  } catch {
    throw new CabildoError('E_ARGUMENT', `${what} is not an exact amount: ${JSON.stringify(text)}`, { argument: 'ctx', reason: `${what} malformed` })
  }
}

/** Unknown or repeated project ids in a list, in that order of precedence. */
function checkIds(ids: readonly string[], ctx: BallotContext): BallotCheck {
  const seen = new Set<string>()
  for (const id of ids) {
    if (!ctx.projects.has(id)) return fail('unknown-project', `project ${JSON.stringify(id)} is not in this budget`)
    if (seen.has(id)) return fail('duplicate-project', `project ${JSON.stringify(id)} appears twice`)
    seen.add(id)
  }
  return OK
}

function checkCount(count: number, min: number | undefined, max: number | undefined, names: [string, string], what: string): BallotCheck {
  if (min !== undefined && count < min) return fail(names[0], `${count} ${what}, at least ${min} required`)
  if (max !== undefined && count > max) return fail(names[1], `${count} ${what}, at most ${max} allowed`)
  return OK
}

/**
 * Checks `choice` against `method` and the budget in `ctx`: the ballot's kind must be the
 * method's; every project must belong to the budget, once; and the method's limits hold
 * (number of projects, total cost within the knapsack limit or the budget, points within the
 * allowance and per-project cap, scores within range, ranking length). Pure.
 * @throws CabildoError `E_ARGUMENT` when `ctx` itself is malformed (a cost or total that is not
 *   an exact amount): a programming error, not a bad ballot
 */
export function validateBallot(method: VotingMethod, choice: BallotChoice, ctx: BallotContext): BallotCheck {
  if (choice.kind !== method.kind) return fail('kind', `a ${choice.kind} ballot in a ${method.kind} vote`)
  switch (method.kind) {
    case 'approval': {
      const ids = (choice as Extract<BallotChoice, { kind: 'approval' }>).approved
      const idCheck = checkIds(ids, ctx)
      if (!idCheck.ok) return idCheck
      return checkCount(ids.length, method.minProjects, method.maxProjects, ['min-projects', 'max-projects'], 'projects approved')
    }
    case 'knapsack': {
      const ids = (choice as Extract<BallotChoice, { kind: 'knapsack' }>).approved
      const idCheck = checkIds(ids, ctx)
      if (!idCheck.ok) return idCheck
      const limit = amount(method.limit ?? ctx.total, method.limit === undefined ? 'the budget total' : 'the knapsack limit')
      let cost: Rational = ZERO
      for (const id of ids) cost = add(cost, amount(ctx.projects.get(id)?.cost ?? '', `the cost of ${JSON.stringify(id)}`))
      if (compare(cost, limit) > 0) {
        return fail('knapsack-limit', `approved projects cost ${formatRational(cost)}, above the limit ${formatRational(limit)}`)
      }
      return OK
    }
    case 'cumulative': {
      const entries = Object.entries((choice as Extract<BallotChoice, { kind: 'cumulative' }>).points)
      const idCheck = checkIds(
        entries.map(([id]) => id),
        ctx,
      )
      if (!idCheck.ok) return idCheck
      let total = 0
      let supported = 0
      for (const [id, points] of entries) {
        if (!Number.isSafeInteger(points) || points < 0) return fail('invalid-points', `points for ${JSON.stringify(id)} must be a non-negative integer`)
        if (method.maxPointsPerProject !== undefined && points > method.maxPointsPerProject) {
          return fail('max-points-per-project', `${points} points on ${JSON.stringify(id)}, at most ${method.maxPointsPerProject} allowed`)
        }
        total += points
        if (points > 0) supported++
      }
      if (total > method.maxPoints) return fail('max-points', `${total} points given, at most ${method.maxPoints} allowed`)
      return checkCount(supported, method.minProjects, undefined, ['min-projects', 'max-projects'], 'projects given points')
    }
    case 'ordinal': {
      const ids = (choice as Extract<BallotChoice, { kind: 'ordinal' }>).ranking
      const idCheck = checkIds(ids, ctx)
      if (!idCheck.ok) return idCheck
      return checkCount(ids.length, method.minLength, method.maxLength, ['min-length', 'max-length'], 'projects ranked')
    }
    case 'scoring': {
      const entries = Object.entries((choice as Extract<BallotChoice, { kind: 'scoring' }>).scores)
      const idCheck = checkIds(
        entries.map(([id]) => id),
        ctx,
      )
      if (!idCheck.ok) return idCheck
      for (const [id, score] of entries) {
        if (!Number.isSafeInteger(score)) return fail('invalid-score', `score for ${JSON.stringify(id)} must be an integer`)
        if (score < method.minScore || score > method.maxScore) {
          return fail('score-range', `score ${score} for ${JSON.stringify(id)} outside ${method.minScore}..${method.maxScore}`)
        }
      }
      return OK
    }
  }
}
