/**
 * The relay under a bounded load, as a separate process: `cabildo relay --data DIR --idle-close`
 * (a bundle of src/cli.ts, run with `--expose-gc`), 40 client Spaces in this process across 4
 * rooms, editing for 3 s at 2 edits per second each. Throughput and latency are printed, not
 * asserted; what is asserted is that nothing is lost or refused and that the relay's memory
 * returns near its baseline once every client left and the idle Spaces closed.
 * `npm run soak` runs the bigger version (bench/soak.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleCli, percentile, runLoad, settledHeap, sleep, startRelayProcess, type RelayProcess } from '../helpers/relay-load'

const ROOMS = 4
const SEED = 20_261_125
/** Heap the relay may keep above its baseline once everyone left: module caches and V8's own slack, far below what 4 open rooms hold. */
const HEAP_MARGIN = 25 * 1024 * 1024

let root: string
let relay: RelayProcess | undefined
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cabildo-relay-load-'))
  await bundleCli(join(root, 'cli.mjs'))
}, 60_000)
afterAll(async () => {
  await relay?.stop()
  await rm(root, { recursive: true, force: true })
})

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`

/** Waits until every Space of the relay closed as idle. */
async function idle(process: RelayProcess, closedBefore: number): Promise<void> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const metrics = await process.metrics()
    if (metrics.spaces === 0 && metrics.connections === 0 && metrics.spacesClosedIdle >= closedBefore + ROOMS) return
    if (Date.now() > deadline) throw new Error(`the relay's Spaces did not close: ${JSON.stringify(metrics)}`)
    await sleep(100)
  }
}

describe('relay load (child process)', () => {
  it('40 clients in 4 rooms editing for 3 s: every room converges with no lost update, nothing is refused, and the relay heap returns near its baseline once they left', async () => {
    relay = await startRelayProcess(join(root, 'cli.mjs'), join(root, 'data'), 0.5)
    const url = relay.url
    // Warm-up: load the code paths once, so the baseline is the relay's steady idle state.
    const warmUp = await runLoad({ url, clients: ROOMS * 2, rooms: ROOMS, seconds: 1, rate: 2, seed: SEED, convergeTimeoutMs: 20_000 })
    expect(warmUp).toMatchObject({ converged: true, lost: 0 })
    await idle(relay, 0)
    const baseline = await settledHeap(relay)

    let peak = 0
    const sampler = setInterval(() => {
      void relay?.metrics().then((metrics) => (peak = Math.max(peak, metrics.memory.heapUsed)), () => undefined)
    }, 500)
    const result = await runLoad({ url, clients: 40, rooms: ROOMS, seconds: 3, rate: 2, seed: SEED, convergeTimeoutMs: 30_000 })
    clearInterval(sampler)
    const during = await relay.metrics()
    await idle(relay, ROOMS)
    const after = await settledHeap(relay)

    console.log(
      [
        `relay load: ${result.clients} clients / ${result.rooms} rooms, ${result.edits} edits in ${(result.editMs / 1000).toFixed(1)} s`,
        `delivered ${Math.round((result.deliveredDuringEdits / result.editMs) * 1000)}/s during edits (${result.deliveredTotal} until converged, ${Math.round(result.drainMs)} ms after the last edit)`,
        `latency p50 ${percentile(result.latencies, 50).toFixed(0)} ms, p99 ${percentile(result.latencies, 99).toFixed(0)} ms (${result.latencies.length} observations)`,
        `relay heap baseline ${mb(baseline)}, peak ${mb(peak)}, after ${mb(after)}; rss after ${mb((await relay.metrics()).memory.rss)}`,
      ].join('\n'),
    )
    expect({ converged: result.converged, lost: result.lost }).toEqual({ converged: true, lost: 0 })
    expect(result.edits).toBeGreaterThan(0)
    expect({ rejected: during.rejected, refusedFrames: during.refusedFrames, refusedUpgrades: during.refusedUpgrades, storageFailures: during.storageFailures }).toEqual({
      rejected: {},
      refusedFrames: {},
      refusedUpgrades: {},
      storageFailures: {},
    })
    expect(after).toBeLessThan(baseline + HEAP_MARGIN)
  }, 90_000)
})
