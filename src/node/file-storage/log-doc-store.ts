/**
 * One open document of the file store: its operation queue, its append batches (group commit),
 * its log and its compactions. Created by `createFileStorage().open(key)`.
 *
 * ```ts
 * const store = new LogDocStore({ fs: nodeFsOps, directory, stem, key, isAlive, lock, maxBatchBytes })
 * await store.append(record) // fsynced
 * ```
 * @internal
 * @module
 */
import { join } from 'node:path'
import { CabildoError } from '../../errors'
import { createListeners } from '../../storage/listeners'
import { createOperationQueue } from '../../storage/operation-queue'
import type { DocStore, DocStoreEvents } from '../../storage/storage'
import { closedStoreError, storageError, type StorageOperation } from '../../storage/storage-errors'
import { fileNames } from './file-names'
import { LOG_MAGIC, MAX_RECORD_BYTES, SNAPSHOT_MAGIC, encodeFrames, frameSize, writeFrame } from './framing'
import { writeAll, type FileOps, type FsOps } from './fs-ops'
import type { HeldLock } from './lock'
import { recoverDocument } from './recovery'

/** A document's store in a `FileStorage`: a {@link DocStore} whose optional members are there. */
export interface FileDocStore extends DocStore {
  /** Resolves once every operation called so far has settled. Never rejects. */
  flush(): Promise<void>
  /**
   * Subscribes to `warning`s: damaged data set aside while reading the files (on the first
   * `load`, `append` or `compact`, and on every `load`). Returns the function that unsubscribes.
   */
  on<E extends keyof DocStoreEvents>(event: E, listener: (payload: DocStoreEvents[E]) => void): () => void
}

/** What a {@link LogDocStore} needs. */
export interface LogDocStoreContext {
  readonly fs: FsOps
  readonly directory: string
  readonly stem: string
  readonly key: string
  readonly isAlive: (pid: number) => boolean
  readonly lock: HeldLock
  readonly maxBatchBytes: number
}

/**
 * Appends waiting to be written together, already framed into one growing buffer (the record's
 * only copy, made when `append` is called).
 */
interface Batch {
  buffer: Uint8Array
  length: number
  readonly waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** Frames `record` at the end of `batch`, growing its buffer by doubling. */
function addToBatch(batch: Batch, record: Uint8Array): void {
  const needed = batch.length + frameSize(record.length)
  if (needed > batch.buffer.length) {
    const grown = new Uint8Array(Math.max(needed, batch.buffer.length * 2, 4096))
    grown.set(batch.buffer.subarray(0, batch.length))
    batch.buffer = grown
  }
  batch.length = writeFrame(batch.buffer, batch.length, record)
}

/**
 * One open document. Every operation runs through one queue, in call order; appends called while
 * the queue is busy join one batch (one write, one fsync).
 */
export class LogDocStore implements FileDocStore {
  readonly key: string
  readonly #context: LogDocStoreContext
  readonly #queue = createOperationQueue()
  readonly #listeners = createListeners<DocStoreEvents>()
  /** The batch that later appends may still join (not yet started). */
  #openBatch: Batch | undefined
  #closed: Promise<void> | undefined
  /** True until the files have been recovered, and again after a failure left them uncertain. */
  #needsRecovery = true
  #generation = 0
  #logExists = false
  /** Length of the log that is known durable (0 while it has no header). */
  #logSize = 0
  #log: FileOps | undefined
  /** The log file was created and its directory entry is not yet fsynced. */
  #logEntryPending = false

  constructor(context: LogDocStoreContext) {
    this.key = context.key
    this.#context = context
  }

  load(): Promise<Uint8Array[]> {
    return this.#enqueue('load', async () => (await this.#recover()).records)
  }

