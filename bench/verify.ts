/**
 * Sign and verify throughput of signed records, per Ed25519 backend.
 *
 *   npx tsx bench/verify.ts            # default sizes
 *   npx tsx bench/verify.ts 5000 500   # records for webcrypto, records for noble
 *
 * "single" awaits one record at a time; "batch" hands the whole set over at once
 * (`Promise.all` of signRecord, `Verifier.verifyMany`); "cached" verifies the same set again
 * with the same verifier (best of three passes). Each verify pass except "cached" uses a fresh verifier, so no outcome
 * is cached; in the first passes author keys (50 authors) are decoded once per verifier, as when
 * a replica re-reads a document. "new keys" verifies records that each come from a different key
 * (a participatory budget's ballots: one key per voter), with a fresh verifier, so every record
 * pays for decoding and importing its author's key; "single" and "batch" as above.
 *
 * A second table gives the CPU time per record (all threads of the process, so WebCrypto's
 * worker threads count): unlike records per second, it barely moves when other processes
 * share the machine.
 */
import { createVerifier, signRecord, type SignedRecord } from '../src/identity/signed-record'
import { keyPairFromSeed, type KeyPair } from '../src/identity/keys'
import type { Ed25519BackendName } from '../src/identity/ed25519-backend'

const AUTHORS = 50

function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en-US')}/s`
}

/** CPU microseconds (user + system, every thread) spent by each timed step, by label. */
const cpu = new Map<string, number>()

async function time<T>(fn: () => Promise<T>, label?: string): Promise<[T, number]> {
  const startCpu = process.cpuUsage()
  const start = performance.now()
  const value = await fn()
  const ms = performance.now() - start
  const used = process.cpuUsage(startCpu)
  if (label !== undefined) cpu.set(label, used.user + used.system)
  return [value, ms]
}

function body(i: number) {
  return {
    type: 'ticket.transition',
    doc: 'tickets/2026-03',
    clock: i + 1,
    payload: { ticket: `t-${i % 977}`, to: i % 2 ? 'closed' : 'acknowledged', note: `Update number ${i}`, tags: ['bench'] },
    at: '2026-03-04T10:00:00Z',
  }
}

/** A distinct, reproducible 32-byte seed per index. */
function seed(i: number, salt: number): Uint8Array {
  const bytes = new Uint8Array(32).fill(salt)
  new DataView(bytes.buffer).setUint32(0, i + 1)
  return bytes
}

async function verifyAll(backend: Ed25519BackendName, records: readonly SignedRecord[], batch: boolean, label: string): Promise<number> {
  const verifier = createVerifier({ backend })
  const [, ms] = await time(async () => {
    const results = batch ? await verifier.verifyMany(records) : []
    if (!batch) for (const r of records) results.push(await verifier.verify(r))
    if (results.some((r) => !r.ok)) throw new Error('verification failed')
  }, label)
  return ms
}

const VERIFY_COLUMNS = ['verify single', 'verify batch', 'verify cached', 'new keys single', 'new keys batch'] as const

async function run(backend: Ed25519BackendName, count: number): Promise<[Record<string, string>, Record<string, string>]> {
  cpu.clear()
  const keys: KeyPair[] = []
  for (let a = 0; a < AUTHORS; a++) keys.push(await keyPairFromSeed(new Uint8Array(32).fill(a + 1), { backend }))
  const key = (i: number): KeyPair => keys[i % AUTHORS] as KeyPair

  const [, signSingleMs] = await time(async () => {
    for (let i = 0; i < count; i++) await signRecord(key(i), body(i))
  })
  const [records, signBatchMs] = await time(() => Promise.all(Array.from({ length: count }, (_, i) => signRecord(key(i), body(i)))))

  const verifySingleMs = await verifyAll(backend, records, false, 'verify single')
  const verifier = createVerifier({ backend })
  const [results, verifyBatchMs] = await time(() => verifier.verifyMany(records), 'verify batch')
  if (results.some((r) => !r.ok)) throw new Error('verification failed')
  // Best of three passes: one pass is short enough for JIT warm-up and GC to dominate it.
  let cachedMs = Infinity
  let cachedCpu = Infinity
  for (let pass = 0; pass < 3; pass++) {
    cachedMs = Math.min(cachedMs, (await time(() => verifier.verifyMany(records), 'verify cached'))[1])
    cachedCpu = Math.min(cachedCpu, cpu.get('verify cached') as number)
  }
  cpu.set('verify cached', cachedCpu)

  // One key per record: made and signed outside the timed part.
  const voters = await Promise.all(Array.from({ length: count }, (_, i) => keyPairFromSeed(seed(i, 0xa5), { backend })))
  const ballots = await Promise.all(voters.map((voter, i) => signRecord(voter, body(i))))
  const newSingleMs = await verifyAll(backend, ballots, false, 'new keys single')
  const ballots2 = await Promise.all(
    Array.from({ length: count }, async (_, i) => signRecord(await keyPairFromSeed(seed(i, 0x5a), { backend }), body(i))),
  )
  const newBatchMs = await verifyAll(backend, ballots2, true, 'new keys batch')

  const cpuRow: Record<string, string> = { backend, records: String(count) }
  for (const column of VERIFY_COLUMNS) cpuRow[column] = `${((cpu.get(column) as number) / count).toFixed(1)} µs`
  const rateRow = {
    backend,
    records: String(count),
    'sign single': rate(count, signSingleMs),
    'sign batch': rate(count, signBatchMs),
    'verify single': rate(count, verifySingleMs),
    'verify batch': rate(count, verifyBatchMs),
    'verify cached': rate(count, cachedMs),
    'new keys single': rate(count, newSingleMs),
    'new keys batch': rate(count, newBatchMs),
  }
  return [rateRow, cpuRow]
}

const webCount = Number(process.argv[2] ?? 5000)
const nobleCount = Number(process.argv[3] ?? 500)
const rows = [await run('webcrypto', webCount), await run('noble', nobleCount)]
console.log(`Node ${process.version}, ${process.platform}/${process.arch}`)
console.log('Records per second (wall clock):')
console.table(rows.map(([rates]) => rates))
console.log('CPU time per record (all threads):')
console.table(rows.map(([, cpuRow]) => cpuRow))
