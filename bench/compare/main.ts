/**
 * The comparison benchmark: the same civic workloads on cabildo, raw Yjs, Automerge, Loro and
 * plain JSON, each system × workload in its own process, with ratios to raw Yjs in the same run.
 *
 *   npm run bench -- --quick      10,000 tickets, 10,000 ballots; the comparison only (under 2 minutes)
 *   npm run bench                 10,000 and 100,000 tickets, 100,000 ballots; then the other benchmarks
 *   npm run bench -- --large      also 1,000,000 tickets (and Automerge at 100,000)
 *
 * Options: `--systems=cabildo,yjs`, `--workloads=civic311,budget,text`, `--sizes=10000,100000`,
 * `--cap=<seconds per phase>`, `--seed=<n>`, `--out=<dir/>` (default `bench/results/`), `--compare-only`
 * (skip the other benchmarks). Writes `latest.json`, `latest.md` and `ratios.svg` there; see docs/benchmarks.md.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import type { RunResult } from './harness'
import { markdown, rate, svgChart, targetTable, type Skipped } from './report'
import { DEFAULT_SEED, budgetWorkload } from './workloads'

const ALL_SYSTEMS = ['cabildo', 'yjs', 'automerge', 'loro', 'json'] as const
const ALL_WORKLOADS = ['civic311', 'budget', 'text'] as const
/** The benchmarks that existed before this comparison; `npm run bench` runs them after it. */
const OTHER_BENCHES = ['verify', 'policy', 'budgeting', 'storage', 'sync']

const argv = process.argv.slice(2)
const flag = (name: string): boolean => argv.includes(`--${name}`)
const option = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const list = (name: string, all: readonly string[]): string[] => option(name)?.split(',').filter((s) => all.includes(s)) ?? [...all]

const quick = flag('quick')
const large = flag('large')
const seed = Number(option('seed') ?? DEFAULT_SEED)
const capMs = Number(option('cap') ?? (quick ? 3 : 12)) * 1000
const systems = list('systems', ALL_SYSTEMS)
const workloads = list('workloads', ALL_WORKLOADS)
const sizes = option('sizes')?.split(',').map(Number) ?? (quick ? [10_000] : large ? [10_000, 100_000, 1_000_000] : [10_000, 100_000])
const ballots = quick ? 10_000 : 100_000
const root = fileURLToPath(new URL('../..', import.meta.url))
const child = fileURLToPath(new URL('./child.ts', import.meta.url))
const resultsDir = option('out') ?? fileURLToPath(new URL('../results/', import.meta.url))

/**
 * Why a system does not run a size, if it does not. Automerge's JavaScript API copies the root
 * map's materialized object on every change, so a change costs O(tickets): 100,000 tickets take
 * tens of minutes one change each and minutes in bulk, beyond the budget of a default run.
 */
function skipReason(system: string, size: number): string | undefined {
  if (system === 'automerge' && size >= 1_000_000) return 'each change copies the materialized root map (O(tickets)); hours at this size'
  if (system === 'automerge' && size > 10_000 && !large) return 'each change copies the materialized root map (O(tickets)); runs with --large'
  return undefined
}

function runChild(system: string, workload: RunResult['workload'], size: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=16384', '--import', 'tsx', child, JSON.stringify({ system, workload, size, seed, capMs })], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    proc.on('error', reject)
    proc.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '))
      if (code === 0 && line) resolve(JSON.parse(line.slice('RESULT '.length)) as RunResult)
      else reject(new Error(`${system} ${workload} ${size}: exit ${code}\n${out.slice(-2000)}`))
    })
  })
}

