/**
 * Storage benchmark: write and reopen a 100k-ticket shard through the file store.
 *
 * Each ticket is a Y.Map of 12 fields created in its own transaction (one Yjs update per ticket).
 * Measured: appending every update without awaiting each (appends are grouped into one write and
 * one fsync), the same bytes written by plain `fs.appendFile` calls (no fsync) as a baseline,
 * reopening (open + load) and applying the records to a Y.Doc, compaction, and reopening after it.
 *
 *   npx tsx bench/storage.ts [tickets=100000] [directory=os.tmpdir()]
 */
import { appendFile, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import * as Y from 'yjs'
import { createFileStorage } from '../src/node/file-storage'

const TICKETS = Number(process.argv[2] ?? 100_000)
const ROOT = process.argv[3] ?? tmpdir()
const MB = 1024 * 1024

const services = ['pothole', 'streetlight', 'graffiti', 'abandoned-vehicle', 'noise', 'tree-trimming']
const statuses = ['open', 'acknowledged', 'in-progress', 'closed']

/** One update per ticket: a Y.Map of 12 Open311-like fields. */
function ticketUpdates(count: number): Uint8Array[] {
  const doc = new Y.Doc()
  doc.clientID = 7
  const tickets = doc.getMap<Y.Map<unknown>>('tickets')
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  for (let i = 0; i < count; i++) {
    doc.transact(() => {
      const ticket = new Y.Map<unknown>()
      tickets.set(`t${i}`, ticket)
      ticket.set('service_request_id', `req-${i}`)
      ticket.set('status', statuses[i % statuses.length])
      ticket.set('service_code', services[i % services.length])
      ticket.set('service_name', `Service ${services[i % services.length]}`)
      ticket.set('description', `Reported issue number ${i} near the market square, please check.`)
      ticket.set('lat', 40.4 + (i % 1000) / 10_000)
      ticket.set('long', -3.7 - (i % 977) / 10_000)
      ticket.set('address', `${i % 300} Calle Mayor, District ${i % 21}`)
      ticket.set('requested_datetime', new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString())
      ticket.set('updated_datetime', new Date(Date.UTC(2026, 10, 1) + i * 90_000).toISOString())
      ticket.set('agency_responsible', `agency-${i % 12}`)
      ticket.set('media_url', i % 5 === 0 ? `https://example.org/media/${i}.jpg` : null)
    })
  }
  return updates
}

async function time<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now()
  const value = await run()
  return { ms: performance.now() - start, value }
}

const rate = (bytes: number, ms: number): string => `${(bytes / MB / (ms / 1000)).toFixed(1)} MB/s`
const fmt = (ms: number): string => `${ms.toFixed(0)} ms`

async function main(): Promise<void> {
  const directory = await mkdtemp(join(ROOT, 'cabildo-bench-'))
  try {
    const generated = await time(async () => ticketUpdates(TICKETS))
    const updates = generated.value
    const bytes = updates.reduce((sum, u) => sum + u.length, 0)
    console.log(`${TICKETS} tickets, ${(bytes / MB).toFixed(1)} MB of Yjs updates (avg ${(bytes / TICKETS).toFixed(0)} B), generated in ${fmt(generated.ms)}`)
    console.log(`directory: ${directory}`)

    // The file store, every append called at once (group commit: one write + fsync per batch).
    const storage = createFileStorage({ directory: join(directory, 'store') })
    const written = await time(async () => {
      const store = await storage.open('tickets.2026-11')
      await Promise.all(updates.map((update) => store.append(update)))
      await store.close()
    })
    const logBytes = (await stat(join(directory, 'store', 'tickets.2026-11@0.log'))).size

    // Baseline: the same bytes by plain fs.appendFile, one call per update, awaited, no fsync.
    const baseline = await time(async () => {
      const path = join(directory, 'baseline.bin')
      for (const update of updates) await appendFile(path, update)
    })
    // Upper bound: all bytes in one fs.appendFile call.
    const oneCall = await time(async () => {
      const all = new Uint8Array(bytes)
      let at = 0
      for (const update of updates) {
        all.set(update, at)
        at += update.length
      }
      await appendFile(join(directory, 'one-call.bin'), all)
    })

    // Appends awaited one by one (one fsync each), on a sample.
    const sample = updates.slice(0, Math.min(2_000, updates.length))
    const sampleBytes = sample.reduce((sum, u) => sum + u.length, 0)
    const oneByOne = await time(async () => {
      const store = await storage.open('sample')
      for (const update of sample) await store.append(update)
      await store.close()
    })

    const reopened = await time(async () => {
      const store = await storage.open('tickets.2026-11')
      const records = await store.load()
      await store.close()
      return records
    })
    const applied = await time(async () => {
      const doc = new Y.Doc()
      Y.transact(doc, () => {
        for (const record of reopened.value) Y.applyUpdate(doc, record)
      })
      return doc
    })
    const doc = applied.value
    if (doc.getMap('tickets').size !== TICKETS) throw new Error('reopened document lost tickets')

    const compacted = await time(async () => {
      const store = await storage.open('tickets.2026-11')
      await store.load()
      const snapshot = Y.encodeStateAsUpdate(doc)
      await store.compact(snapshot)
      await store.close()
      return snapshot.length
    })
    const reopenedCompacted = await time(async () => {
      const store = await storage.open('tickets.2026-11')
      const records = await store.load()
      await store.close()
      const copy = new Y.Doc()
      for (const record of records) Y.applyUpdate(copy, record)
      return copy.getMap('tickets').size
    })
    if (reopenedCompacted.value !== TICKETS) throw new Error('compacted document lost tickets')

    console.log('')
    console.log(`write, file store (batched appends, fsync)   ${fmt(written.ms).padStart(9)}  ${rate(bytes, written.ms)}  (log ${(logBytes / MB).toFixed(1)} MB, framing +${(((logBytes - bytes) / bytes) * 100).toFixed(1)}%)`)
    console.log(`write, fs.appendFile per update (no fsync)   ${fmt(baseline.ms).padStart(9)}  ${rate(bytes, baseline.ms)}  → file store is ${(baseline.ms / written.ms).toFixed(2)}× its speed`)
    console.log(`write, one fs.appendFile of all bytes        ${fmt(oneCall.ms).padStart(9)}  ${rate(bytes, oneCall.ms)}  → file store is ${(oneCall.ms / written.ms).toFixed(2)}× its speed`)
    console.log(`write, ${sample.length} appends awaited one by one       ${fmt(oneByOne.ms).padStart(9)}  ${rate(sampleBytes, oneByOne.ms)}  (${((oneByOne.ms / sample.length) * 1000).toFixed(0)} µs per acknowledged append)`)
    console.log(`reopen (open + load ${reopened.value.length} records)          ${fmt(reopened.ms).padStart(9)}  ${rate(logBytes, reopened.ms)}`)
    console.log(`apply the records to a Y.Doc                 ${fmt(applied.ms).padStart(9)}  ${rate(bytes, applied.ms)}`)
    console.log(`compact (encode + write + rename)            ${fmt(compacted.ms).padStart(9)}  snapshot ${(compacted.value / MB).toFixed(1)} MB`)
    console.log(`reopen after compaction (load + apply)       ${fmt(reopenedCompacted.ms).padStart(9)}`)
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
