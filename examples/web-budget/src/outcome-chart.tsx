/**
 * The outcome as a picture: one bar for the whole budget, split into what the funded projects
 * take and what is left, then one bar per project, as long as its cost against the total, green
 * when funded, with its votes. Plain SVG drawn by React; a table below gives the same figures to
 * screen readers and to anyone who prefers numbers.
 * @module
 */
import type { BudgetOutcome } from './budget-outcome'

const WIDTH = 780
const BAR_X = 320
const BAR_WIDTH = 370
const ROW = 24
const TOP = 78
const money = new Intl.NumberFormat('en-US')

/** Shortens a title to fit its column; the full title stays in the tooltip and the table. */
function shorten(title: string, max = 36): string {
  return title.length <= max ? title : `${title.slice(0, max - 1).trimEnd()}…`
}

/** Props of {@link OutcomeChart}. */
export interface OutcomeChartProps {
  readonly outcome: BudgetOutcome
  readonly currency: string
}

/** The outcome of the vote as an SVG bar chart, with a summary line and a table of the same figures. */
export function OutcomeChart({ outcome, currency }: OutcomeChartProps) {
  const scale = (value: number): number => (outcome.total > 0 ? (value / outcome.total) * BAR_WIDTH : 0)
  const funded = outcome.rows.filter((row) => row.funded)
  const height = TOP + outcome.rows.length * ROW + 8
  const summary =
    `${outcome.ballots} ${outcome.ballots === 1 ? 'ballot' : 'ballots'} counted; ` +
    `${funded.length} of ${outcome.rows.length} projects funded; ` +
    `${money.format(outcome.spent)} of ${money.format(outcome.total)} ${currency} allocated`
  // Funded projects side by side along the budget bar, in funding order.
  const segments: Array<{ readonly row: (typeof funded)[number]; readonly x: number }> = []
  let used = 0
  for (const row of funded) {
    segments.push({ row, x: BAR_X + scale(used) })
    used += row.cost
  }
  return (
    <figure className="outcome">
      <p id="outcome-summary" className="summary">
        {summary}
      </p>
      <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-labelledby="chart-title chart-desc" className="chart">
        <title id="chart-title">Outcome of the vote, greedy rule</title>
        <desc id="chart-desc">
          {`${summary}. Funded: ${funded.map((row) => row.title).join('; ') || 'none yet'}.`}
        </desc>
        <text x={BAR_X - 10} y={30} textAnchor="end" className="label strong">
          Total budget
        </text>
        {segments.map(({ row, x }, i) => (
          <rect key={row.id} x={x} y={16} width={scale(row.cost)} height={20} className={i % 2 === 0 ? 'funded' : 'funded alt'}>
            <title>{`${row.title}: ${money.format(row.cost)} ${currency}`}</title>
          </rect>
        ))}
        <rect x={BAR_X + scale(outcome.spent)} y={16} width={Math.max(0, BAR_WIDTH - scale(outcome.spent))} height={20} className="unspent" />
        <text x={BAR_X + BAR_WIDTH + 8} y={30} className="label">
          {`${outcome.total > 0 ? Math.round((outcome.spent / outcome.total) * 100) : 0}% used`}
        </text>
        <text x={BAR_X} y={54} className="axis">
          0
        </text>
        <text x={BAR_X + BAR_WIDTH} y={54} textAnchor="end" className="axis">
          {`${money.format(outcome.total)} ${currency}`}
        </text>
        <text x={WIDTH - 4} y={ROW + 46} textAnchor="end" className="axis">
          votes
        </text>
        {outcome.rows.map((row, i) => {
          const y = TOP + i * ROW
          return (
            <g key={row.id} className={row.funded ? 'row is-funded' : 'row'}>
              <title>{`${row.title}: ${money.format(row.cost)} ${currency}, ${row.votes} ${row.votes === 1 ? 'vote' : 'votes'}, ${row.funded ? 'funded' : 'not funded'}`}</title>
              <text x={BAR_X - 10} y={y + 12} textAnchor="end" className="label">
                {shorten(row.title)}
              </text>
              <rect x={BAR_X} y={y + 1} width={Math.max(1, scale(row.cost))} height={14} className={row.funded ? 'funded' : 'not-funded'} />
              <text x={WIDTH - 4} y={y + 12} textAnchor="end" className="votes">
                {row.votes}
              </text>
            </g>
          )
        })}
      </svg>
      <figcaption>
        <span className="swatch funded" aria-hidden="true" /> funded <span className="swatch not-funded" aria-hidden="true" /> not funded. Bars
        measure each project&apos;s cost against the total budget; projects are taken by votes, and one that no longer fits is skipped.
      </figcaption>
      <details>
        <summary>The outcome as a table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Project</th>
              <th scope="col">Cost ({currency})</th>
              <th scope="col">Votes</th>
              <th scope="col">Funded</th>
            </tr>
          </thead>
          <tbody>
            {outcome.rows.map((row) => (
              <tr key={row.id} data-project={row.id}>
                <th scope="row">{row.title}</th>
                <td>{money.format(row.cost)}</td>
                <td>{row.votes}</td>
                <td>{row.funded ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  )
}
