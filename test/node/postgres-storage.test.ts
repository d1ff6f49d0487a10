/**
 * The PostgreSQL store against a real, throwaway PostgreSQL server (test/helpers/postgres-server):
 * the acceptance suite, two stores on two pools (and two processes) sharing documents, an outage
 * (the server stopped and restarted under a live store), and a Space kept in PostgreSQL.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CabildoError } from '../../src/errors'
import { createIdentity } from '../../src/identity/identity'
import { createPostgresStorage, type PostgresStorage, type PostgresStorageOptions } from '../../src/node/postgres-storage'
import { attachStore } from '../../src/storage/attach-store'
import type { DocStore } from '../../src/storage/storage'
import { openSpace } from '../../src/sync/space'
import { runStorageTests } from '../../src/testing/storage-tests'
import { startPostgresServer, type PostgresServer } from '../helpers/postgres-server'

let server: PostgresServer
let admin: pg.Pool
let schemas = 0

beforeAll(async () => {
  server = await startPostgresServer()
  admin = new pg.Pool({ connectionString: server.connectionString, max: 2 })
  admin.on('error', () => undefined)
}, 60_000)
afterAll(async () => {
  await admin?.end()
  await server?.destroy()
})

/** A schema no other test uses: an empty storage. */
const freshSchema = (): string => `t${process.pid}_${++schemas}`

const storages: PostgresStorage[] = []
const pools: pg.Pool[] = []
/** A storage on its own pool (made from the connection string), closed after the test. */
function storageOn(schema: string, options: Partial<PostgresStorageOptions> = {}): PostgresStorage {
  const storage = createPostgresStorage({ connectionString: server.connectionString, schema, ...options })
  storages.push(storage)
  return storage
}
/** A pg pool of the test's own, ended after the test. */
function poolOf(): pg.Pool {
  const pool = new pg.Pool({ connectionString: server.connectionString, max: 4 })
  pool.on('error', () => undefined)
  pools.push(pool)
  return pool
}
afterEach(async () => {
  if (!server.running) await server.start()
  for (const storage of storages.splice(0)) await storage.close()
  for (const pool of pools.splice(0)) await pool.end()
})

runStorageTests('postgres', () => {
  const schema = freshSchema()
  const storage = createPostgresStorage({ connectionString: server.connectionString, schema })
  return {
    storage,
    teardown: async () => {
      await storage.close()
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    },
  }
})

const plain = (records: readonly Uint8Array[]): number[][] => records.map((record) => Array.from(record))

/** One edit, by its own Yjs client, so any subset of edits can be checked independently. */
function edit(id: number): Uint8Array {
  const author = new Y.Doc()
  author.clientID = 100_000 + id
  author.getMap<number>('edits').set(`e${id}`, id)
  return Y.encodeStateAsUpdate(author)
}

function editsOf(records: readonly Uint8Array[]): Record<string, unknown> {
  const doc = new Y.Doc()
  for (const record of records) Y.applyUpdate(doc, record)
  return doc.getMap('edits').toJSON()
}

async function reload(schema: string, key: string): Promise<Uint8Array[]> {
  const storage = createPostgresStorage({ connectionString: server.connectionString, schema })
  try {
    const store = await storage.open(key)
    return await store.load()
  } finally {
    await storage.close()
  }
}

