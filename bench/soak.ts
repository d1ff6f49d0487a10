/**
 * `npm run soak`: the relay under a long load, in its own process.
 *
 *   npm run soak -- [--clients 200] [--rooms 20] [--seconds 60] [--rate 0.5] [--workers 2] [--idle-close 5] [--heap-margin 25]
 *
 * - the relay: `cabildo relay --port 0 --data <tmp> --idle-close <s>` (src/cli.ts bundled with
 *   esbuild), run with `--expose-gc`; its memory is read from `/metrics` (`?gc=1` after a full
 *   garbage collection);
 * - the clients: `--workers` child processes (bench/soak-clients.ts), each with a share of the
 *   rooms (whole rooms, so convergence and latency are measured inside one process); every client
 *   has its own identity, creates a ticket, then updates it `--rate` times a second for
 *   `--seconds` (see test/helpers/relay-load.ts for the measures);
 * - memory: a warm-up round (2 clients per room, 2 s) and the close of its idle Spaces come
 *   first; the relay's heap after a GC then is the baseline. The peak is the highest heap and RSS
 *   sampled every second while the clients run (no GC). After every client left and every Space
 *   closed as idle, the heap after a GC must be within `--heap-margin` MB of the baseline.
 *
 * Exits 1 on a lost update, a room that did not converge, a refused frame, upgrade or envelope,
 * or a heap that did not come back.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleCli, percentile, runLoad, settledHeap, sleep, startRelayProcess, type LoadOptions, type LoadProgress, type LoadResult, type RelayProcess } from '../test/helpers/relay-load'

function argument(name: string, fallback: string): number {
  const i = process.argv.indexOf(`--${name}`)
  const value = Number(i >= 0 ? process.argv[i + 1] : fallback)
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number, 0 or more`)
  return value
}

const CLIENTS = argument('clients', '200')
const ROOMS = argument('rooms', '20')
const SECONDS = argument('seconds', '60')
const RATE = argument('rate', '0.5')
const WORKERS = Math.max(1, Math.min(argument('workers', '2'), ROOMS))
const IDLE_CLOSE = argument('idle-close', '5')
const HEAP_MARGIN_MB = argument('heap-margin', '25')
const SEED = 20_261_125
const CONVERGE_TIMEOUT_MS = 300_000

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const load = (): string => loadavg().map((n) => n.toFixed(2)).join(', ')
const started = performance.now()
const log = (line: string): void => console.log(`[${fmt((performance.now() - started) / 1000, 0).padStart(4)} s] ${line}`)

/** A client process's result: the load run's, and the CPU time the process used. */
type WorkerResult = LoadResult & { readonly cpuMs: number }

/** CPU milliseconds a process used so far (Linux: /proc/<pid>/stat, in clock ticks of 10 ms); NaN elsewhere. */
async function cpuMsOf(pid: number | undefined): Promise<number> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return Number.NaN
  }
}

/** Runs one client process for rooms `firstRoom ..` and resolves with its result. */
function worker(options: Omit<LoadOptions, 'onProgress'>, index: number, onProgress: (index: number, progress: LoadProgress) => void): Promise<WorkerResult> {
  const script = fileURLToPath(new URL('./soak-clients.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let buffered = ''
  let result: WorkerResult | undefined
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    let at: number
    while ((at = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, at)
      buffered = buffered.slice(at + 1)
      if (line.startsWith('progress ')) onProgress(index, JSON.parse(line.slice('progress '.length)) as LoadProgress)
      else if (line.startsWith('result ')) result = JSON.parse(line.slice('result '.length)) as WorkerResult
    }
  })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (result === undefined ? reject(new Error(`client process ${index} exited (${code}) without a result`)) : resolve(result)))
  })
}

