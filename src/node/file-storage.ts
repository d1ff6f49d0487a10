/**
 * The embedded default storage for Node: one directory per storage, an append-only log per
 * document with CRC-framed records, fsync before every acknowledgement, atomic compaction into a
 * snapshot, and a lock file per document. See docs/storage.md for the on-disk format.
 *
 * ```ts
 * import { createFileStorage } from 'cabildo/node'
 * const storage = createFileStorage({ directory: './data' })
 * const store = await storage.open('tickets.2026-11')
 * store.on('warning', (w) => log(w.message)) // damaged data set aside while reading
 * await store.append(update)                 // resolves once fsynced
 * ```
 *
 * Acknowledgement: `append` resolves only after its bytes (and, for a new log file, the
 * directory entry) are fsynced. Appends that arrive while a write is in flight are grouped into
 * the next write and its single fsync (group commit), so throughput does not cost durability.
 * @module
 */
import type { Storage } from '../storage/storage'
import { assertStorageKey, storageError } from '../storage/storage-errors'
import { keyForStem, parseFileName, stemForKey } from './file-storage/file-names'
import { errorCode, nodeFsOps, type FsOps } from './file-storage/fs-ops'
import { acquireLock, isProcessAlive, type HeldLock } from './file-storage/lock'
import { LogDocStore, type FileDocStore } from './file-storage/log-doc-store'

export type { FileDocStore }

/** Options of {@link createFileStorage}. */
export interface FileStorageOptions {
  /** The directory holding the documents' files; created if missing. */
  readonly directory: string
  /**
   * Largest number of record bytes grouped into one write and fsync (default 4 MiB). A single
   * larger record is written on its own.
   */
  readonly maxBatchBytes?: number
  /** @internal The file-system calls, replaced by tests to inject I/O errors. */
  readonly fs?: FsOps
  /** @internal Whether a process is alive (for stale lock detection). */
  readonly isAlive?: (pid: number) => boolean
}

/** A {@link Storage} kept in a directory of files. */
export interface FileStorage extends Storage {
  /**
   * Opens the store of one document, taking its lock.
   * @throws `E_ARGUMENT` if the key is empty or its escaped name is longer than 200 bytes;
   *   `E_STORAGE` (operation `open`, cause `ELOCKED`) if it is open, here or in another live
   *   process; `E_STORAGE` (operation `open`) if the directory cannot be written.
   */
  open(key: string): Promise<FileDocStore>
  /** The directory, as given. */
  readonly directory: string
  /**
   * The keys of the documents in the directory (decoded from the file names), sorted.
   * @throws `E_STORAGE` (operation `open`) if the directory cannot be read.
   */
  keys(): Promise<string[]>
}

/**
 * Creates a file storage in `directory` (or `options.directory`).
 *
 * Each open document holds a lock file: a second open, in this process or another, fails with
 * `E_STORAGE` (cause `ELOCKED`) until `close()`; a lock left by a dead process is taken over.
 */
export function createFileStorage(options: FileStorageOptions | string): FileStorage {
  const settings = typeof options === 'string' ? { directory: options } : options
  const fs = settings.fs ?? nodeFsOps
  const isAlive = settings.isAlive ?? isProcessAlive
  const maxBatchBytes = settings.maxBatchBytes ?? 4 * 1024 * 1024
  const { directory } = settings

  return {
    directory,
    async open(key) {
      assertStorageKey(key)
      const stem = stemForKey(key)
      let lock: HeldLock
      try {
        await fs.mkdir(directory)
        lock = await acquireLock({ fs, directory, stem, key, isAlive })
      } catch (error) {
        throw storageError('open', key, error)
      }
      return new LogDocStore({ fs, directory, stem, key, isAlive, lock, maxBatchBytes })
    },
    async keys() {
      let names: string[]
      try {
        names = await fs.readdir(directory)
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return []
        throw storageError('open', undefined, error)
      }
      const keys = new Set<string>()
      for (const name of names) {
        const file = parseFileName(name)
        if (file?.kind !== 'log' && file?.kind !== 'snapshot') continue
        const key = keyForStem(file.stem)
        if (key !== undefined) keys.add(key)
      }
      return [...keys].sort()
    },
  }
}
