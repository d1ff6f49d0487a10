/**
 * The comparison benchmark: the same civic workloads on cabildo, raw Yjs, Automerge, Loro and
 * plain JSON, each system × workload in its own process, with ratios to raw Yjs in the same run.
 *
 *   npm run bench -- --quick      10,000 tickets, 10,000 ballots (under 2 minutes)
 *   npm run bench                 10,000 and 100,000 tickets, 100,000 ballots (under 10 minutes)
 *   npm run bench -- --large      also 1,000,000 tickets
 *
 * Options: `--systems=cabildo,yjs`, `--workloads=civic311,budget,text`, `--sizes=10000,100000`,
 * `--cap=<seconds per phase>`, `--seed=<n>`, `--out=<dir/>` (default `bench/results/`), `--no-sample`
 * (run Automerge and Loro at every size instead of scaling a sample). Writes `latest.json`,
 * `latest.md` and `ratios.svg` there; see docs/benchmarks.md. The older single-purpose
 * benchmarks run on their own: `npx tsx bench/<name>.ts`.
 * @module
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { SPLIT_ABOVE_TICKETS, type RunResult } from './harness'
import { build } from 'esbuild'
import { markdown, rate, scaleResult, svgChart, targetTable, type Skipped } from './report'
import { AUTOMERGE_PERF_STATS, DEFAULT_SEED, budgetWorkload } from './workloads'

const ALL_SYSTEMS = ['cabildo', 'yjs', 'automerge', 'loro', 'json'] as const
const ALL_WORKLOADS = ['civic311', 'budget', 'text'] as const

const argv = process.argv.slice(2)
const flag = (name: string): boolean => argv.includes(`--${name}`)
const option = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const list = (name: string, all: readonly string[]): string[] => option(name)?.split(',').filter((s) => all.includes(s)) ?? [...all]

const quick = flag('quick')
const large = flag('large')
const seed = Number(option('seed') ?? DEFAULT_SEED)
const capMs = Number(option('cap') ?? (quick ? 2 : 4)) * 1000
const sampling = !flag('no-sample')
const systems = list('systems', ALL_SYSTEMS)
const workloads = list('workloads', ALL_WORKLOADS)
const sizes = option('sizes')?.split(',').map(Number) ?? (quick ? [10_000] : large ? [10_000, 100_000, 1_000_000] : [10_000, 100_000])
const ballots = quick ? 10_000 : 100_000
const root = fileURLToPath(new URL('../..', import.meta.url))
const childSource = fileURLToPath(new URL('./child.ts', import.meta.url))
const resultsDir = option('out') ?? fileURLToPath(new URL('../results/', import.meta.url))

/**
 * Why a system does not run a size, if it does not. Automerge's JavaScript API copies the root
 * map's materialized object on every change, so a change costs O(tickets): 1,000,000 tickets take hours.
 */
function skipReason(system: string, size: number): string | undefined {
  if (system === 'automerge' && size >= 1_000_000) return 'each change copies the materialized root map (O(tickets)); hours at this size'
  return undefined
}

/**
 * The smaller size a system runs instead of `size`, its figures then scaled to `size`
 * (`scaleResult`), or `undefined` to run the size itself. Automerge and Loro are 10–60× slower
 * to write than Yjs here: Automerge's tickets run on 2,000 (each change costs O(tickets), so its
 * per-change figures are those of the smaller document) and its text on the trace's first
 * quarter; Loro's tickets and both systems' ballots beyond 10,000 on 10,000. `--no-sample` runs every size.
 */
function sampleSize(system: string, workload: RunResult['workload'], size: number): number | undefined {
  if (!sampling || (system !== 'automerge' && system !== 'loro')) return undefined
  const sample = workload === 'text' ? (system === 'automerge' ? 65_000 : size) : workload === 'civic311' && system === 'automerge' ? 2_000 : 10_000
  return sample < size ? sample : undefined
}

/**
 * The child script bundled once per run (esbuild, one chunk per system, packages left to
 * node_modules): a child then starts in a fraction of a second instead of compiling the
 * sources through tsx each time. Kept under node_modules/.cache so that packages resolve.
 */
