/**
 * The long simulation: runs many seeded multi-district schedules (see
 * src/testing/simulator/simulation.ts), prints progress, and stops at the first schedule whose
 * final checks fail, printing the one line that replays it.
 *
 *   npm run sim -- --schedules 10000 [--seed S] [--districts N] [--byzantine B] [--steps K]
 *                  [--disk memory|file] [--crashes none|flushed|quiet|anywhere] [--attacks a,b,...] [--json] [--trace]
 *
 * Schedule i runs seed S + i (S defaults to 1). `--disk file` keeps every district in cabildo's
 * file store under a temporary directory, and a crash copies the directory as it is.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { reproduceCommand, runSimulation, type CrashMode, type ResolvedSimulationOptions } from '../src/testing/simulator/simulation'
import type { SimulatedAttack } from '../src/testing/simulator/sim-byzantine'
import { fileDisks } from '../test/sim/file-disk'

const { values } = parseArgs({
  options: {
    schedules: { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
    districts: { type: 'string', default: '3' },
    byzantine: { type: 'string', default: '1' },
    steps: { type: 'string', default: '40' },
    disk: { type: 'string', default: 'memory' },
    crashes: { type: 'string', default: 'quiet' },
    attacks: { type: 'string' },
    json: { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
  },
})

const integer = (name: string, text: string | undefined): number => {
  const value = Number(text)
  if (!Number.isSafeInteger(value)) {
    console.error(`--${name} must be an integer, got ${text}`)
    process.exit(2)
  }
  return value
}

const schedules = integer('schedules', values.schedules)
const start = integer('seed', values.seed)
const districts = integer('districts', values.districts)
const byzantine = integer('byzantine', values.byzantine)
const steps = integer('steps', values.steps)
const disk = values.disk === 'file' ? 'file' : 'memory'
const crashes = values.crashes as CrashMode
const attacks = values.attacks === undefined ? undefined : (values.attacks.split(',').filter(Boolean) as SimulatedAttack[])
const root = disk === 'file' ? mkdtempSync(join(tmpdir(), 'cabildo-sim-')) : undefined
const replay = (options: ResolvedSimulationOptions): string => `${reproduceCommand(options)}${disk === 'file' ? ' --disk file' : ''}`

const totals = {
  schedules: 0,
  operations: 0,
  refusedLocally: 0,
  crashes: 0,
  partitions: 0,
  heals: 0,
  flushes: 0,
  messages: 0,
  dropped: 0,
  duplicated: 0,
  reordered: 0,
  attacks: {} as Record<string, number>,
  refused: {} as Record<string, number>,
  rejectedRecords: {} as Record<string, number>,
  strikes: 0,
  writesChecked: 0,
  unacknowledgedKept: 0,
  unacknowledgedLost: 0,
  unsignedDocs: 0,
}
const add = (into: Record<string, number>, from: Readonly<Record<string, number>>): void => {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n
}

const began = performance.now()
let lastProgress = began
let failed = false
try {
  for (let i = 0; i < schedules; i++) {
    const seed = start + i
    const report = await runSimulation({
      seed,
      districts,
      byzantine,
      steps,
      crashes,
      ...(attacks === undefined ? {} : { attacks }),
      reproduce: replay,
      ...(values.trace === true ? { trace: (line: string) => console.log(line) } : {}),
      ...(root === undefined ? {} : { disk: fileDisks(join(root, String(seed))) }),
    })
    const { counts, figures } = report
    totals.schedules++
    totals.operations += Object.values(counts.operations).reduce((a, b) => a + b, 0)
    totals.refusedLocally += Object.values(counts.refusedLocally).reduce((a, b) => a + b, 0)
    totals.crashes += counts.crashes
    totals.partitions += counts.partitions
    totals.heals += counts.heals
    totals.flushes += counts.flushes
    totals.strikes += counts.strikes
    totals.messages += counts.network?.sent ?? 0
    totals.dropped += counts.network?.dropped ?? 0
    totals.duplicated += counts.network?.duplicated ?? 0
    totals.reordered += counts.network?.reordered ?? 0
    add(totals.attacks, counts.attacks)
    if (figures) {
      add(totals.refused, figures.refused)
      add(totals.rejectedRecords, figures.rejectedRecords)
      totals.writesChecked += figures.writesChecked
      totals.unacknowledgedKept += figures.unacknowledged.kept
      totals.unacknowledgedLost += figures.unacknowledged.lost
      totals.unsignedDocs += figures.unsignedDocs
    }
    if (!report.ok) {
      failed = true
      console.error(`\nschedule ${i + 1} (seed ${seed}) failed:`)
      for (const failure of report.failures.slice(0, 10)) console.error(`  ${failure.check}: ${failure.message}`)
      console.error(`reproduce: ${report.reproduce}`)
      break
    }
    const now = performance.now()
    if (!values.json && (now - lastProgress > 10_000 || i + 1 === schedules)) {
      lastProgress = now
      const attacks = Object.values(totals.attacks).reduce((a, b) => a + b, 0)
      console.log(`sim: ${i + 1}/${schedules} schedules ok (seeds ${start}..${seed}), ${totals.operations} operations, ${totals.crashes} crashes, ${attacks} attacks, ${((now - began) / 1000).toFixed(0)} s`)
    }
  }
} finally {
  if (root !== undefined) rmSync(root, { recursive: true, force: true })
}

const seconds = (performance.now() - began) / 1000
if (values.json) console.log(JSON.stringify({ ok: !failed, seconds, disk, crashMode: crashes, districts, byzantine, steps, ...totals }))
else {
  console.log(`${totals.schedules} schedules in ${seconds.toFixed(1)} s (${disk} disk, crashes ${crashes}, ${districts} districts, ${byzantine} Byzantine, ${steps} steps)`)
  console.log(`  operations ${totals.operations} returned, ${totals.refusedLocally} refused locally; writes checked everywhere ${totals.writesChecked}`)
  console.log(`  faults: ${totals.partitions} partitions, ${totals.heals} heals, ${totals.crashes} crashes, ${totals.flushes} flushes; ${totals.messages} messages, ${totals.dropped} dropped, ${totals.duplicated} duplicated, ${totals.reordered} reordered`)
  console.log(`  attacks: ${JSON.stringify(totals.attacks)}; strikes ${totals.strikes}`)
  console.log(`  refused envelopes: ${JSON.stringify(totals.refused)}; rejected records: ${JSON.stringify(totals.rejectedRecords)}`)
  console.log(`  unacknowledged writes after crashes: ${totals.unacknowledgedKept} kept everywhere, ${totals.unacknowledgedLost} lost everywhere; documents with content a crash left unsigned: ${totals.unsignedDocs}`)
}
process.exit(failed ? 1 : 0)