/** Waits until the relay has no connection and no open Space, having closed `closed` Spaces as idle in all. */
async function idle(relay: RelayProcess, closed: number): Promise<void> {
  const deadline = Date.now() + 120_000
  for (;;) {
    const metrics = await relay.metrics()
    if (metrics.connections === 0 && metrics.spaces === 0 && metrics.spacesClosedIdle >= closed) return
    if (Date.now() > deadline) throw new Error(`the relay's Spaces did not close: ${JSON.stringify(metrics)}`)
    await sleep(250)
  }
}

const root = await mkdtemp(join(tmpdir(), 'cabildo-soak-'))
let relay: RelayProcess | undefined
let failed = false
try {
  const cpu = cpus()
  console.log(`cabildo soak: ${CLIENTS} clients, ${ROOMS} rooms, ${SECONDS} s at ${RATE} edits/s per client, ${WORKERS} client process(es); relay in its own process (--idle-close ${IDLE_CLOSE})`)
  console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}; load average ${load()}\n`)
  await bundleCli(join(root, 'cli.mjs'))
  relay = await startRelayProcess(join(root, 'cli.mjs'), join(root, 'data'), IDLE_CLOSE)
  const { url } = relay
  log(`relay ${url}, warming up`)
  const warmUp = await runLoad({ url, clients: ROOMS * 2, rooms: ROOMS, seconds: 2, rate: 1, seed: SEED, convergeTimeoutMs: 60_000 })
  if (!warmUp.converged || warmUp.lost > 0) throw new Error('the warm-up did not converge')
  await idle(relay, ROOMS)
  const base = await relay.metrics(true)
  const baseline = await settledHeap(relay)
  log(`baseline: relay heap ${mb(baseline)}, rss ${mb(base.memory.rss)}`)

  const relayCpuBefore = await cpuMsOf(relay.child.pid)
  const runStart = performance.now()
  let peakHeap = 0
  let peakRss = 0
  let peakConnections = 0
  const sampler = setInterval(() => {
    void relay?.metrics().then((metrics) => {
      peakHeap = Math.max(peakHeap, metrics.memory.heapUsed)
      peakRss = Math.max(peakRss, metrics.memory.rss)
      peakConnections = Math.max(peakConnections, metrics.connections)
    }, () => undefined)
  }, 1_000)
  const progress = new Map<number, LoadProgress>()
  const report = setInterval(() => {
    if (progress.size === 0) return log('connecting clients')
    const all = [...progress.values()]
    const phase = all.some((p) => p.phase === 'edit') ? 'editing' : 'converging'
    const edits = all.reduce((sum, p) => sum + p.edits, 0)
    const delivered = all.reduce((sum, p) => sum + p.delivered, 0)
    log(`${phase}: ${fmt(edits)} edits, ${fmt(delivered)} updates delivered; relay heap peak ${mb(peakHeap)}, rss peak ${mb(peakRss)}, ${peakConnections} connections; load ${load()}`)
  }, 5_000)
  const perWorker = Array.from({ length: WORKERS }, (_, w) => ({
    rooms: Math.floor(ROOMS / WORKERS) + (w < ROOMS % WORKERS ? 1 : 0),
    clients: Math.floor(CLIENTS / WORKERS) + (w < CLIENTS % WORKERS ? 1 : 0),
  }))
  const results = await Promise.all(
    perWorker.map(({ rooms, clients }, w) => {
      const firstRoom = perWorker.slice(0, w).reduce((sum, share) => sum + share.rooms, 0)
      return worker({ url, clients, rooms, firstRoom, seconds: SECONDS, rate: RATE, seed: SEED + w, convergeTimeoutMs: CONVERGE_TIMEOUT_MS, progressEveryMs: 5_000 }, w, (index, p) => progress.set(index, p))
    }),
  )
  clearInterval(report)
  clearInterval(sampler)
  const during = await relay.metrics()
  const runMs = performance.now() - runStart
  const relayCpu = (await cpuMsOf(relay.child.pid)) - relayCpuBefore
  const clientCpu = results.reduce((sum, r) => sum + r.cpuMs, 0)
  // The Spaces are still open for --idle-close seconds: what they hold, for comparison with "after".
  const left = await relay.metrics(true)
  log('clients left; waiting for the idle Spaces to close')
  await idle(relay, ROOMS * 2)
  const after = await settledHeap(relay)
  const afterRss = (await relay.metrics(true)).memory.rss

  const edits = results.reduce((sum, r) => sum + r.edits, 0)
  const editMs = Math.max(...results.map((r) => r.editMs))
  const drainMs = Math.max(...results.map((r) => r.drainMs))
  const deliveredDuring = results.reduce((sum, r) => sum + r.deliveredDuringEdits, 0)
  const deliveredTotal = results.reduce((sum, r) => sum + r.deliveredTotal, 0)
  const receivedTotal = results.reduce((sum, r) => sum + r.receivedTotal, 0)
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b)
  const converged = results.every((r) => r.converged)
  const lost = results.reduce((sum, r) => sum + r.lost, 0)
  const refused = { rejected: during.rejected, refusedFrames: during.refusedFrames, refusedUpgrades: during.refusedUpgrades, storageFailures: during.storageFailures }
  const clean = Object.values(refused).every((counts) => Object.keys(counts).length === 0)
  const heapBack = after <= baseline + HEAP_MARGIN_MB * 1024 * 1024
  const rows: Array<[string, string]> = [
    ['clients / rooms / client processes', `${CLIENTS} / ${ROOMS} / ${WORKERS}; ${fmt(Math.max(...results.map((r) => r.connectMs)))} ms to connect, create a ticket each and converge`],
    ['edits offered', `${fmt(edits)} in ${fmt(editMs / 1000, 1)} s (${fmt((edits / editMs) * 1000)}/s; ${RATE}/s per client)`],
    ['updates delivered to clients', `${fmt((deliveredDuring / editMs) * 1000)}/s during the edits; ${fmt(deliveredTotal)} in all, ${fmt((deliveredTotal / (editMs + drainMs)) * 1000)}/s until converged (${fmt(receivedTotal)} envelopes received, copies included)`],
    ['propagation latency p50 / p99', `${fmt(percentile(latencies, 50))} ms / ${fmt(percentile(latencies, 99))} ms (${fmt(latencies.length)} observations, max ${fmt(latencies.at(-1) ?? Number.NaN)} ms)`],
    ['relay heap before / peak / after', `${mb(baseline)} / ${mb(peakHeap)} / ${mb(after)} (after: every Space closed as idle, GC; margin ${HEAP_MARGIN_MB} MB: ${heapBack ? 'back' : 'NOT BACK'})`],
    ['relay heap once the clients left, before the idle close (GC)', `${mb(left.memory.heapUsed)} with ${left.spaces} Spaces open`],
    ['relay RSS before / peak / after', `${mb(base.memory.rss)} / ${mb(peakRss)} / ${mb(afterRss)}`],
    ['converged, lost updates', `${converged ? 'yes' : 'NO'}, ${fmt(drainMs)} ms after the last edit; ${lost} lost`],
    ['refused / rejected / storage failures', clean ? 'none' : JSON.stringify(refused)],
    ['relay Spaces closed as idle', `${(await relay.metrics()).spacesClosedIdle} (warm-up and run)`],
    ['CPU used from connect to converged', `relay ${fmt(relayCpu / 1000, 1)} s, client processes ${fmt(clientCpu / 1000, 1)} s, in ${fmt(runMs / 1000, 1)} s of wall time`],
    ['load average after', load()],
  ]
  console.log('\n| measure | figure |\n| --- | --- |')
  for (const [what, figure] of rows) console.log(`| ${what} | ${figure} |`)
  failed = !converged || lost > 0 || !clean || !heapBack
  if (failed) console.log('\nFAILED: a lost update, a room that did not converge, something refused, or a heap that did not come back')
} catch (error) {
  failed = true
  console.error(error)
  if (relay !== undefined) console.error(relay.stderr())
} finally {
  await relay?.stop()
  await rm(root, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)
