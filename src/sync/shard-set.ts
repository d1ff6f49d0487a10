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
import { attachStore, type AttachedStore, type KeptElsewhere, type StorageFailure } from '../storage/attach-store'
import type { Storage } from '../storage/storage'

/** The name of the manifest document, which lists the Space's shards. */
export const MANIFEST_DOC = '_manifest'

/**
 * What the layer above attaches to each document as it is created (the sync layer's writer and
 * guard): made before anything can edit the document, loaded once its stored updates are in.
 */
export interface PreparedDoc {
  /** Runs once the document's stored updates are loaded, before the document is handed out. @throws to refuse the document. */
  load(): Promise<void>
  /** Resolves once what the attachment keeps is durable. @throws `E_STORAGE` when it is not. */
  flush(): Promise<void>
  /** Releases the attachment (the set closes, or the document failed to open). */
  close(): Promise<void>
  /**
   * Optional: the document's updates the attachment keeps itself (as signed envelopes), which the
   * document's own store then does not append (see `attachStore`).
   */
  readonly kept?: KeptElsewhere
}

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
  /** Called with each document the moment it is created (the manifest included), before it can be edited. */
  readonly prepare?: (name: string, doc: Y.Doc) => PreparedDoc
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
  readonly #prepared = new Map<string, PreparedDoc>()
  readonly #listeners = new Set<(name: string, doc: Y.Doc) => void>()
  readonly #options: ShardSetOptions
  /** Settles once the manifest is loaded from storage (at once without storage). */
  readonly ready: Promise<void>
  #closed = false

  /** @param options - clock, key source and storage */
  constructor(options: ShardSetOptions) {
    this.#options = options
    this.manifest = new Y.Doc({ guid: MANIFEST_DOC })
    const prepared = this.#prepare(MANIFEST_DOC, this.manifest)
    this.ready = this.#attach(MANIFEST_DOC, this.manifest, prepared).then(() => prepared?.load())
    // A load failure is reported by every later `open`; this only keeps it from going unhandled.
    this.ready.catch(() => undefined)
  }

  /** Loads a document from storage and keeps persisting it. A store that fails to load is never written. */
  async #attach(name: string, doc: Y.Doc, prepared: PreparedDoc | undefined): Promise<void> {
    const storage = this.#options.storage
    if (!storage) return
    const store = await storage.open(name)
    try {
      const options = {
        ...(this.#options.compactEvery === undefined ? {} : { compactEvery: this.#options.compactEvery }),
        ...(this.#options.onStorageError === undefined ? {} : { onError: this.#options.onStorageError }),
        ...(prepared?.kept === undefined ? {} : { keptElsewhere: prepared.kept }),
      }
      this.#attached.set(name, await attachStore(doc, store, options))
    } catch (error) {
      await store.close().catch(() => undefined)
      throw error
    }
  }

  #prepare(name: string, doc: Y.Doc): PreparedDoc | undefined {
    const prepared = this.#options.prepare?.(name, doc)
    if (prepared) this.#prepared.set(name, prepared)
    return prepared
  }

  /** Undoes a failed open: releases what was attached to the document, then destroys it. */
  async #discard(name: string, doc: Y.Doc): Promise<void> {
    const prepared = this.#prepared.get(name)
    this.#prepared.delete(name)
    await prepared?.close().catch(() => undefined)
    const attached = this.#attached.get(name)
    this.#attached.delete(name)
    if (attached) {
      await attached.detach().catch(() => undefined)
      await attached.store.close().catch(() => undefined)
    }
    doc.destroy()
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
      const prepared = this.#prepare(name, doc)
      try {
        await this.#attach(name, doc, prepared)
        await prepared?.load()
      } catch (error) {
        await this.#discard(name, doc)
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
    await Promise.all([...this.#prepared.values()].map((prepared) => prepared.flush()))
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
    for (const prepared of this.#prepared.values()) await prepared.close().catch((error: unknown) => failures.push(error))
    this.#prepared.clear()
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
