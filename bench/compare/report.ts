/**
 * Turns the children's results into ratios to raw Yjs (same workload, same size, same run), a
 * Markdown report, `latest.json` and a hand-written SVG chart of the ratios.
 * @module
 */
import type { Figures, RunResult } from './harness'
import { DAY_SCALE_MAX } from './workloads'

/** The system every ratio is relative to. */
export const BASELINE = 'yjs'

/** A figure shown in the tables: its key in `figures`, its label, and the raw-Yjs figure its ratio uses. */
interface FigureSpec {
  readonly key: string
  readonly label: string
  readonly digits: number
  /** The Yjs figure the ratio divides by (default: the same key). */
  readonly against?: string
  /** Shown in the chart. */
  readonly chart?: boolean
  /** No ratio (a rate, where higher is better). */
  readonly noRatio?: boolean
}

const FIGURES: Record<RunResult['workload'], readonly FigureSpec[]> = {
  civic311: [
    { key: 'createUs', label: 'create, µs per ticket', digits: 1, chart: true },
    { key: 'updateUs', label: 'update, µs (mean)', digits: 1, chart: true },
    { key: 'transitionMedianUs', label: 'status transition, median µs', digits: 1 },
    { key: 'noteMedianUs', label: 'note, median µs', digits: 1 },
    { key: 'buildMs', label: "build the year (creates + the year's updates), ms", digits: 0 },
    { key: 'fullBytes', label: 'full state, bytes', digits: 0, chart: true },
    { key: 'bytesPerTicket', label: 'full state, bytes per ticket', digits: 0 },
    { key: 'encodeMs', label: 'encode full state, ms', digits: 0 },
    { key: 'loadMs', label: 'load on a fresh replica, ms', digits: 0 },
    { key: 'loadReadMs', label: 'load + read every ticket, ms', digits: 0, chart: true },
    { key: 'monthMs', label: 'open one month (load + read), ms', digits: 0, chart: true },
    { key: 'heapMB', label: 'heap after GC, MB', digits: 1, chart: true },
    { key: 'syncBytes', label: "one day's catch-up, bytes", digits: 0, chart: true },
    { key: 'syncMs', label: 'catch-up encode + apply, ms', digits: 0 },
    { key: 'signedFullBytes', label: 'signed full state (bundle), bytes', digits: 0, against: 'fullBytes' },
    { key: 'signedLoadMs', label: 'signed load through the guards, ms', digits: 0, against: 'loadReadMs' },
    { key: 'signedSyncBytes', label: 'signed catch-up (envelopes), bytes', digits: 0, against: 'syncBytes', chart: true },
    { key: 'signedSyncMs', label: 'signed catch-up export + import, ms', digits: 0, against: 'syncMs' },
  ],
  budget: [
    { key: 'ingestMs', label: 'store the ballots (1,000 per transaction), ms', digits: 0 },
    { key: 'fullBytes', label: 'full state, bytes', digits: 0 },
    { key: 'verifyUs', label: 'verify, µs per ballot', digits: 1, chart: true },
    { key: 'verifiesPerSec', label: 'verifies per second', digits: 0, noRatio: true },
    { key: 'foldMs', label: 'fold to the counted view, ms', digits: 1, chart: true },
    { key: 'outcomeMs', label: 'outcome (greedy), ms', digits: 1 },
    { key: 'firstViewMs', label: 'first view through the Space API (read + verify + fold), ms', digits: 0, noRatio: true },
    { key: 'incrementalMedianMs', label: 'one more ballot → view, median ms', digits: 3, chart: true },
  ],
  text: [
    { key: 'opUs', label: 'edit, µs per keystroke', digits: 1, chart: true },
    { key: 'fullBytes', label: 'full state, bytes', digits: 0, chart: true },
    { key: 'encodeMs', label: 'encode, ms', digits: 0 },
    { key: 'loadMs', label: 'load + read on a fresh replica, ms', digits: 0, chart: true },
    { key: 'heapMB', label: 'heap after GC, MB', digits: 1 },
  ],
}

const WORKLOAD_TITLE: Record<RunResult['workload'], string> = {
  civic311: 'civic311 + sync',
  budget: 'budget',
  text: 'proposal text',
}

/** A result with its ratios to raw Yjs. */
export interface RatedResult extends RunResult {
  readonly ratios: Figures
}

