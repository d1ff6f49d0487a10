/**
 * Sign and verify throughput of signed records, per Ed25519 backend.
 *
 *   npx tsx bench/verify.ts            # default sizes
 *   npx tsx bench/verify.ts 5000 500   # records for webcrypto, records for noble
 *
 * "single" awaits one record at a time; "batch" hands the whole set over at once
 * (`Promise.all` of signRecord, `Verifier.verifyMany`); "cached" verifies the same set again
 * with the same verifier. Each verify pass except "cached" uses a fresh verifier, so no outcome
 * is cached; author keys (50 authors) are decoded once per verifier, as in real use.
 */
import { createVerifier, signRecord, type SignedRecord } from '../src/identity/signed-record'
import { keyPairFromSeed, type KeyPair } from '../src/identity/keys'
import type { Ed25519BackendName } from '../src/identity/ed25519-backend'

const AUTHORS = 50

function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en-US')}/s`
}

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now()
  const value = await fn()
  return [value, performance.now() - start]
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

async function run(backend: Ed25519BackendName, count: number): Promise<Record<string, string>> {
  const keys: KeyPair[] = []
  for (let a = 0; a < AUTHORS; a++) keys.push(await keyPairFromSeed(new Uint8Array(32).fill(a + 1), { backend }))
  const key = (i: number): KeyPair => keys[i % AUTHORS] as KeyPair

  const [, signSingleMs] = await time(async () => {
    for (let i = 0; i < count; i++) await signRecord(key(i), body(i))
  })
  const [records, signBatchMs] = await time(() => Promise.all(Array.from({ length: count }, (_, i) => signRecord(key(i), body(i)))))

  const [, verifySingleMs] = await time(async () => {
    const verifier = createVerifier({ backend })
    for (const r of records) if (!(await verifier.verify(r)).ok) throw new Error('verification failed')
  })
  const verifier = createVerifier({ backend })
  const [results, verifyBatchMs] = await time(() => verifier.verifyMany(records as SignedRecord[]))
  if (results.some((r) => !r.ok)) throw new Error('verification failed')
  const [, cachedMs] = await time(() => verifier.verifyMany(records as SignedRecord[]))

  return {
    backend,
    records: String(count),
    'sign single': rate(count, signSingleMs),
    'sign batch': rate(count, signBatchMs),
    'verify single': rate(count, verifySingleMs),
    'verify batch': rate(count, verifyBatchMs),
    'verify cached': rate(count, cachedMs),
  }
}

const webCount = Number(process.argv[2] ?? 5000)
const nobleCount = Number(process.argv[3] ?? 500)
const rows = [await run('webcrypto', webCount), await run('noble', nobleCount)]
console.log(`Node ${process.version}, ${process.platform}/${process.arch}`)
console.table(rows)
