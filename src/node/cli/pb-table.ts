/**
 * A readable table of an outcome for `cabildo pb`: one line per project (funded ones first, in
 * funding order), with votes, cost, whether it is funded and, for MES, what its supporters paid.
 * @module
 */
import type { Outcome, PaymentGroup, ProjectResult } from '../../civic/budgeting/outcome'
import { parseRational, toFixed } from '../../civic/budgeting/rational'

/** Extra columns taken from the file. */
export interface TableExtras {
  /** Project names by id (shown shortened). */
  readonly names?: ReadonlyMap<string, string>
  /** The official selection recorded in the file. */
  readonly official?: ReadonlySet<string>
}

/** An exact amount for people: exact decimals as they are, others rounded to cents with `≈`. */
export function formatMoney(exact: string): string {
  const { text, exact: isExact } = toFixed(parseRational(exact), 2)
  if (isExact) return text.replace(/\.00$/, '')
  return `≈${text}`
}

function paymentText(groups: readonly PaymentGroup[]): string {
  return groups
    .map((g) => {
      if (!g.allTheyHad) return `${g.voters}×${formatMoney(g.each ?? g.total)}`
      if (g.total === '0') return `${g.voters} had nothing left`
      return `${g.voters} paid all they had (${g.each === undefined ? `${formatMoney(g.total)} in all` : `${formatMoney(g.each)} each`})`
    })
    .join('; ')
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…'
}

/** Formats the outcome as an aligned text table followed by a summary. */
export function formatOutcomeTable(outcome: Outcome, extras: TableExtras = {}): string {
  const funded = new Map(outcome.selected.map((id, k) => [id, k]))
  const rows = [...outcome.projects].sort((a, b) => {
    const fa = funded.get(a.id)
    const fb = funded.get(b.id)
    if (fa !== undefined || fb !== undefined) return (fa ?? Infinity) - (fb ?? Infinity)
    return (b.points ?? b.votes) - (a.points ?? a.votes)
  })
  const withPoints = outcome.projects.some((p) => p.points !== undefined)
  const isMes = outcome.rule !== 'greedy'
  const header = ['project', ...(extras.names ? ['name'] : []), 'votes', ...(withPoints ? ['points'] : []), 'cost', 'selected', ...(extras.official ? ['official'] : []), ...(isMes ? ['paid by supporters'] : [])]
  const line = (p: ProjectResult): string[] => [
    p.id,
    ...(extras.names ? [shorten(extras.names.get(p.id) ?? '', 40)] : []),
    String(p.votes),
    ...(withPoints ? [String(p.points ?? '')] : []),
    formatMoney(p.cost),
    p.selected ? (p.selectedBy === 'greedy' && isMes ? 'yes (greedy)' : 'yes') : 'no',
    ...(extras.official ? [extras.official.has(p.id) ? 'yes' : 'no'] : []),
    ...(isMes ? [p.payments ? paymentText(p.payments) : ''] : []),
  ]
  const table = [header, ...rows.map(line)]
  const widths = header.map((_, c) => Math.max(...table.map((r) => (r[c] ?? '').length)))
  const numeric = new Set(['votes', 'points', 'cost'])
  const text = table.map((r) =>
    r
      .map((cell, c) => (numeric.has(header[c] as string) ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number)))
      .join('  ')
      .trimEnd(),
  )
  const raises = outcome.increments !== undefined ? ` (+${outcome.increments} per voter)` : ''
  const summary = [
    `rule: ${outcome.rule}, completion: ${outcome.completion}${raises}`,
    ...(outcome.voterBudget !== undefined ? [`each voter's budget: ${formatMoney(outcome.voterBudget)}`] : []),
    `funded: ${outcome.selected.length} of ${outcome.projects.length} projects, spent ${formatMoney(outcome.spent)} of ${formatMoney(outcome.budget)}`,
  ]
  return [...text, '', ...summary].join('\n') + '\n'
}