async function bundleChild(): Promise<string> {
  const outdir = `${root}node_modules/.cache/cabildo-bench/child-${process.pid}`
  await build({ entryPoints: [childSource], bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', outdir, logLevel: 'warning' })
  process.on('exit', () => rmSync(outdir, { recursive: true, force: true }))
  return `${outdir}/child.js`
}

function runProcess(child: string, system: string, workload: RunResult['workload'], size: number, split?: { stage: 'write' | 'read'; dir: string }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=16384', child, JSON.stringify({ system, workload, size, seed, capMs, ...split })], {
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

/**
 * One system × workload: one process, or for civic311 above `SPLIT_ABOVE_TICKETS` two (the
 * writer, then the fresh replicas), their figures merged: CPU summed, catch-up time the writer's
 * encode plus the reader's apply.
 */
async function runChild(child: string, system: string, workload: RunResult['workload'], size: number): Promise<RunResult> {
  if (workload !== 'civic311' || size <= SPLIT_ABOVE_TICKETS) return runProcess(child, system, workload, size)
  const dir = mkdtempSync(join(tmpdir(), 'cabildo-bench-'))
  try {
    const written = await runProcess(child, system, workload, size, { stage: 'write', dir })
    const read = await runProcess(child, system, workload, size, { stage: 'read', dir })
    const figures = { ...written.figures, ...read.figures }
    figures['syncMs'] = (figures['syncEncodeMs'] ?? 0) + (figures['syncApplyMs'] ?? 0)
    figures['cpuS'] = (written.figures['cpuS'] ?? 0) + (read.figures['cpuS'] ?? 0)
    return { ...written, figures, notes: [...written.notes, ...read.notes] }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
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
const loadAtStart = loadavg()[0] ?? 0
const log = (text: string): void => void process.stderr.write(`${text}\n`)
const results: RunResult[] = []
const skipped: Skipped[] = []
const child = await bundleChild()

const ballotSizes = [...new Set([ballots, ...systems.flatMap((s) => sampleSize(s, 'budget', ballots) ?? [])])].sort((a, b) => a - b)
if (workloads.includes('budget')) {
  for (const count of ballotSizes) {
    const t = performance.now()
    await budgetWorkload(seed, count)
    log(`[budget] ${count.toLocaleString('en-US')} signed ballots ready (${((performance.now() - t) / 1000).toFixed(1)} s, cached in the temporary folder)`)
  }
}
const jobs: Array<[RunResult['workload'], number]> = [
  ...(workloads.includes('civic311') ? sizes.map((n) => ['civic311', n] as [RunResult['workload'], number]) : []),
  ...(workloads.includes('budget') ? [['budget', ballots] as [RunResult['workload'], number]] : []),
  ...(workloads.includes('text') ? [['text', AUTOMERGE_PERF_STATS.ops] as [RunResult['workload'], number]] : []),
]
/** Results of samples run for a larger size, by `system workload size`, so that one sample serves every size. */
const samples = new Map<string, RunResult>()
for (const [workload, size] of jobs) {
  for (const system of systems) {
    const reason = workload === 'civic311' ? skipReason(system, size) : undefined
    if (reason) {
      skipped.push({ system, workload, size, reason })
      log(`[${workload} ${size}] ${system}: skipped (${reason})`)
      continue
    }
    const sample = sampleSize(system, workload, size)
    const runSize = sample ?? size
    const key = `${system} ${workload} ${runSize}`
    const t = performance.now()
    try {
      const done = results.find((r) => r.system === system && r.workload === workload && r.size === runSize) ?? samples.get(key)
      const result = done ?? (await runChild(child, system, workload, runSize))
      if (!done) log(`[${workload} ${result.size}] ${system}: ${((performance.now() - t) / 1000).toFixed(1)} s (${(result.figures['cpuS'] ?? 0).toFixed(1)} s CPU)`)
      if (sample === undefined) results.push(result)
      else {
        samples.set(key, result)
        results.push(scaleResult(result, size))
        log(`[${workload} ${size}] ${system}: scaled from ${runSize.toLocaleString('en-US')}`)
      }
    } catch (error) {
      skipped.push({ system, workload, size, reason: `failed: ${String(error).split('\n')[0]}` })
      log(`[${workload} ${size}] ${system}: FAILED after ${((performance.now() - t) / 1000).toFixed(1)} s\n${String(error)}`)
    }
  }
}

const rated = rate(results)
const durationS = (performance.now() - started) / 1000
const cpuS = [...results.filter((r) => !r.sampledFrom), ...samples.values()].reduce((sum, r) => sum + (r.figures['cpuS'] ?? 0), 0)
const info = machine()
const args = argv.join(' ') || '(none)'
const title = `cabildo vs raw Yjs, Automerge, Loro, JSON — ${quick ? 'quick' : large ? 'large' : 'default'} run, ${new Date().toISOString().slice(0, 10)}`
const report = [
  `## ${title}`,
  '',
  `Machine: ${info['cpu']}, ${info['memoryGiB']} GiB; Node ${info['node']}; yjs ${info['yjs']}, @automerge/automerge ${info['automerge']}, loro-crdt ${info['loro']}. Seed ${seed}, cap ${capMs / 1000} s per phase, arguments: ${args}. Comparison took ${durationS.toFixed(0)} s (${cpuS.toFixed(0)} s of CPU in the measuring processes; load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]?.toFixed(1)} at the end).`,
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