/** A run that did not produce a result. */
export interface Skipped {
  readonly system: string
  readonly workload: RunResult['workload']
  readonly size: number
  readonly reason: string
}

/**
 * The figures that grow in proportion to the number of tickets or ballots: totals of time,
 * bytes and memory, and the counts. Per-item figures (µs per create, medians, bytes per ticket,
 * verifies per second) and the incremental ones are kept as the sample measured them.
 */
const PROPORTIONAL: Record<RunResult['workload'], readonly string[]> = {
  civic311: [
    'tickets', 'updates', 'createTotalMs', 'updateTotalMs', 'buildMs', 'heapMB', 'encodeMs', 'fullBytes', 'loadMs', 'readMs', 'loadReadMs', 'monthMs', 'monthTickets',
  ],
  budget: ['ballots', 'ingestMs', 'fullBytes', 'verifyMs', 'foldMs'],
  text: ['ops', 'fullBytes', 'encodeMs', 'loadMs', 'heapMB'],
}

/** The figures of one day's catch-up, which grow with the day (see `DAY_SCALE_MAX`), not with the store. */
const DAY_FIGURES = ['dayNew', 'dayUpdates', 'dayWriteMs', 'syncBytes', 'syncEncodeMs', 'syncApplyMs', 'syncMs']

/**
 * A result measured on a sample, scaled to `size`: proportional figures multiplied by
 * `size / sample`, the day's figures by the ratio of the two days, the rest as measured, and a
 * note saying so. `cpuS` stays the sample's.
 */
export function scaleResult(result: RunResult, size: number): RunResult {
  const factor = size / result.size
  const figures: Figures = { ...result.figures }
  const scale = (keys: readonly string[], by: number): void => {
    for (const key of keys) {
      const value = figures[key]
      if (value !== undefined) figures[key] = value * by
    }
  }
  scale(PROPORTIONAL[result.workload], factor)
  if (result.workload === 'civic311') scale(DAY_FIGURES, Math.min(size, DAY_SCALE_MAX) / Math.min(result.size, DAY_SCALE_MAX))
  const unit = result.workload === 'civic311' ? 'tickets' : result.workload === 'budget' ? 'ballots' : 'edits'
  const note =
    `measured on ${result.size.toLocaleString('en-US')} ${unit} and scaled ×${factor.toLocaleString('en-US')} (totals of time, bytes and heap); ` +
    'per-item and incremental figures as measured on the sample, so lower than at full size where they grow with the state'
  return { ...result, size, figures, notes: [note, ...result.notes], sampledFrom: result.size }
}

/** Adds `ratios` (figure ÷ raw Yjs's figure in the same workload and size) to every result. */
export function rate(results: readonly RunResult[]): RatedResult[] {
  return results.map((r) => {
    const base = results.find((b) => b.system === BASELINE && b.workload === r.workload && b.size === r.size)
    const ratios: Figures = {}
    if (base) {
      for (const spec of FIGURES[r.workload].filter((f) => !f.noRatio)) {
        const value = r.figures[spec.key]
        const against = base.figures[spec.against ?? spec.key]
        if (value !== undefined && against !== undefined && against > 0 && Number.isFinite(value)) ratios[spec.key] = value / against
      }
    }
    return { ...r, ratios }
  })
}

const fmt = (value: number, digits: number): string =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—'
const ratioText = (ratio: number | undefined): string => (ratio === undefined ? '' : ` (${ratio < 0.1 ? ratio.toFixed(3) : ratio.toFixed(2)}×)`)

