/**
 * One system × workload, in this process: `node --expose-gc --import tsx bench/compare/child.ts '<json>'`
 * with `{ system, workload, size, seed, capMs }` (for the text workload, `size` is the number of edits),
 * and for a civic311 size run in two processes `stage` (`write`, then `read`) and `dir`, the
 * folder the two halves share. Prints one line `RESULT <json>` at the end.
 * @module
 */
import type { System } from './system'
import { runBudget, runText, runTicketReader, runTicketWriter, runTickets, type RunResult } from './harness'

interface ChildArgs {
  readonly system: string
  readonly workload: RunResult['workload']
  readonly size: number
  readonly seed: number
  readonly capMs: number
  readonly stage?: 'write' | 'read'
  readonly dir?: string
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs
const { system } = (await import(`./systems/${args.system}.ts`)) as { system: System }
const result =
  args.workload === 'civic311'
    ? args.stage === 'write' && args.dir
      ? await runTicketWriter(system, args.size, args.seed, args.capMs, args.dir)
      : args.stage === 'read' && args.dir
        ? await runTicketReader(system, args.size, args.seed, args.dir)
        : await runTickets(system, args.size, args.seed, args.capMs)
    : args.workload === 'budget'
      ? await runBudget(system, args.size, args.seed)
      : await runText(system, args.seed, args.capMs, args.size)
// CPU seconds of the whole process (every thread): steadier than wall time on a shared machine.
const cpu = process.cpuUsage()
result.figures['cpuS'] = (cpu.user + cpu.system) / 1e6
console.log(`RESULT ${JSON.stringify(result)}`)
// WASM-backed systems and Yjs observers may keep handles; the result is out, so stop here.
process.exit(0)
