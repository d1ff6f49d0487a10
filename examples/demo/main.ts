/**
 * The cabildo demo: three districts' apps share one civic space with no coordinating server.
 *
 * North (participation app) and South (service-ticket app, one schema version ahead) sync
 * through a relay started here on 127.0.0.1; East is offline and exchanges bundle files. Staff
 * and citizens of all three act — sometimes at the same time, during a partition — and a
 * compromised app forges acts and edits. After healing, every district resolves its own view:
 * the demo prints them side by side with the conflicts and rejected acts, and a content hash per
 * district. It exits non-zero if the hashes differ.
 *
 * Run: `npm run demo` (flags: `--quiet`, `--json`, `--data DIR`; a second run picks up the data).
 */
import { parseArgs } from 'node:util'
import { createProgress } from './progress'
import { districtView, type DistrictView } from './report'
import { runScenario } from './scenario'

const { values: flags } = parseArgs({
  options: { quiet: { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, data: { type: 'string', default: '.demo-data' } },
})
const verbose = !flags.quiet && !flags.json
const say = (line: string): void => {
  if (verbose) console.log(line)
}

function money(amount: unknown): string {
  return typeof amount === 'string' ? `€${Number(amount).toLocaleString('en')}` : String(amount)
}

function printSideBySide(views: readonly DistrictView[], names: ReadonlyMap<string, string>): void {
  const first = views[0]
  if (first === undefined) return
  const v = first.view as {
    tickets: Record<string, { service_code: string; accessibility?: string; status_notes?: string; resolved: { status: string } }>
    proposals: Record<string, { title: string; body: string; resolved: { status: string } }>
    budgets: Record<string, { title: string; total: string; resolved: { phase: string; ballots: unknown[]; allocations: { allocated: string; lines: Array<{ project: string; amount: string }> } } }>
    projects: Record<string, { title: string; cost: string }>
  }
  const columns = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(44) : cell.padEnd(14))).join('')
  say('')
  say(columns(['Resolved view', ...views.map((view) => view.name)]))
  const row = (label: string, pick: (view: DistrictView) => string): void => say(columns([label, ...views.map(pick)]))
  const at = (view: DistrictView) => view.view as typeof v
  for (const [id, ticket] of Object.entries(v.tickets).slice(-3)) {
    row(`ticket ${ticket.service_code}${ticket.accessibility ? ' (step-free route blocked)' : ''}`, (view) => at(view).tickets[id]?.resolved.status ?? '-')
  }
  for (const [id, proposal] of Object.entries(v.proposals).slice(-1)) {
    row(`proposal "${proposal.title}"`, (view) => at(view).proposals[id]?.resolved.status ?? 'missing')
  }
  for (const [id, budget] of Object.entries(v.budgets).slice(-1)) {
    row(`budget "${budget.title}"`, (view) => at(view).budgets[id]?.resolved.phase ?? '-')
    row(`  allocated of ${money(budget.total)}`, (view) => money(at(view).budgets[id]?.resolved.allocations.allocated))
    row('  ballots counted', (view) => String(at(view).budgets[id]?.resolved.ballots.length ?? 0))
  }
  const text = Object.values(v.proposals).slice(-1)[0]?.body
  if (text !== undefined) say(`\nProposal text merged from both districts' concurrent edits:\n  "${text}"`)
  say('\nConflicts and rejected acts (the same on every district):')
  const seen = new Set<string>()
  const named = (text: string): string => text.replace(/did:key:z[1-9A-HJ-NP-Za-km-z]+/g, (did) => names.get(did) ?? did).replace(/\b[0-9a-f]{64}\b/g, (hash) => `${hash.slice(0, 8)}…`)
  for (const finding of first.findings) {
    const line = `  ${finding.kind.padEnd(9)} ${named(finding.detail)}`
    if (seen.has(line)) continue
    seen.add(line)
    say(line)
  }
}

async function main(): Promise<number> {
  const progress = createProgress(process.stdout, verbose)
  say('cabildo demo: three districts, one civic space, no coordinating server\n')
  const outcome = await runScenario(flags.data, progress)
  progress.step('Each district resolves its own replica')
  const views: DistrictView[] = []
  for (const { name, space } of outcome.districts) {
    views.push(await districtView(name, space))
    progress.count('districts', views.length)
  }
  progress.done()
  const converged = views.every((view) => view.viewHash === views[0]?.viewHash)
  if (flags.json) {
    console.log(JSON.stringify({ converged, districts: views.map(({ name, viewHash, conflicts, rejected }) => ({ name, viewHash, conflicts, rejected })) }))
  } else {
    printSideBySide(views, outcome.names)
    if (verbose) {
      const refused = Object.entries(outcome.refusedByRelay).map(([code, n]) => `${code} ×${n}`)
      say(`\nEnvelopes the relay refused before any replica applied them: ${refused.length > 0 ? refused.join(', ') : 'none'}`)
      if (outcome.earlier > 0) say(`(${outcome.earlier} records were there from earlier runs in ${flags.data}.)`)
      say('')
    }
    for (const view of views) console.log(`${view.name.padEnd(6)} view hash ${view.viewHash}  conflicts ${view.conflicts}  rejected ${view.rejected}`)
    console.log(converged ? 'converged: yes' : 'converged: NO')
  }
  await outcome.close()
  return converged ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error)
    process.exit(2)
  },
)