describe('postgres storage', () => {
  it('creates its table on first use, once, even when two storages race to create it', async () => {
    const schema = freshSchema()
    const a = storageOn(schema)
    const b = createPostgresStorage({ pool: poolOf(), schema })
    await Promise.all([a.ready(), b.ready(), a.ready()])
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1', [schema])
    expect(rows[0].n).toBe(1)
    expect(a.table).toBe(`"${schema}"."cabildo_records"`)
  })

  it('acknowledges an append only once it is committed: another connection sees it at once', async () => {
    const schema = freshSchema()
    const store = await storageOn(schema).open('doc')
    await store.append(new Uint8Array([7, 8]))
    const { rows } = await admin.query(`SELECT data FROM "${schema}".cabildo_records WHERE doc_key = 'doc'`)
    expect(rows.map((row: { data: Buffer }) => Array.from(row.data))).toEqual([[7, 8]])
  })

  it('refuses a second open of a key in one storage object, and allows it from another', async () => {
    const schema = freshSchema()
    const storage = storageOn(schema)
    const first = await storage.open('room')
    const again = await storage.open('room').catch((e: unknown) => e)
    expect(CabildoError.is(again, 'E_STORAGE') && again.details.cause).toBe('ELOCKED')
    const other = await storageOn(schema).open('room')
    await first.append(new Uint8Array([1]))
    expect(plain(await other.load())).toEqual([[1]])
    await first.close()
    await (await storage.open('room')).close()
  })

  it('refuses keys PostgreSQL cannot keep, and lists the keys it holds', async () => {
    const storage = storageOn(freshSchema())
    for (const key of ['nul\u0000key', 'x'.repeat(1001)]) {
      const error = await storage.open(key).catch((e: unknown) => e)
      expect(CabildoError.is(error, 'E_ARGUMENT'), key.slice(0, 10)).toBe(true)
    }
    for (const key of ['b', 'A/b', 'ñ', 'empty']) {
      const store = await storage.open(key)
      if (key !== 'empty') await store.append(new Uint8Array([1]))
      await store.close()
    }
    expect(await storage.keys()).toEqual(['A/b', 'b', 'ñ'])
  })

  it('refuses a schema or prefix it cannot use as a plain SQL name, and options without a database', () => {
    const connectionString = server.connectionString
    const attempts = [
      () => createPostgresStorage({ connectionString, schema: 'a"; DROP TABLE x; --' }),
      () => createPostgresStorage({ connectionString, tablePrefix: 'Upper' }),
      () => createPostgresStorage({}),
      () => createPostgresStorage({ connectionString, pool: poolOf() }),
    ]
    for (const make of attempts) {
      const error = (() => {
        try {
          make()
        } catch (e) {
          return e
        }
      })()
      expect(CabildoError.is(error, 'E_ARGUMENT')).toBe(true)
    }
  })

  it('groups appends made together into one INSERT, in call order', async () => {
    const schema = freshSchema()
    const store = await storageOn(schema, { maxBatchBytes: 10_000 }).open('doc')
    await store.load()
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.append(new Uint8Array(1000).fill(i))))
    expect((await store.load()).map((record) => record[0])).toEqual(Array.from({ length: 100 }, (_, i) => i))
    // Each INSERT statement is one transaction: its rows share the inserting transaction id.
    const { rows } = await admin.query(`SELECT count(DISTINCT xmin::text)::int AS n FROM "${schema}".cabildo_records`)
    expect(rows[0].n).toBeGreaterThanOrEqual(10)
    expect(rows[0].n).toBeLessThanOrEqual(12)
  })
})

