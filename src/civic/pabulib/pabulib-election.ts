/**
 * From a Pabulib instance to the input of cabildo's outcome rules, checking every field the
 * format defines on the way (budget, vote type, costs, votes, points).
 *
 * ```ts
 * import { parsePabulib } from './parse-pabulib'
 * import { pabulibToElection } from './pabulib-election'
 * import { greedyOutcome } from '../budgeting/greedy'
 * const election = pabulibToElection(parsePabulib(text))
 * greedyOutcome(election).selected
 * ```
 * @module
 */
import type { BallotChoice } from '../../schema/budget'
import type { BudgetElection } from '../budgeting/election'
import type { Completion, OutcomeRule } from '../budgeting/outcome'
import { pabulibError } from './pabulib-csv'
import { metaValue, PABULIB_VOTE_TYPES, type PabulibInstance, type PabulibRow, type PabulibVoteType } from './pabulib-instance'

/** Line numbers of an instance's parts, when it was read from text (for error messages). */
export interface PabulibLines {
  readonly meta: readonly number[]
  readonly projectsHeader: number
  readonly projects: readonly number[]
  readonly votesHeader: number
  readonly votes: readonly number[]
}

/** A Pabulib instance as rule input, with its vote type. */
export interface PabulibElection extends BudgetElection {
  /** The file's `vote_type`. */
  readonly voteType: PabulibVoteType
}

const AMOUNT = /^\d+(?:[.,]\d+)?$/
const INTEGER = /^[+-]?\d+(?:\.0+)?$/

/** Normalizes an amount as Pabulib writes it (`"15000"`, `"250000.75"`, `"0,5"`) or `undefined` if it is not one. */
function amount(text: string): string | undefined {
  const t = text.trim()
  if (!AMOUNT.test(t)) return undefined
  return t.replace(',', '.')
}

/** The project ids of a vote field (`"12,7,3"`), trimmed; empty for an empty vote. */
function voteIds(field: string): string[] {
  const t = field.trim()
  return t === '' ? [] : t.split(',').map((s) => s.trim())
}

function ballotOf(
  voteType: PabulibVoteType,
  row: PabulibRow,
  known: ReadonlySet<string>,
  line: number | undefined,
): BallotChoice {
  const ids = voteIds(row['vote'] ?? '')
  const seen = new Set<string>()
  for (const id of ids) {
    if (!known.has(id)) throw pabulibError(line, `vote names unknown project ${JSON.stringify(id)}`, 'vote')
    if (seen.has(id)) throw pabulibError(line, `vote names project ${JSON.stringify(id)} twice`, 'vote')
    seen.add(id)
  }
  if (voteType === 'approval' || voteType === 'choose-1') return { kind: 'approval', approved: ids }
  if (voteType === 'ordinal') return { kind: 'ordinal', ranking: ids }
  const pointsText = (row['points'] ?? '').trim()
  const points = ids.length === 0 && (pointsText === '' || pointsText.toLowerCase() === 'none') ? [] : pointsText.split(',').map((s) => s.trim())
  if (points.length !== ids.length) {
    throw pabulibError(line, `${ids.length} projects but ${points.length} points`, 'points')
  }
  const entries = ids.map((id, k): [string, number] => {
    const text = points[k] as string
    const value = INTEGER.test(text) ? Number(text) : Number.NaN
    if (!Number.isSafeInteger(value) || (voteType === 'cumulative' && value < 0)) {
      throw pabulibError(line, `points must be ${voteType === 'cumulative' ? 'non-negative ' : ''}integers, got ${JSON.stringify(text)}`, 'points')
    }
    return [id, value]
  })
  return voteType === 'cumulative'
    ? { kind: 'cumulative', points: Object.fromEntries(entries) }
    : { kind: 'scoring', scores: Object.fromEntries(entries) }
}

