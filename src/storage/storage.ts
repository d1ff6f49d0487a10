/**
 * The storage plug-in point: a {@link Storage} opens one {@link DocStore} per document key, and a
 * store keeps that document's records (opaque bytes) in the order they were appended.
 *
 * ```ts
 * import { createMemoryStorage } from 'cabildo'
 * const storage = createMemoryStorage()
 * const store = await storage.open('tickets.2026-11')
 * await store.append(update)            // resolves once the record is durable
 * const records = await store.load()    // [snapshot?, ...records appended since]
 * await store.close()
 * ```
 *
 * Writing an adapter means implementing these two interfaces and passing `runStorageTests`
 * (from `cabildo/testing`); see docs/storage.md.
 * @module
 */

/**
 * A place where documents are kept, one {@link DocStore} per key.
 *
 * Keys are document names such as `tickets.2026-11` or `budget.x7k2`: non-empty strings. An
 * adapter maps them to its own namespace injectively (two keys never share records, whatever
 * their characters or case) and safely (a key never escapes the adapter's namespace, e.g. by path
 * traversal). An adapter may refuse keys it cannot map (the file adapter limits the escaped name
 * to 200 bytes, i.e. 200 ASCII letters or digits).
 */
export interface Storage {
  /**
   * Opens the store of one document. A key is open at most once at a time per storage: open it
   * again after `close()`.
   * @throws `E_ARGUMENT` if the key is empty or cannot be mapped; `E_STORAGE` (cause `ELOCKED`) if the key
   *   is already open, here or in another process; `E_STORAGE` if the backend cannot be reached.
   */
  open(key: string): Promise<DocStore>
}

/**
 * The records of one document: a snapshot (after a compaction) followed by appended records.
 *
 * Operations take effect in call order, whether or not the caller awaits each one: an `append`
 * called before `compact` lands before the snapshot, one called after lands after it.
 */
export interface DocStore {
  /** The document key this store was opened with. */
  readonly key: string

  /**
   * Every record appended since the last compaction, preceded by the snapshot if there is one.
   * The arrays returned are the caller's to keep (the store holds no reference to them).
   * @throws `E_CLOSED` after `close()`; `E_STORAGE` (operation `load`) if the records cannot be read.
   */
  load(): Promise<Uint8Array[]>

  /**
   * Appends one record. The promise resolves only once the record is durable (the
   * acknowledgement): after a crash, a reopened store returns it. The bytes are copied before
   * this returns, so the caller may reuse the array.
   *
   * A rejected append was not acknowledged: the record may or may not be present after a reopen
   * (like a commit whose outcome is unknown), so callers retry it, and records must tolerate
   * duplication (Yjs updates and signed envelopes are idempotent).
   * @throws `E_CLOSED` after `close()`; `E_STORAGE` (operation `append`) if the record could not
   *   be made durable. The store stays usable: a later append or compaction may succeed.
   */
  append(record: Uint8Array): Promise<void>

  /**
   * Replaces every record by one snapshot, atomically: after a crash, a reopened store returns
   * either the old records or the snapshot (followed by later appends), never a mix and never
   * nothing. `snapshot` must contain the state of every record appended before this call (for a
   * Yjs document, `Y.encodeStateAsUpdate(doc)`).
   * @throws `E_CLOSED` after `close()`; `E_STORAGE` (operation `compact`) if the snapshot could not
   *   be made durable. The old records are then still in place and a later compaction may succeed.
   */
  compact(snapshot: Uint8Array): Promise<void>

  /**
   * Waits for every operation called so far to settle, then releases the key. Idempotent: a second
   * call resolves at once. Every later `load`, `append` or `compact` rejects with `E_CLOSED`.
   * @throws `E_STORAGE` (operation `close`) if the key could not be released cleanly.
   */
  close(): Promise<void>

  /**
   * Optional: resolves once every operation called so far has settled (durable or rejected).
   * Never rejects; the outcome of each operation is reported by its own promise.
   */
  flush?(): Promise<void>

  /**
   * Optional: subscribes to the store's events (see {@link DocStoreEvents}). Returns the
   * function that unsubscribes.
   */
  on?<E extends keyof DocStoreEvents>(event: E, listener: (payload: DocStoreEvents[E]) => void): () => void
}

/** The events a {@link DocStore} may emit, by name. */
export interface DocStoreEvents {
  /**
   * Damaged data was found and set aside while reading the store (the store still opens). Emitted
   * during the first `load`, `append` or `compact`, so a listener attached right after `open()`
   * sees every warning.
   */
  warning: StorageWarning
}

/** The kinds of damage a store can find and recover from. */
export const StorageWarningKind = {
  /** The last record was incomplete or failed its checksum (an interrupted write): it was cut off. */
  tornTail: 'torn-tail',
  /** A record in the middle failed its checksum: it and everything after it was set aside. */
  corruptRecord: 'corrupt-record',
  /** The snapshot failed its checksum: it was set aside and only the later records were loaded. */
  corruptSnapshot: 'corrupt-snapshot',
} as const

/** One of {@link StorageWarningKind}'s values. */
export type StorageWarningKind = (typeof StorageWarningKind)[keyof typeof StorageWarningKind]

/** A report of damaged data that a store set aside. Nothing is dropped without one. */
export interface StorageWarning {
  /** What was found. */
  readonly kind: StorageWarningKind
  /** The document key. */
  readonly key: string
  /** A sentence for people. */
  readonly message: string
  /** Where the damage starts, in bytes from the start of the damaged file. */
  readonly offset: number
  /** How many intact records were kept before the damage. */
  readonly keptRecords: number
  /** How many bytes were dropped from the document's records. */
  readonly droppedBytes: number
  /**
   * How many intact-looking records the dropped bytes still contain (after the damaged one):
   * they can be salvaged from `quarantine` by hand, or fetched again from peers.
   */
  readonly droppedIntactRecords: number
  /** Where the dropped bytes were kept, when they were kept (adapter-specific, e.g. a file path). */
  readonly quarantine?: string
}
