/**
 * Storage on PostgreSQL, for a district server or a cluster of relay processes sharing one
 * database: every record is a row, appended in a transaction and acknowledged only once
 * committed; a compaction replaces, in one transaction, exactly the rows its snapshot covers.
 * Several processes may keep the same document at once without losing each other's records.
 *
 * ```ts
 * import { createPostgresStorage } from 'cabildo/node'
 * const storage = createPostgresStorage({ connectionString: process.env.DATABASE_URL })
 * const store = await storage.open('tickets.2026-11') // creates the table on first use
 * await store.append(update)                          // resolves once committed
 * await store.close()
 * await storage.close()                               // ends the pool it made
 * ```
 *
 * `pg` is an optional peer dependency, imported only when the storage makes its own pool. See
 * docs/storage.md for the table, the guarantees and the errors.
 * @module
 */
import { CabildoError } from '../errors'
import type { Storage } from '../storage/storage'
import { assertStorageKey, lockedError, storageError } from '../storage/storage-errors'
import { openPostgresDocStore, type PostgresDocStore } from './postgres-storage/postgres-doc-store'
import { createOwnedPool, type OwnedPool, type PostgresPool, type PostgresPoolClient, type PostgresQueryResult } from './postgres-storage/postgres-pool'
import { recordsTable } from './postgres-storage/records-table'
import { resolveRetry, withRetry, type PostgresRetryOptions } from './postgres-storage/retry'

export type { PostgresDocStore, PostgresPool, PostgresPoolClient, PostgresQueryResult, PostgresRetryOptions }

/** The longest key accepted, in UTF-8 bytes (a primary-key entry must fit in a btree page). */
export const MAX_POSTGRES_KEY_BYTES = 1000

/** Options of {@link createPostgresStorage}: a pool or a connection string, and where the table lives. */
export interface PostgresStorageOptions {
  /** A `pg` pool to use (`new pg.Pool(...)`); the storage never ends it. Give this or `connectionString`. */
  readonly pool?: PostgresPool
  /** A connection string (`postgres://user:password@host:5432/db`): the storage makes a pool and ends it on `close()`. */
  readonly connectionString?: string
  /** Size of the pool made from `connectionString` (default 10). */
  readonly poolSize?: number
  /** How long to wait for a new connection of the pool made from `connectionString` (default 10,000 ms). */
  readonly connectionTimeoutMillis?: number
  /** A schema for the table, created if missing; the connection's `search_path` otherwise. */
  readonly schema?: string
  /** Prepended to the table name, `<prefix>records` (default `cabildo_`). Lowercase letters, digits and `_`. */
  readonly tablePrefix?: string
  /** How operations are retried through a short outage (default: 5 tries, 100 ms doubling up to 2 s). */
  readonly retry?: PostgresRetryOptions
  /** Largest number of record bytes grouped into one INSERT (default 4 MiB). */
  readonly maxBatchBytes?: number
  /** @internal How to wait between retries (tests). */
  readonly sleep?: (ms: number) => Promise<void>
}

/** A {@link Storage} kept in a PostgreSQL table. */
export interface PostgresStorage extends Storage {
  /**
   * Opens the store of one document (creating the table first, if this is the first call).
   * Another storage object, in this process or another, may have the same key open at once.
   * @throws `E_ARGUMENT` if the key is empty, holds a NUL character or is longer than
   *   {@link MAX_POSTGRES_KEY_BYTES} in UTF-8; `E_STORAGE` (operation `open`, cause `ELOCKED`) if
   *   this storage object has it open already; `E_STORAGE` (operation `open`) if the database
   *   cannot be reached or the table cannot be created; `E_CLOSED` after `close()`.
   */
  open(key: string): Promise<PostgresDocStore>
  /**
   * Connects and creates the table if it is absent (what the first `open` does). Call it at
   * start-up to fail early on a wrong connection string or a missing privilege.
   * @throws `E_STORAGE` (operation `open`); `E_CLOSED` after `close()`.
   */
  ready(): Promise<void>
  /**
   * The keys of the documents that have records, sorted by their UTF-8 bytes.
   * @throws `E_STORAGE` (operation `load`); `E_CLOSED` after `close()`.
   */
  keys(): Promise<string[]>
  /** The quoted, qualified table name, e.g. `"cabildo"."cabildo_records"`. */
  readonly table: string
  /**
   * Closes every store it opened (their operations finish first), then ends the pool if the
   * storage made it. Idempotent.
   */
  close(): Promise<void>
}

