/**
 * The shard documents of one Space: opened lazily, listed in a manifest document that syncs
 * like any other, closed together.
 * @module
 */
import * as Y from 'yjs'
import { CabildoError } from '../errors'
import { assertShardName } from '../doc/record-ids'
import type { ShardSource } from '../doc/shard-source'
import { callListener } from '../doc/change-router'
import { attachStore, type AttachedStore, type StorageFailure } from '../storage/attach-store'
import type { Storage } from '../storage/storage'

/** The name of the manifest document, which lists the Space's shards. */
export const MANIFEST_DOC = '_manifest'

/** How a shard set gets the time and fresh keys. */
export interface ShardSetOptions {
  /** The current time (injected so tests and simulations control it). */
  readonly now: () => Date
  /** Fresh random keys for records and shards. */
  readonly randomKey: () => string
  /** Where documents are kept; none for an in-memory Space. */
  readonly storage?: Storage
  /** Compact a document's store once it holds this many records (see `attachStore`). */
  readonly compactEvery?: number
  /** Called with every storage failure; the documents stay usable. */
  readonly onStorageError?: (error: StorageFailure) => void
}

/** The shard documents of a Space. Implements the binding layer's {@link ShardSource}. */
export class ShardSet implements ShardSource {
  /** Origin of every local transaction of this Space. */
  readonly localOrigin: object = Object.freeze({ cabildo: 'local' })
  /** The manifest document: a Y.Map `shards` whose keys are the shard names. */
  readonly manifest: Y.Doc
  readonly #docs = new Map<string, Y.Doc>()
  readonly #opening = new Map<string, Promise<Y.Doc>>()
  readonly #attached = new Map<string, AttachedStore>()
  readonly #listeners = new Set<(name: string, doc: Y.Doc) => void>()
  readonly #options: ShardSetOptions
  /** Settles once the manifest is loaded from storage (at once without storage). */
  readonly ready: Promise<void>
  #closed = false

  /** @param options - clock, key source and storage */
  constructor(options: ShardSetOptions) {
    this.#options = options
    this.manifest = new Y.Doc({ guid: MANIFEST_DOC })
    this.ready = this.#attach(MANIFEST_DOC, this.manifest)
    // A load failure is reported by every later `open`; this only keeps it from going unhandled.
    this.ready.catch(() => undefined)
  }

  /** Loads a document from storage and keeps persisting it. A store that fails to load is never written. */
  async #attach(name: string, doc: Y.Doc): Promise<void> {
    const storage = this.#options.storage
    if (!storage) return
    const store = await storage.open(name)
    try {
      const options = {
        ...(this.#options.compactEvery === undefined ? {} : { compactEvery: this.#options.compactEvery }),
        ...(this.#options.onStorageError === undefined ? {} : { onError: this.#options.onStorageError }),
      }
      this.#attached.set(name, await attachStore(doc, store, options))
    } catch (error) {
      await store.close().catch(() => undefined)
      throw error
    }
  }

  #shardMap(): Y.Map<unknown> {
    return this.manifest.getMap<unknown>('shards')
  }

  #assertOpen(): void {
    if (this.#closed) throw new CabildoError('E_CLOSED', 'The Space is closed', { what: 'space' })
  }

  /** {@inheritDoc ShardSource.now} */
  now(): string {
    return this.#options.now().toISOString()
  }

  /** {@inheritDoc ShardSource.randomKey} */
  randomKey(): string {
    return this.#options.randomKey()
  }

  /** {@inheritDoc ShardSource.open} */
  async open(name: string): Promise<Y.Doc> {
    this.#assertOpen()
    await this.ready
    if (name === MANIFEST_DOC) return this.manifest
    const existing = this.#docs.get(name) ?? this.#opening.get(name)
    if (existing) return existing
    assertShardName(name)
    const opening = (async () => {
      const doc = new Y.Doc({ guid: name })
      try {
        await this.#attach(name, doc)
      } catch (error) {
        doc.destroy()
        throw error
      }
      this.#assertOpen()
      this.#docs.set(name, doc)
      for (const listener of [...this.#listeners]) callListener(listener, name, doc)
      return doc
    })()
    this.#opening.set(name, opening)
    try {
      return await opening
    } finally {
      this.#opening.delete(name)
    }
  }

  /**
   * Resolves once every edit made so far is durable in storage (at once without storage).
   * @throws CabildoError `E_STORAGE` when some edit still could not be stored.
   */
  async flush(): Promise<void> {
    await this.ready
    await Promise.all([...this.#attached.values()].map((attached) => attached.flush()))
  }

  /** {@inheritDoc ShardSource.register} */
  register(name: string): void {
    this.#assertOpen()
    assertShardName(name)
    const shards = this.#shardMap()
    if (!shards.has(name)) this.manifest.transact(() => shards.set(name, true), this.localOrigin)
  }

  /** {@inheritDoc ShardSource.has} */
  has(name: string): boolean {
    return this.#shardMap().has(name)
  }

  /** {@inheritDoc ShardSource.known} */
  known(scopes: readonly string[]): string[] {
    const wanted = new Set(scopes)
    const names = new Set<string>()
    for (const name of this.#shardMap().keys()) names.add(name)
    for (const name of this.#docs.keys()) names.add(name)
    return [...names].filter((name) => wanted.has(name.slice(0, name.indexOf('.')))).sort()
  }

  /** Every shard name known, sorted. */
  all(): string[] {
    return [...new Set([...this.#shardMap().keys(), ...this.#docs.keys()])].sort()
  }

  /** {@inheritDoc ShardSource.openShards} */
  openShards(): ReadonlyMap<string, Y.Doc> {
    return this.#docs
  }

  /** {@inheritDoc ShardSource.onOpen} */
  onOpen(listener: (name: string, doc: Y.Doc) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** Whether {@link ShardSet.close} was called. */
  get closed(): boolean {
    return this.#closed
  }

  /**
   * Flushes and closes every store, then destroys every document. Idempotent.
   * @throws CabildoError `E_STORAGE` when the last edits could not be stored (everything is closed anyway).
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#listeners.clear()
    await Promise.allSettled([...this.#opening.values()])
    const failures: unknown[] = []
    for (const attached of this.#attached.values()) {
      await attached.detach().catch((error: unknown) => failures.push(error))
      await attached.store.close().catch((error: unknown) => failures.push(error))
    }
    this.#attached.clear()
    for (const doc of this.#docs.values()) doc.destroy()
    this.#docs.clear()
    this.manifest.destroy()
    if (failures.length > 0) throw failures[0]
  }
}
