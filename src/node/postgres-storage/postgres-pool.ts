/**
 * The part of a `pg` connection pool the PostgreSQL store uses, as structural types (a
 * `new pg.Pool()` fits them), and the lazy creation of a pool from a connection string. `pg` is
 * imported only when such a pool is made, so `cabildo/node` loads without `pg` installed.
 *
 * ```ts
 * const { pool, end } = await createOwnedPool('postgres://relay@db.example/city')
 * await pool.query('SELECT 1')
 * await end()
 * ```
 * @internal
 * @module
 */
import type { Pool, PoolConfig } from 'pg'

/** What a query resolves to: the rows, as `pg` parses them. */
export interface PostgresQueryResult {
  readonly rows: unknown[]
}

/** A connection taken from a pool for a transaction. */
export interface PostgresPoolClient {
  /** Runs one SQL statement on this connection. */
  query(text: string, values?: unknown[]): Promise<PostgresQueryResult>
  /** Returns the connection to its pool; with an error, closes it instead (its state is unknown). */
  release(error?: Error | boolean): void
}

/** A `pg` pool (`new pg.Pool(...)`), or anything with the same three methods. */
export interface PostgresPool {
  /** Runs one SQL statement on any free connection. */
  query(text: string, values?: unknown[]): Promise<PostgresQueryResult>
  /** Checks out a connection (for a transaction); give it back with `release()`. */
  connect(): Promise<PostgresPoolClient>
  /** Closes every connection of the pool. */
  end(): Promise<void>
}

/** A pool the storage made, and how to close it. */
export interface OwnedPool {
  readonly pool: PostgresPool
  end(): Promise<void>
}

/** Options of a pool made from a connection string. */
export interface OwnedPoolOptions {
  /** Largest number of connections (pg's default, 10, if undefined). */
  readonly max?: number
  /** How long to wait for a new connection before failing it with `ETIMEDOUT`, in milliseconds. */
  readonly connectionTimeoutMillis: number
}

/**
 * Makes a `pg` pool for `connectionString`, importing `pg` now.
 * @throws the import's error (`ERR_MODULE_NOT_FOUND`) when `pg` is not installed.
 */
export async function createOwnedPool(connectionString: string, options: OwnedPoolOptions): Promise<OwnedPool> {
  const module = await import('pg')
  // pg is CommonJS: its classes are named exports under ESM ('pg/esm') and on `default` otherwise.
  const PoolClass: typeof Pool = module.Pool ?? module.default.Pool
  const config: PoolConfig = {
    connectionString,
    connectionTimeoutMillis: options.connectionTimeoutMillis,
    keepAlive: true,
    ...(options.max === undefined ? {} : { max: options.max }),
  }
  const pool = new PoolClass(config)
  // An idle connection the server closes (a restart, an admin command) is reported here; without
  // a listener it would crash the process. The pool drops it and later queries open new ones.
  pool.on('error', () => undefined)
  let ended: Promise<void> | undefined
  return {
    pool,
    end() {
      ended ??= pool.end()
      return ended
    },
  }
}