function assertPostgresKey(key: unknown): asserts key is string {
  assertStorageKey(key)
  if (key.includes('\u0000')) {
    throw new CabildoError('E_ARGUMENT', 'A PostgreSQL storage key cannot hold a NUL character', { argument: 'key', reason: 'NUL character' })
  }
  const bytes = new TextEncoder().encode(key).length
  if (bytes > MAX_POSTGRES_KEY_BYTES) {
    throw new CabildoError('E_ARGUMENT', `The storage key is too long (${bytes} > ${MAX_POSTGRES_KEY_BYTES} UTF-8 bytes)`, {
      argument: 'key',
      reason: `longer than ${MAX_POSTGRES_KEY_BYTES} UTF-8 bytes`,
    })
  }
}

function closedStorageError(): CabildoError<'E_CLOSED'> {
  return new CabildoError('E_CLOSED', 'The PostgreSQL storage is closed', { what: 'postgres storage' })
}

/**
 * Creates a storage on PostgreSQL from a pool, a connection string, or options. Nothing connects
 * until the first `open`, `keys` or `ready`.
 * @throws `E_ARGUMENT` if neither or both of `pool` and `connectionString` are given, or the
 *   schema or table prefix is not a plain lowercase SQL name.
 */
export function createPostgresStorage(options: PostgresStorageOptions | string): PostgresStorage {
  const settings: PostgresStorageOptions = typeof options === 'string' ? { connectionString: options } : options
  if ((settings.pool === undefined) === (settings.connectionString === undefined)) {
    throw new CabildoError('E_ARGUMENT', 'Give createPostgresStorage either a pool or a connection string', {
      argument: 'options',
      reason: 'exactly one of pool and connectionString is required',
    })
  }
  const table = recordsTable(settings)
  const retry = resolveRetry(settings.retry, settings.sleep)
  const maxBatchBytes = settings.maxBatchBytes ?? 4 * 1024 * 1024
  const openKeys = new Set<string>()
  const stores = new Set<PostgresDocStore>()
  let owned: Promise<OwnedPool> | undefined
  let readying: Promise<PostgresPool> | undefined
  let closed = false

  const poolOf = async (): Promise<PostgresPool> => {
    if (settings.pool !== undefined) return settings.pool
    owned ??= createOwnedPool(settings.connectionString ?? '', {
      connectionTimeoutMillis: settings.connectionTimeoutMillis ?? 10_000,
      ...(settings.poolSize === undefined ? {} : { max: settings.poolSize }),
    }).catch((error: unknown) => {
      owned = undefined
      throw storageError('open', undefined, error)
    })
    return (await owned).pool
  }

  const createTable = async (pool: PostgresPool): Promise<void> => {
    // A role that may only read and write the existing table gets no DDL at all.
    const exists = await pool.query('SELECT to_regclass($1) IS NOT NULL AS present', [table.name])
    if ((exists.rows[0] as { present: boolean } | undefined)?.present === true) return
    const client: PostgresPoolClient = await pool.connect()
    try {
      await client.query('BEGIN')
      // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalogs: serialize them.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [table.name])
      if (table.schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS "${table.schema}"`)
      await client.query(table.ddl())
      await client.query('COMMIT')
    } catch (error) {
      client.release(error instanceof Error ? error : true)
      throw error
    }
    client.release()
  }

  const ready = (): Promise<PostgresPool> => {
    if (closed) return Promise.reject(closedStorageError())
    readying ??= (async () => {
      const pool = await poolOf()
      await withRetry(retry, 'open', undefined, () => createTable(pool))
      return pool
    })().catch((error: unknown) => {
      readying = undefined
      throw error
    })
    return readying
  }

  return {
    table: table.name,
    async ready() {
      await ready()
    },
    async open(key) {
      assertPostgresKey(key)
      if (closed) throw closedStorageError()
      // The key is held from now on, so a second open of it is refused even while the table is made.
      if (openKeys.has(key)) throw lockedError(key, 'open in this storage object')
      openKeys.add(key)
      let pool: PostgresPool
      try {
        pool = await ready()
        if (closed) throw closedStorageError()
      } catch (error) {
        openKeys.delete(key)
        throw CabildoError.is(error, 'E_STORAGE') ? new CabildoError('E_STORAGE', error.message, { ...error.details, key }, { cause: error }) : error
      }
      const store = openPostgresDocStore({
        key,
        pool,
        table,
        retry,
        maxBatchBytes,
        release: () => {
          stores.delete(store)
          openKeys.delete(key)
        },
      })
      stores.add(store)
      return store
    },
    async keys() {
      const pool = await ready()
      const { rows } = await withRetry(retry, 'load', undefined, () => pool.query(table.keys))
      return (rows as Array<{ doc_key: string }>).map((row) => row.doc_key)
    },
    async close() {
      if (closed) return
      closed = true
      await Promise.all([...stores].map((store) => store.close()))
      if (owned !== undefined) await (await owned.catch(() => undefined))?.end()
    },
  }
}