describe('postgres storage shared by several stores', () => {
  it('keeps an append another store made during a compaction', async () => {
    const schema = freshSchema()
    const a = await storageOn(schema).open('room')
    const b = await createPostgresStorage({ pool: poolOf(), schema }).open('room')
    await a.append(edit(1))
    expect(editsOf(await a.load())).toEqual({ e1: 1 })
    await b.append(edit(2)) // a never loaded it: its snapshot does not hold it
    await a.append(edit(3))
    const docA = new Y.Doc()
    for (const id of [1, 3]) Y.applyUpdate(docA, edit(id))
    await a.compact(Y.encodeStateAsUpdate(docA))
    expect(editsOf(await reload(schema, 'room'))).toEqual({ e1: 1, e2: 2, e3: 3 })
    expect(await b.load()).toHaveLength(2) // the snapshot, then b's record
  })

  it('loses nothing when two stores compact without seeing each other\'s records, and one compaction after a load merges them', async () => {
    const schema = freshSchema()
    const a = await storageOn(schema).open('room')
    const b = await storageOn(schema).open('room')
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    await Promise.all([a.append(edit(1)), b.append(edit(2))])
    Y.applyUpdate(docA, edit(1))
    Y.applyUpdate(docB, edit(2))
    await a.compact(Y.encodeStateAsUpdate(docA))
    await b.compact(Y.encodeStateAsUpdate(docB))
    const both = await a.load()
    expect(both).toHaveLength(2) // two snapshots, neither covering the other
    expect(editsOf(both)).toEqual({ e1: 1, e2: 2 })
    for (const record of both) Y.applyUpdate(docA, record)
    await a.compact(Y.encodeStateAsUpdate(docA))
    const merged = await reload(schema, 'room')
    expect(merged).toHaveLength(1)
    expect(editsOf(merged)).toEqual({ e1: 1, e2: 2 })
  })

  it('two stores on two pools persisting one room under load: every acknowledged edit survives their compactions', async () => {
    const schema = freshSchema()
    const acked = new Set<number>()
    /** A relay's loop: append edits, now and then load what the other wrote and compact. */
    const relay = async (store: DocStore, first: number): Promise<void> => {
      const doc = new Y.Doc()
      for (const record of await store.load()) Y.applyUpdate(doc, record)
      for (let round = 0; round < 10; round++) {
        const ids = Array.from({ length: 8 }, (_, i) => first + round * 8 + i)
        await Promise.all(ids.map(async (id) => {
          Y.applyUpdate(doc, edit(id))
          await store.append(edit(id))
          acked.add(id)
        }))
        if (round % 3 === 2) {
          for (const record of await store.load()) Y.applyUpdate(doc, record)
          await store.compact(Y.encodeStateAsUpdate(doc))
        } else if (round % 3 === 1) {
          await store.compact(Y.encodeStateAsUpdate(doc)) // without a load: must keep the other's rows
        }
      }
    }
    const a = await createPostgresStorage({ pool: poolOf(), schema }).open('room')
    const b = await createPostgresStorage({ pool: poolOf(), schema }).open('room')
    await Promise.all([relay(a, 0), relay(b, 1000)])
    const edits = editsOf(await reload(schema, 'room'))
    expect(acked.size).toBe(160)
    for (const id of acked) expect(edits[`e${id}`]).toBe(id)
  })

  it('two Node processes appending to one room while this one compacts: every acknowledged edit survives', async () => {
    const schema = freshSchema()
    const storage = storageOn(schema)
    await storage.ready()
    const writer = fileURLToPath(new URL('./postgres-storage/room-writer.ts', import.meta.url))
    const runWriter = (first: number): Promise<number[]> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', writer, server.connectionString, schema, 'room', String(first), '60'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let out = ''
        let err = ''
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
        child.on('error', reject)
        child.on('exit', (code) => {
          if (code !== 0) reject(new Error(`writer exited with ${code}: ${err}`))
          else resolve(out.split('\n').filter((line) => line.startsWith('acked ')).map((line) => Number(line.slice(6))))
        })
      })
    const children = Promise.all([runWriter(0), runWriter(1000)])
    const store = await storage.open('room')
    const doc = new Y.Doc()
    let done = false
    const finished = (): void => void (done = true)
    children.then(finished, finished)
    let compactions = 0
    let own = 5000
    while (!done || compactions < 3) {
      for (const record of await store.load()) Y.applyUpdate(doc, record)
      Y.applyUpdate(doc, edit(own))
      await store.append(edit(own++))
      await store.compact(Y.encodeStateAsUpdate(doc))
      compactions++
    }
    const [first, second] = await children
    expect(first).toHaveLength(60)
    expect(second).toHaveLength(60)
    const edits = editsOf(await reload(schema, 'room'))
    for (const id of [...first, ...second]) expect(edits[`e${id}`]).toBe(id)
    for (let id = 5000; id < own; id++) expect(edits[`e${id}`]).toBe(id)
  })
})

