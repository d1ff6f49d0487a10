/**
 * The one interface between the binding layer and whatever holds shard documents (the Space).
 * Collections ask it for documents; they never open, store or sync documents themselves.
 * @module
 */
import type * as Y from 'yjs'

/** Where collections get their shard documents from. */
export interface ShardSource {
  /** The origin of every local transaction; remote updates are applied with other origins. */
  readonly localOrigin: object
  /** Settles once the list of known shards is loaded (from storage); lookups wait for it. */
  readonly ready: Promise<void>
  /** The current wall-clock time as an ISO 8601 string: only used to fill time fields, which are data. */
  now(): string
  /** A fresh random key for a new record or shard. */
  randomKey(): string
  /**
   * Opens a shard document, loading it if needed. Repeated calls return the same Y.Doc.
   * @throws CabildoError `E_CLOSED` once the source is closed; `E_ARGUMENT` for an invalid name.
   */
  open(name: string): Promise<Y.Doc>
  /** Records that a shard holds records (called before the first record is written to it). */
  register(name: string): void
  /** Whether a shard is known to hold records, here or on a replica we synced with. */
  has(name: string): boolean
  /** The names of known shards whose scope (the part before the dot) is one of `scopes`, sorted. */
  known(scopes: readonly string[]): string[]
  /** The shard documents open now, by name. */
  openShards(): ReadonlyMap<string, Y.Doc>
  /** Calls `listener` for each shard opened from now on. Returns the unsubscribe function. */
  onOpen(listener: (name: string, doc: Y.Doc) => void): () => void
}