/** The Markdown tables: one per workload and size, figures down, systems across, ratios to raw Yjs in brackets. */
export function markdown(results: readonly RatedResult[], skipped: readonly Skipped[], systems: readonly string[]): string {
  const out: string[] = []
  const groups = [...new Set(results.map((r) => `${r.workload}|${r.size}`))]
  for (const group of groups) {
    const [workload, size] = group.split('|') as [RunResult['workload'], string]
    const row = systems.map((s) => results.find((r) => r.system === s && r.workload === workload && r.size === Number(size)))
    const present = systems.filter((_, i) => row[i] !== undefined)
    const unit = workload === 'civic311' ? 'tickets' : workload === 'budget' ? 'ballots' : 'edits'
    out.push(`### ${WORKLOAD_TITLE[workload]}, ${Number(size).toLocaleString('en-US')} ${unit}`, '')
    out.push(`| figure | ${present.join(' | ')} |`, `| --- |${present.map(() => ' ---: |').join('')}`)
    for (const spec of FIGURES[workload]) {
      const cells = row.filter((r) => r !== undefined).map((r) => {
        const value = r.figures[spec.key]
        return value === undefined ? '' : `${fmt(value, spec.digits)}${ratioText(r.ratios[spec.key])}`
      })
      if (cells.every((c) => c === '')) continue
      out.push(`| ${spec.label} | ${cells.join(' | ')} |`)
    }
    const notes = row.filter((r): r is RatedResult => r !== undefined).flatMap((r) => r.notes.filter((n) => !n.startsWith('outcome:')).map((n) => `${r.system}: ${n}`))
    const skips = skipped.filter((s) => s.workload === workload && s.size === Number(size)).map((s) => `${s.system}: not run (${s.reason})`)
    if (notes.length + skips.length > 0) out.push('', ...[...notes, ...skips].map((n) => `- ${n}`))
    out.push('')
  }
  return out.join('\n')
}

/** A target for cabildo ÷ raw Yjs (or an absolute bound), checked against the largest size run. */
interface Target {
  readonly what: string
  readonly workload: RunResult['workload']
  readonly key: string
  /** Ratio bound, or an absolute bound when `absolute` is set. */
  readonly limit: number
  readonly aim?: number
  readonly absolute?: string
  /** Only at this size (e.g. the 1M-ticket figure). */
  readonly size?: number
  /** Digits shown for an absolute figure (default 3). */
  readonly digits?: number
}

const MILLION = 1_000_000

/** The targets of docs/benchmarks.md. */
export const TARGETS: readonly Target[] = [
  { what: 'create', workload: 'civic311', key: 'createUs', limit: 1.3, aim: 1.15 },
  { what: 'update', workload: 'civic311', key: 'updateUs', limit: 1.3, aim: 1.15 },
  { what: 'full-state bytes', workload: 'civic311', key: 'fullBytes', limit: 1.1 },
  { what: 'load and read', workload: 'civic311', key: 'loadReadMs', limit: 1.3 },
  { what: 'open one month of a year', workload: 'civic311', key: 'monthMs', limit: 0.5 },
  { what: 'heap', workload: 'civic311', key: 'heapMB', limit: 1.25 },
  { what: "one day's catch-up bytes (state vector)", workload: 'civic311', key: 'syncBytes', limit: 1.0, aim: 0.6 },
  { what: "one day's catch-up bytes (signed envelopes)", workload: 'civic311', key: 'signedSyncBytes', limit: 1.0, aim: 0.6 },
  { what: 'one more ballot → view (median)', workload: 'budget', key: 'incrementalMedianMs', limit: 1, absolute: 'ms', size: 100_000 },
  { what: 'one status change over 1M tickets (median)', workload: 'civic311', key: 'transitionMedianUs', limit: 1000, absolute: 'µs', size: MILLION, digits: 0 },
  { what: "1M tickets: build (creates + the year's updates)", workload: 'civic311', key: 'buildMs', limit: 90_000, absolute: 'ms', size: MILLION, digits: 0 },
  { what: '1M tickets: open (load on a fresh replica)', workload: 'civic311', key: 'loadMs', limit: 20_000, absolute: 'ms', size: MILLION, digits: 0 },
  { what: '1M tickets: heap after GC', workload: 'civic311', key: 'heapMB', limit: 6_144, absolute: 'MB', size: MILLION, digits: 0 },
  { what: "1M tickets: one day's catch-up, bytes", workload: 'civic311', key: 'syncBytes', limit: 5_000_000, absolute: 'bytes', size: MILLION, digits: 0 },
  { what: "1M tickets: one day's catch-up, encode + apply", workload: 'civic311', key: 'syncMs', limit: 5_000, absolute: 'ms', size: MILLION, digits: 0 },
]