describe('postgres storage through an outage', () => {
  it('fails writes with E_STORAGE while PostgreSQL is stopped, resumes when it is back, and loses nothing acknowledged', async () => {
    const schema = freshSchema()
    const storage = storageOn(schema, { retry: { attempts: 2, initialDelayMs: 10 } })
    const store = await storage.open('tickets')
    const doc = new Y.Doc()
    const attached = await attachStore(doc, store, { compactEvery: Infinity })
    const errors: unknown[] = []
    attached.on('error', (error) => errors.push(error))
    const edits = doc.getMap<number>('edits')
    edits.set('before', 1)
    await attached.flush()

    await server.stop()
    const failed = await store.append(edit(1)).catch((e: unknown) => e)
    expect(CabildoError.is(failed, 'E_STORAGE')).toBe(true)
    if (!CabildoError.is(failed, 'E_STORAGE')) return
    expect(failed.details.operation).toBe('append')
    expect(failed.details.key).toBe('tickets')
    expect(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', '57P01']).toContain(failed.details.cause)
    expect(failed.message).toMatch(/after 2 attempts/)
    edits.set('during', 2)
    const flushed = await attached.flush().catch((e: unknown) => e)
    expect(CabildoError.is(flushed, 'E_STORAGE')).toBe(true)
    await expect(store.load()).rejects.toSatisfy((e: unknown) => CabildoError.is(e, 'E_STORAGE'))
    await expect(store.compact(Y.encodeStateAsUpdate(doc))).rejects.toSatisfy((e: unknown) => CabildoError.is(e, 'E_STORAGE'))
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.every((error) => CabildoError.is(error, 'E_STORAGE'))).toBe(true)

    await server.start()
    edits.set('after', 3)
    await attached.flush() // retries the edit that failed
    await store.append(edit(4))
    await attached.detach()
    await store.close()
    const records = await reload(schema, 'tickets')
    const copy = new Y.Doc()
    for (const record of records) Y.applyUpdate(copy, record)
    expect(copy.getMap('edits').toJSON()).toEqual({ before: 1, during: 2, after: 3, e4: 4 })
  })

  it('retries through a short outage: an append made while the server is down is acknowledged once it is back', async () => {
    const schema = freshSchema()
    const storage = storageOn(schema, { retry: { attempts: 200, initialDelayMs: 20, maxDelayMs: 100 } })
    const store = await storage.open('doc')
    await store.append(new Uint8Array([1]))
    await server.stop()
    const pending = store.append(new Uint8Array([2]))
    await server.start()
    await pending
    expect(plain(await reload(schema, 'doc'))).toEqual([[1], [2]])
  })

  it('fails open with E_STORAGE when the server cannot be reached, and opens once it can', async () => {
    const schema = freshSchema()
    await server.stop()
    const storage = storageOn(schema, { retry: { attempts: 1 } })
    const error = await storage.open('doc').catch((e: unknown) => e)
    expect(CabildoError.is(error, 'E_STORAGE') && error.details).toMatchObject({ operation: 'open', key: 'doc', cause: 'ECONNREFUSED' })
    await server.start()
    await (await storage.open('doc')).close()
  })
})

describe('a Space kept in PostgreSQL', () => {
  it('keeps its tickets and signed acts across a close and a reopen on another pool', async () => {
    const schema = freshSchema()
    const root = await createIdentity()
    const districts = { north: root.did }
    const first = await openSpace({ id: 'city', storage: storageOn(schema), identity: root, districts })
    await first.grantRole(root.did, 'staff')
    const ticket = await first.tickets.create({ service_code: 'pothole', district: 'north' })
    await ticket.acknowledge({ note: 'Seen' })
    await first.close()

    const second = await openSpace({ id: 'city', storage: createPostgresStorage({ pool: poolOf(), schema }), identity: root, districts })
    const again = await second.tickets.require(ticket.id)
    expect(again.get().value.status).toBe('acknowledged')
    const view = await again.resolve()
    expect(view.status).toBe('acknowledged')
    expect(view.requester).toBe(root.did)
    await second.close()
  })
})