  append(record: Uint8Array): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(closedStoreError(this.key))
    if (record.length > MAX_RECORD_BYTES) {
      return Promise.reject(
        new CabildoError('E_ARGUMENT', `A record cannot exceed ${MAX_RECORD_BYTES} bytes`, {
          argument: 'record',
          reason: 'too large',
        }),
      )
    }
    return new Promise<void>((resolve, reject) => {
      let batch = this.#openBatch
      if (batch === undefined || batch.length + frameSize(record.length) > this.#context.maxBatchBytes) {
        const fresh: Batch = { buffer: new Uint8Array(0), length: 0, waiters: [] }
        this.#openBatch = batch = fresh
        void this.#queue.run(() => {
          if (this.#openBatch === fresh) this.#openBatch = undefined
          return this.#writeBatch(fresh)
        })
      }
      addToBatch(batch, record) // copies: the caller may reuse its array once we return
      batch.waiters.push({ resolve, reject })
    })
  }

  compact(snapshot: Uint8Array): Promise<void> {
    const file = encodeFrames([snapshot], SNAPSHOT_MAGIC) // copies the bytes now
    return this.#enqueue('compact', () => this.#compact(file))
  }

  flush(): Promise<void> {
    return this.#queue.idle()
  }

  on<E extends keyof DocStoreEvents>(event: E, listener: (payload: DocStoreEvents[E]) => void): () => void {
    return this.#listeners.on(event, listener)
  }

  close(): Promise<void> {
    // Idempotent: a later call resolves once the first has settled, whatever its outcome.
    if (this.#closed !== undefined) return this.#closed.catch(() => undefined)
    this.#closed = (async () => {
      this.#openBatch = undefined
      await this.#queue.idle()
      try {
        await this.#closeLog()
      } finally {
        await this.#context.lock.release().catch((error: unknown) => {
          throw storageError('close', this.key, error)
        })
      }
    })()
    return this.#closed
  }

  /** Queues a non-append operation (closing the open batch, so later appends land after it). */
  #enqueue<T>(operation: StorageOperation, run: () => Promise<T>): Promise<T> {
    if (this.#closed !== undefined) return Promise.reject(closedStoreError(this.key))
    this.#openBatch = undefined
    return this.#queue.run(async () => {
      try {
        return await run()
      } catch (error) {
        throw storageError(operation, this.key, error)
      }
    })
  }

  async #recover(): Promise<{ records: Uint8Array[] }> {
    await this.#closeLog()
    const { fs, directory, stem, key, isAlive } = this.#context
    const state = await recoverDocument({
      fs,
      directory,
      stem,
      key,
      isAlive,
      warn: (warning) => this.#listeners.emit('warning', warning),
    })
    this.#generation = state.generation
    this.#logExists = state.logExists
    this.#logSize = state.logSize
    this.#logEntryPending = false
    this.#needsRecovery = false
    return state
  }

  async #writeBatch(batch: Batch): Promise<void> {
    try {
      if (this.#needsRecovery) await this.#recover()
      const log = await this.#openLog()
      const frames = batch.buffer.subarray(0, batch.length)
      const bytes = this.#logSize === 0 ? concat(LOG_MAGIC, frames) : frames
      try {
        await writeAll(log, bytes, this.#logSize)
        await log.sync()
        if (this.#logEntryPending) {
          await this.#context.fs.syncDirectory(this.#context.directory)
          this.#logEntryPending = false
        }
      } catch (error) {
        await this.#rollBackLog()
        throw error
      }
      this.#logSize += bytes.length
      for (const waiter of batch.waiters) waiter.resolve()
    } catch (error) {
      const failure = storageError('append', this.key, error)
      for (const waiter of batch.waiters) waiter.reject(failure)
    }
  }

  /** Opens (creating if needed) the current generation's log. */
  async #openLog(): Promise<FileOps> {
    if (this.#log !== undefined) return this.#log
    const path = join(this.#context.directory, fileNames.log(this.#context.stem, this.#generation))
    if (this.#logExists) {
      this.#log = await this.#context.fs.open(path, 'r+')
    } else {
      this.#log = await this.#context.fs.open(path, 'w+')
      this.#logExists = true
      this.#logSize = 0
      this.#logEntryPending = true
    }
    return this.#log
  }

  /**
   * Cuts the log back to its last durable length after a failed write, so the next write starts
   * from a known state (and a failed fsync's pages are rewritten, not trusted). If even that
   * fails, the files are recovered from disk before the next operation.
   */
  async #rollBackLog(): Promise<void> {
    try {
      await this.#log?.truncate(this.#logSize)
    } catch {
      this.#needsRecovery = true
      await this.#closeLog()
    }
  }

  async #closeLog(): Promise<void> {
    const log = this.#log
    this.#log = undefined
    if (log === undefined) return
    try {
      await log.close()
    } catch {
      // Closing cannot lose acknowledged data: every acknowledged byte was fsynced.
    }
  }

  /**
   * Compaction by write-then-rename: the snapshot of generation g+1 is written to a temporary
   * file, fsynced, renamed into place and the directory fsynced. The rename is the commit point:
   * recovery picks the highest generation, so a crash before it leaves generation g whole, and
   * after it generation g+1 whole (its log starts empty). Files of generation g are removed last.
   */
  async #compact(file: Uint8Array): Promise<void> {
    if (this.#needsRecovery) await this.#recover()
    const { fs, directory, stem } = this.#context
    const previous = this.#generation
    const next = previous + 1
    const temporary = join(directory, fileNames.snapshotTemp(stem, next))
    const final = join(directory, fileNames.snapshot(stem, next))
    try {
      const handle = await fs.open(temporary, 'w+')
      try {
        await writeAll(handle, file, 0)
        await handle.sync()
      } finally {
        await handle.close()
      }
      await fs.rename(temporary, final)
    } catch (error) {
      await this.#settleFailedRename(final)
      await fs.unlink(temporary).catch(() => undefined)
      throw error
    }
    // Committed: later appends go to the new generation's log, created on the first of them.
    await this.#closeLog()
    this.#generation = next
    this.#logExists = false
    this.#logSize = 0
    await fs.syncDirectory(directory) // on failure the old files stay; recovery removes them later
    for (const name of [fileNames.log(stem, previous), fileNames.snapshot(stem, previous)]) {
      await fs.unlink(join(directory, name)).catch(() => undefined)
    }
  }

  /**
   * After a failed compaction, the rename may or may not have happened (a failure reported by
   * the rename itself is ambiguous). Whether the new snapshot is in place decides the current
   * generation; if that cannot be told, recovery decides before the next operation.
   */
  async #settleFailedRename(final: string): Promise<void> {
    try {
      if ((await this.#context.fs.size(final)) === undefined) return
      await this.#closeLog()
      this.#generation += 1
      this.#logExists = false
      this.#logSize = 0
    } catch {
      this.#needsRecovery = true
      await this.#closeLog()
    }
  }
}
