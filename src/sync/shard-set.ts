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

/** The name of the manifest document, which lists the Space's shards. */
export const MANIFEST_DOC = '_manifest'

/** How a shard set gets the time and fresh keys. */
export interface ShardSetOptions {
  /** The current time (injected so tests and simulations control it). */
  readonly now: () => Date
  /** Fresh random keys for records and shards. */
  readonly randomKey: () => string
}

/** The shard documents of a Space. Implements the binding layer's {@link ShardSource}. */
export class ShardSet implements ShardSource {
  /** Origin of every local transaction of this Space. */
  readonly localOrigin: object = Object.freeze({ cabildo: 'local' })
  /** The manifest document: a Y.Map `shards` whose keys are the shard names. */
  readonly manifest: Y.Doc
  readonly #docs = new Map<string, Y.Doc>()
  readonly #listeners = new Set<(name: string, doc: Y.Doc) => void>()
  readonly #options: ShardSetOptions
  #closed = false

  /** @param options - clock and key source */
  constructor(options: ShardSetOptions) {
    this.#options = options
    this.manifest = new Y.Doc({ guid: MANIFEST_DOC })
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
    if (name === MANIFEST_DOC) return this.manifest
    const existing = this.#docs.get(name)
    if (existing) return existing
    assertShardName(name)
    const doc = new Y.Doc({ guid: name })
    this.#docs.set(name, doc)
    for (const listener of [...this.#listeners]) callListener(listener, name, doc)
    return doc
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

  /** Destroys every document. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#listeners.clear()
    for (const doc of this.#docs.values()) doc.destroy()
    this.#docs.clear()
    this.manifest.destroy()
  }
}
