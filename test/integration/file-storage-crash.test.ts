/**
 * Crash test with real processes: a child writes edits through the file store and is killed with
 * SIGKILL at seeded random points (after some acknowledgements, at a random time, or during a
 * compaction). After each kill the store must open without error and hold every acknowledged
 * edit. `CABILDO_CRASH_KILLS=1000` runs a longer campaign (default 200);
 * `CABILDO_CRASH_SEED=<n>` reruns one.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import * as prng from 'lib0/prng'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createFileStorage } from '../../src/node/file-storage'
import type { StorageWarning } from '../../src/storage/storage'

const KILLS = Number(process.env.CABILDO_CRASH_KILLS ?? 200)
const SEED = Number(process.env.CABILDO_CRASH_SEED ?? 1125)
/** Independent lanes (directories) run side by side, to use both cores. */
const LANES = 2

type KillMode = 'after-acks' | 'at-random-time' | 'during-compaction'

interface ChildRun {
  readonly acked: number[]
  readonly killed: boolean
  /** Killed after `compact` was printed and before `compacted`. */
  readonly inCompaction: boolean
}

let root: string
let writer: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cabildo-crash-'))
  // One bundle, run with plain `node`: a child starts in a fraction of tsx's time.
  writer = join(root, 'crash-writer.mjs')
  await build({
    entryPoints: [fileURLToPath(new URL('./crash-writer.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: writer,
    logLevel: 'silent',
  })
}, 60_000)
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

/** Runs one child and kills it as `mode` says. */
function runChild(directory: string, args: string[], mode: KillMode, random: prng.PRNG): Promise<ChildRun> {
  const killAfterAcks = prng.uint32(random, 1, 40)
  const killAfterMs = prng.uint32(random, 0, 40)
  const compactionDelay = prng.uint32(random, 0, 2)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, directory, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const acked: number[] = []
    let buffer = ''
    let stderr = ''
    let killed = false
    let compacting = false
    let inCompaction = false
    const kill = (): void => {
      if (killed || child.exitCode !== null) return
      killed = true
      inCompaction = compacting
      child.kill('SIGKILL')
    }
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk
    })
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      for (const line of lines) {
        if (line.startsWith('ack ')) acked.push(Number(line.slice(4)))
        if (line === 'ready' && mode === 'at-random-time') setTimeout(kill, killAfterMs)
        if (line === 'compact') {
          compacting = true
          if (mode === 'during-compaction') {
            if (compactionDelay === 0) kill()
            else setTimeout(kill, compactionDelay - 1)
          }
        }
        if (line === 'compacted') compacting = false
        if (mode === 'after-acks' && acked.length >= killAfterAcks) kill()
      }
    })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (!killed && code !== 0) reject(new Error(`writer failed (${code ?? signal}): ${stderr}`))
      else resolve({ acked, killed: killed && signal === 'SIGKILL', inCompaction: inCompaction && signal === 'SIGKILL' })
    })
  })
}

/** Opens the store as a fresh process would after the crash: the edits it holds and its warnings. */
async function reopen(directory: string): Promise<{ edits: Map<unknown, unknown>; warnings: StorageWarning[] }> {
  const store = await createFileStorage(directory).open('doc')
  const warnings: StorageWarning[] = []
  store.on?.('warning', (w) => warnings.push(w))
  const doc = new Y.Doc()
  for (const record of await store.load()) Y.applyUpdate(doc, record)
  await store.close()
  return { edits: new Map(Object.entries(doc.getMap('edits').toJSON())), warnings }
}

interface LaneReport {
  kills: number
  inCompaction: number
  acked: number
  tornTails: number
}

async function runLane(lane: number, kills: number): Promise<LaneReport> {
  const directory = join(root, `lane-${lane}`)
  const random = prng.create(SEED * 31 + lane)
  const report: LaneReport = { kills: 0, inCompaction: 0, acked: 0, tornTails: 0 }
  const modes: KillMode[] = ['after-acks', 'at-random-time', 'during-compaction']
  let nextId = 0
  for (let run = 0; report.kills < kills; run++) {
    const mode = modes[run % modes.length] ?? 'after-acks'
    const clientId = 1 + lane * 1_000_000 + run
    const edits = 400
    const compactEvery = prng.uint32(random, 5, 30)
    const args = [String(clientId), String(nextId), String(edits), String(compactEvery), String(prng.uint32(random, 1, 1e9))]
    nextId += edits
    const child = await runChild(directory, args, mode, random)
    const { edits: stored, warnings } = await reopen(directory)
    const rerun = `lane ${lane}, run ${run} (${mode}); rerun with CABILDO_CRASH_SEED=${SEED} CABILDO_CRASH_KILLS=${kills * LANES}`
    const missing = child.acked.filter((id) => stored.get(`e${id}`) !== id)
    expect(missing, rerun).toEqual([])
    expect(warnings.filter((w) => w.kind !== 'torn-tail'), rerun).toEqual([])
    if (child.killed) report.kills += 1
    if (child.inCompaction) report.inCompaction += 1
    report.acked += child.acked.length
    report.tornTails += warnings.length
  }
  return report
}

describe('file storage under SIGKILL', () => {
  it(`keeps every acknowledged edit across ${KILLS} kills, including kills during compaction`, async () => {
    const perLane = Math.ceil(KILLS / LANES)
    const reports = await Promise.all(Array.from({ length: LANES }, (_, lane) => runLane(lane, perLane)))
    const total = reports.reduce((a, r) => ({
      kills: a.kills + r.kills,
      inCompaction: a.inCompaction + r.inCompaction,
      acked: a.acked + r.acked,
      tornTails: a.tornTails + r.tornTails,
    }))
    console.log(`crash test: ${total.kills} kills (${total.inCompaction} during compaction), ${total.acked} acknowledged edits checked, ${total.tornTails} torn tails repaired`)
    expect(total.kills).toBeGreaterThanOrEqual(KILLS)
    expect(total.inCompaction).toBeGreaterThan(0)
  }, 600_000)
})
