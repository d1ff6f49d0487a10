/**
 * One open document of the PostgreSQL store: its operation queue, its append batches (group
 * commit: appends called while a write is in flight share the next INSERT and its commit) and its
 * compactions. Created by `createPostgresStorage(...).open(key)`.
 *
 * Several stores, in one process or many, may hold the same key at once (relay processes sharing
 * a room). A compaction therefore deletes only what its snapshot is known to cover: the rows this
 * store wrote (its `writer` id) and the rows its last `load` returned. A record another process
 * appended meanwhile is neither covered nor deleted: it stays, after the snapshot.
 *
 * ```ts
 * const store = openPostgresDocStore({ key, pool, table, retry, maxBatchBytes, release })
 * await store.append(record) // committed
 * ```
 * @internal
 * @module
 */
import { randomUUID } from 'node:crypto'
import { createOperationQueue } from '../../storage/operation-queue'
import type { DocStore } from '../../storage/storage'
import { closedStoreError } from '../../storage/storage-errors'
import type { PostgresPool } from './postgres-pool'
import type { RecordsTable } from './records-table'
import { withRetry, type RetryPolicy } from './retry'

/** A document's store in a `PostgresStorage`: a {@link DocStore} with `flush`. */
export interface PostgresDocStore extends DocStore {
  /** Resolves once every operation called so far has settled. Never rejects. */
  flush(): Promise<void>
}

/** What {@link openPostgresDocStore} needs. */
export interface PostgresDocStoreContext {
  readonly key: string
  readonly pool: PostgresPool
  readonly table: RecordsTable
  readonly retry: RetryPolicy
  /** Largest number of record bytes grouped into one INSERT (a larger record goes alone). */
  readonly maxBatchBytes: number
  /** Called once the store is closed, to free the key. */
  readonly release: () => void
}

/** Appends waiting to be written together. */
interface Batch {
  readonly records: Uint8Array[]
  bytes: number
  done: Promise<void>
}

interface LoadedRow {
  readonly seq: string
  readonly data: Uint8Array
}

/** Opens the store of one key (no I/O: the table exists already). */
export function openPostgresDocStore(context: PostgresDocStoreContext): PostgresDocStore {
  const { key, pool, table, retry, maxBatchBytes } = context
  // Names this open of the key in the rows it writes: its compactions delete them.
  const writer = randomUUID()
  const queue = createOperationQueue()
  let closed = false
  /** The batch that still accepts appends (not started yet). */
  let open: Batch | undefined
  /** `seq` of the rows the last load returned: covered by a later snapshot, since the caller applied them. */
  let loaded: string[] = []

  const rejectIfClosed = (): Promise<never> | undefined => (closed ? Promise.reject(closedStoreError(key)) : undefined)

  const write = (records: Uint8Array[]): Promise<void> =>
    withRetry(retry, 'append', key, async () => {
      // One statement, so one implicit transaction: the whole batch commits or none of it does,
      // and the promise resolves only after the commit.
      await pool.query(table.append, [key, writer, records])
    })

  const compactNow = (snapshot: Uint8Array): Promise<void> =>
    withRetry(retry, 'compact', key, async () => {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        // Deleting this writer's rows also deletes its earlier snapshots, so a compaction retried
        // after a commit whose acknowledgement was lost leaves one snapshot, as if run once.
        await client.query(table.deleteCovered, [key, writer, loaded])
        await client.query(table.insertSnapshot, [key, writer, snapshot])
        await client.query('COMMIT')
      } catch (error) {
        // Close the connection rather than reuse it: an open transaction is rolled back with it.
        client.release(error instanceof Error ? error : true)
        throw error
      }
      client.release()
      loaded = []
    })

  return {
    key,
    load() {
      open = undefined
      return rejectIfClosed() ?? queue.run(() =>
        withRetry(retry, 'load', key, async () => {
          const { rows } = await pool.query(table.load, [key])
          const typed = rows as LoadedRow[]
          loaded = typed.map((row) => row.seq)
          // Copies: pg's buffers may share a slab with other values.
          return typed.map((row) => new Uint8Array(row.data))
        }),
      )
    },
    append(record) {
      const rejected = rejectIfClosed()
      if (rejected !== undefined) return rejected
      // Copy now: the caller may reuse its array as soon as `append` returns.
      const copy = record.slice()
      let batch = open
      if (batch === undefined || (batch.bytes + copy.length > maxBatchBytes && batch.records.length > 0)) {
        const fresh: Batch = { records: [], bytes: 0, done: Promise.resolve() }
        fresh.done = queue.run(() => {
          if (open === fresh) open = undefined
          return write(fresh.records)
        })
        open = fresh
        batch = fresh
      }
      batch.records.push(copy)
      batch.bytes += copy.length
      return batch.done
    },
    compact(snapshot) {
      open = undefined
      const copy = snapshot.slice()
      return rejectIfClosed() ?? queue.run(() => compactNow(copy))
    },
    async close() {
      if (closed) return
      closed = true
      open = undefined
      await queue.idle()
      context.release()
    },
    flush() {
      return queue.idle()
    },
  }
}