function machine(): Record<string, string | number> {
  const cpu = cpus()
  const version = (pkg: string): string => (JSON.parse(readFileSync(`${root}/node_modules/${pkg}/package.json`, 'utf8')) as { version: string }).version
  return {
    cpu: `${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    yjs: version('yjs'),
    automerge: version('@automerge/automerge'),
    loro: version('loro-crdt'),
  }
}

const started = performance.now()
const log = (text: string): void => void process.stderr.write(`${text}\n`)
const results: RunResult[] = []
const skipped: Skipped[] = []

if (workloads.includes('budget')) {
  const t = performance.now()
  await budgetWorkload(seed, ballots)
  log(`[budget] ${ballots.toLocaleString('en-US')} signed ballots ready (${((performance.now() - t) / 1000).toFixed(1)} s, cached in the temporary folder)`)
}
const jobs: Array<[RunResult['workload'], number]> = [
  ...(workloads.includes('civic311') ? sizes.map((n) => ['civic311', n] as [RunResult['workload'], number]) : []),
  ...(workloads.includes('budget') ? [['budget', ballots] as [RunResult['workload'], number]] : []),
  ...(workloads.includes('text') ? [['text', 0] as [RunResult['workload'], number]] : []),
]
for (const [workload, size] of jobs) {
  for (const system of systems) {
    const reason = workload === 'civic311' ? skipReason(system, size) : undefined
    if (reason) {
      skipped.push({ system, workload, size, reason })
      log(`[${workload} ${size}] ${system}: skipped (${reason})`)
      continue
    }
    const t = performance.now()
    try {
      const result = await runChild(system, workload, size)
      results.push(result)
      log(`[${workload} ${result.size}] ${system}: ${((performance.now() - t) / 1000).toFixed(1)} s (${(result.figures['cpuS'] ?? 0).toFixed(1)} s CPU)`)
    } catch (error) {
      skipped.push({ system, workload, size, reason: `failed: ${String(error).split('\n')[0]}` })
      log(`[${workload} ${size}] ${system}: FAILED after ${((performance.now() - t) / 1000).toFixed(1)} s\n${String(error)}`)
    }
  }
}

const rated = rate(results)
const durationS = (performance.now() - started) / 1000
const cpuS = results.reduce((sum, r) => sum + (r.figures['cpuS'] ?? 0), 0)
const info = machine()
const args = argv.join(' ') || '(none)'
const title = `cabildo vs raw Yjs, Automerge, Loro, JSON — ${quick ? 'quick' : large ? 'large' : 'default'} run, ${new Date().toISOString().slice(0, 10)}`
const report = [
  `## ${title}`,
  '',
  `Machine: ${info['cpu']}, ${info['memoryGiB']} GiB; Node ${info['node']}; yjs ${info['yjs']}, @automerge/automerge ${info['automerge']}, loro-crdt ${info['loro']}. Seed ${seed}, cap ${capMs / 1000} s per phase, arguments: ${args}. Comparison took ${durationS.toFixed(0)} s (${cpuS.toFixed(0)} s of CPU in the measuring processes; load average ${loadavg()[0]?.toFixed(1)} at the end).`,
  '',
  'Each cell: the raw figure, and in brackets its ratio to raw Yjs in the same run (lower is cheaper).',
  '',
  markdown(rated, skipped, systems),
  '### cabildo against its targets',
  '',
  targetTable(rated),
  '',
].join('\n')
console.log(report)
mkdirSync(resultsDir, { recursive: true })
writeFileSync(`${resultsDir}latest.json`, `${JSON.stringify({ title, machine: info, seed, capMs, args, durationS, cpuS, results: rated, skipped }, null, 2)}\n`)
writeFileSync(`${resultsDir}latest.md`, report)
writeFileSync(`${resultsDir}ratios.svg`, `${svgChart(rated, systems, title)}\n`)
log(`wrote ${resultsDir}latest.json, latest.md and ratios.svg (${durationS.toFixed(0)} s)`)

if (!quick && !flag('compare-only')) {
  for (const name of OTHER_BENCHES) {
    console.log(`\n## bench/${name}.ts\n`)
    const t = performance.now()
    const run = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`../${name}.ts`, import.meta.url))], { cwd: root, stdio: 'inherit' })
    log(`bench/${name}.ts: ${run.status === 0 ? 'done' : `exit ${run.status}`} in ${((performance.now() - t) / 1000).toFixed(0)} s`)
  }
  log(`npm run bench: ${((performance.now() - started) / 1000).toFixed(0)} s in all`)
}