/**
 * Converts (and checks) an instance into rule input: the META `budget`, the projects' ids and
 * costs, one ballot per vote row. Costs and the budget stay exact.
 * @throws CabildoError `E_PARSE` (format `pabulib`, with the line when `lines` is given) when the
 *   budget or vote type is missing or malformed, a required column is missing, a cost is not an
 *   amount, a project id repeats, or a vote names an unknown project, names one twice, or has
 *   points that do not match it
 */
export function pabulibToElection(instance: PabulibInstance, lines?: PabulibLines): PabulibElection {
  const metaLine = (key: string): number | undefined => {
    const at = instance.meta.findIndex((e) => e.key.trim() === key)
    return at >= 0 ? lines?.meta[at] : lines?.meta[0]
  }
  const budgetText = metaValue(instance, 'budget')
  if (budgetText === undefined) throw pabulibError(lines?.meta[0], 'META has no budget', 'budget')
  const total = amount(budgetText)
  if (total === undefined) throw pabulibError(metaLine('budget'), `budget is not an amount: ${JSON.stringify(budgetText)}`, 'budget')
  const voteTypeText = metaValue(instance, 'vote_type')
  const voteType = PABULIB_VOTE_TYPES.find((t) => t === voteTypeText)
  if (voteType === undefined) {
    throw pabulibError(metaLine('vote_type'), `unsupported vote_type ${JSON.stringify(voteTypeText ?? '')}`, 'vote_type')
  }
  for (const column of ['project_id', 'cost']) {
    if (!instance.projects.columns.includes(column)) throw pabulibError(lines?.projectsHeader, `PROJECTS has no ${column} column`, column)
  }
  if (!instance.votes.columns.includes('vote')) throw pabulibError(lines?.votesHeader, 'VOTES has no vote column', 'vote')
  if ((voteType === 'cumulative' || voteType === 'scoring') && instance.votes.rows.length > 0 && !instance.votes.columns.includes('points')) {
    throw pabulibError(lines?.votesHeader, `${voteType} votes need a points column`, 'points')
  }

  const known = new Set<string>()
  const projects = instance.projects.rows.map((row, k) => {
    const line = lines?.projects[k]
    const id = (row['project_id'] ?? '').trim()
    if (id === '') throw pabulibError(line, 'empty project_id', 'project_id')
    if (known.has(id)) throw pabulibError(line, `project_id ${JSON.stringify(id)} appears twice`, 'project_id')
    known.add(id)
    const cost = amount(row['cost'] ?? '')
    if (cost === undefined) throw pabulibError(line, `cost is not an amount: ${JSON.stringify(row['cost'])}`, 'cost')
    return { id, cost }
  })
  const ballots = instance.votes.rows.map((row, k) => ballotOf(voteType, row, known, lines?.votes[k]))
  return { total, projects, ballots, voteType }
}

/**
 * The official selection recorded in the PROJECTS `selected` column (`1`, or `2` for "selected
 * for another reason"), in file order; `undefined` when the file has no such column.
 */
export function pabulibSelection(instance: PabulibInstance): string[] | undefined {
  if (!instance.projects.columns.includes('selected')) return undefined
  return instance.projects.rows
    .filter((row) => {
      const v = (row['selected'] ?? '').trim()
      return /^\d+$/.test(v) && Number(v) > 0
    })
    .map((row) => (row['project_id'] ?? '').trim())
}

/**
 * The rule a file's META `rule` names, when cabildo implements it: `greedy` → greedy;
 * `equalshares` → MES with cost utilities; `equalshares/add1` → MES with cost utilities
 * completed by `add1-until-infeasible` (how Wieliczka 2023, the file that introduced it,
 * computed its official outcome). Otherwise `undefined`.
 */
export function pabulibRule(instance: PabulibInstance): { rule: OutcomeRule; completion: Completion } | undefined {
  switch (metaValue(instance, 'rule')) {
    case 'greedy':
      return { rule: 'greedy', completion: 'none' }
    case 'equalshares':
      return { rule: 'mes', completion: 'none' }
    case 'equalshares/add1':
      return { rule: 'mes', completion: 'add1-until-infeasible' }
    default:
      return undefined
  }
}
