/**
 * PostgreSQL storage benchmark: acknowledged appends per second, one by one and grouped, from one
 * store and from two stores sharing a document, then a reload and a compaction.
 *
 * Uses the server at `DATABASE_URL` if set; otherwise starts a throwaway server from the local
 * PostgreSQL binaries (default settings: fsync and synchronous_commit on) and removes it after.
 *
 *   npx tsx bench/postgres-storage.ts [records=20000]
 */
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import * as Y from 'yjs'
import { createPostgresStorage, type PostgresStorage } from '../src/node/postgres-storage'
import { startPostgresServer, type PostgresServer } from '../test/helpers/postgres-server'

const RECORDS = Number(process.argv[2] ?? 20_000)
const ONE_BY_ONE = 1000

/** One update per ticket, each a Y.Map of a few Open311-like fields (about 250 bytes). */
function ticketUpdates(count: number, client: number): Uint8Array[] {
  const doc = new Y.Doc()
  doc.clientID = client
  const tickets = doc.getMap<Y.Map<unknown>>('tickets')
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  for (let i = 0; i < count; i++) {
    doc.transact(() => {
      const ticket = new Y.Map<unknown>()
      tickets.set(`t${client}-${i}`, ticket)
      ticket.set('status', 'open')
      ticket.set('service_code', 'pothole')
      ticket.set('description', `Reported issue number ${i} near the market square, please check.`)
      ticket.set('address', `${i % 300} Calle Mayor, District ${i % 21}`)
    })
  }
  return updates
}

async function time(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await run()
  return performance.now() - start
}

const perSecond = (count: number, ms: number): string => `${Math.round(count / (ms / 1000)).toLocaleString('en')}/s`

let server: PostgresServer | undefined
const connectionString = process.env.DATABASE_URL ?? (server = await startPostgresServer()).connectionString
const schema = `bench_${process.pid}`
const storages: PostgresStorage[] = []
const storage = (): PostgresStorage => {
  const made = createPostgresStorage({ connectionString, schema })
  storages.push(made)
  return made
}
try {
  const one = await storage().open('one-by-one')
  const single = ticketUpdates(ONE_BY_ONE, 1)
  const awaited = await time(async () => {
    for (const update of single) await one.append(update)
  })
  console.log(`${ONE_BY_ONE} appends awaited one by one: ${awaited.toFixed(0)} ms, ${perSecond(ONE_BY_ONE, awaited)}, ${((awaited * 1000) / ONE_BY_ONE).toFixed(0)} µs per acknowledged append`)

  const batched = await storage().open('grouped')
  const updates = ticketUpdates(RECORDS, 2)
  const bytes = updates.reduce((sum, update) => sum + update.length, 0)
  const grouped = await time(() => Promise.all(updates.map((update) => batched.append(update))))
  console.log(`${RECORDS} appends not awaited one by one (group commit): ${grouped.toFixed(0)} ms, ${perSecond(RECORDS, grouped)}, ${(bytes / 1024 / 1024 / (grouped / 1000)).toFixed(1)} MB/s, ${Math.round(bytes / RECORDS)} bytes per record`)

  const [a, b] = await Promise.all([storage().open('shared'), storage().open('shared')])
  const half = Math.floor(RECORDS / 2)
  const fromA = ticketUpdates(half, 3)
  const fromB = ticketUpdates(half, 4)
  const shared = await time(() => Promise.all([...fromA.map((u) => a?.append(u)), ...fromB.map((u) => b?.append(u))]))
  console.log(`${half * 2} appends from two stores (two pools) to one document: ${shared.toFixed(0)} ms, ${perSecond(half * 2, shared)}`)

  let records: Uint8Array[] = []
  const loaded = await time(async () => {
    records = await batched.load()
  })
  console.log(`load ${records.length} records: ${loaded.toFixed(0)} ms`)
  const doc = new Y.Doc()
  const applied = await time(async () => {
    Y.transact(doc, () => {
      for (const record of records) Y.applyUpdate(doc, record)
    })
  })
  const snapshot = Y.encodeStateAsUpdate(doc)
  const compacted = await time(() => batched.compact(snapshot))
  console.log(`apply to a Y.Doc: ${applied.toFixed(0)} ms; compact (${(snapshot.length / 1024 / 1024).toFixed(1)} MB snapshot): ${compacted.toFixed(0)} ms`)
} finally {
  for (const made of storages) await made.close()
  if (server === undefined) {
    // A database of yours: remove what the benchmark wrote.
    const client = new pg.Client({ connectionString })
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await client.end()
  }
  await server?.destroy()
}