/** The targets table for cabildo, at the largest size of each workload in this run. */
export function targetTable(results: readonly RatedResult[]): string {
  const out = ['| target | bound | measured | at | met |', '| --- | --- | --- | --- | --- |']
  for (const t of TARGETS) {
    const mine = results.filter((r) => r.system === 'cabildo' && r.workload === t.workload && (t.size === undefined || r.size === t.size))
    const r = mine.sort((a, b) => b.size - a.size)[0]
    const bound = t.absolute ? `≤ ${t.limit.toLocaleString('en-US')} ${t.absolute}` : `≤ ${t.limit}×${t.aim ? ` (aim ${t.aim}×)` : ''}`
    if (!r) {
      out.push(`| ${t.what} | ${bound} | not run | ${t.size ? t.size.toLocaleString('en-US') : ''} | — |`)
      continue
    }
    const value = t.absolute ? r.figures[t.key] : r.ratios[t.key]
    const shown = value === undefined ? '—' : t.absolute ? `${fmt(value, t.digits ?? 3)} ${t.absolute}` : `${value.toFixed(2)}×`
    const met = value === undefined ? '—' : value <= t.limit ? 'yes' : 'no'
    out.push(`| ${t.what} | ${bound} | ${shown} | ${r.size.toLocaleString('en-US')} | ${met} |`)
  }
  return out.join('\n')
}

const COLORS: Record<string, string> = { cabildo: '#c0392b', automerge: '#8e44ad', loro: '#16a085', json: '#7f8c8d', yjs: '#2c3e50' }
const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/**
 * A horizontal bar chart of the charted ratios, log scale from 0.01× to 1000×, one group per
 * workload × size × figure, one bar per system other than raw Yjs (whose ratio is 1 by definition).
 */
export function svgChart(results: readonly RatedResult[], systems: readonly string[], title: string): string {
  const others = systems.filter((s) => s !== BASELINE)
  const rows: Array<{ label: string; bars: Array<{ system: string; ratio: number }> }> = []
  const groups = [...new Set(results.map((r) => `${r.workload}|${r.size}`))]
  for (const group of groups) {
    const [workload, size] = group.split('|') as [RunResult['workload'], string]
    for (const spec of FIGURES[workload].filter((f) => f.chart)) {
      const bars = others.flatMap((system) => {
        const r = results.find((x) => x.system === system && x.workload === workload && x.size === Number(size))
        const ratio = r?.ratios[spec.key]
        return ratio === undefined ? [] : [{ system, ratio }]
      })
      if (bars.length > 0) rows.push({ label: `${WORKLOAD_TITLE[workload]} ${Number(size).toLocaleString('en-US')}: ${spec.label}`, bars })
    }
  }
  const labelWidth = 430
  const plotWidth = 520
  const barHeight = 9
  const top = 60
  const rowHeights = rows.map((r) => r.bars.length * barHeight + 10)
  const height = top + rowHeights.reduce((a, b) => a + b, 0) + 40
  const width = labelWidth + plotWidth + 40
  const min = -2
  const max = 3
  const x = (ratio: number): number => labelWidth + ((Math.min(max, Math.max(min, Math.log10(ratio))) - min) / (max - min)) * plotWidth
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ]
  others.forEach((s, i) => {
    parts.push(`<rect x="${10 + i * 110}" y="32" width="10" height="10" fill="${COLORS[s] ?? '#333'}"/><text x="${24 + i * 110}" y="41">${escapeXml(s)}</text>`)
  })
  for (let e = min; e <= max; e++) {
    const gx = x(10 ** e)
    parts.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${height - 30}" stroke="${e === 0 ? '#000' : '#ddd'}"/>`)
    parts.push(`<text x="${gx}" y="${height - 16}" text-anchor="middle">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)}×</text>`)
  }
  let y = top
  rows.forEach((row, i) => {
    parts.push(`<text x="${labelWidth - 8}" y="${y + (row.bars.length * barHeight) / 2 + 4}" text-anchor="end">${escapeXml(row.label)}</text>`)
    row.bars.forEach((bar, k) => {
      const x0 = x(1)
      const x1 = x(bar.ratio)
      parts.push(
        `<rect x="${Math.min(x0, x1).toFixed(1)}" y="${y + k * barHeight}" width="${Math.max(1, Math.abs(x1 - x0)).toFixed(1)}" height="${barHeight - 1}" fill="${COLORS[bar.system] ?? '#333'}"><title>${escapeXml(`${bar.system}: ${bar.ratio.toFixed(2)}×`)}</title></rect>`,
      )
    })
    y += rowHeights[i] as number
  })
  parts.push(`<text x="${labelWidth}" y="${height - 2}">ratio to raw Yjs in the same run (log scale; left of the black line is cheaper than Yjs)</text>`, '</svg>')
  return parts.join('\n')
}
