/**
 * One client process of `npm run soak` (bench/soak.ts): runs `runLoad` for its share of the rooms
 * against the relay, prints `progress <json>` lines while it runs and `result <json>` at the end (with `cpuMs`,
 * the CPU time the process used).
 *
 *   node --import tsx bench/soak-clients.ts '<json of LoadOptions without onProgress>'
 */
import { runLoad, type LoadOptions } from '../test/helpers/relay-load'

const options = JSON.parse(process.argv[2] ?? '{}') as Omit<LoadOptions, 'onProgress'>
const result = await runLoad({ ...options, onProgress: (progress) => void process.stdout.write(`progress ${JSON.stringify(progress)}\n`) })
const cpu = process.cpuUsage()
process.stdout.write(`result ${JSON.stringify({ ...result, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`)
