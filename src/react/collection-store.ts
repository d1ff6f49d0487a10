/**
 * A live list of one collection's records, kept up to date record by record, for UI bindings.
 *
 * ```ts
 * const store = collectionStore(space.tickets)
 * const off = store.subscribe(() => console.log(store.getSnapshot().items.length))
 * off() // the last unsubscribe releases the collection observer
 * ```
 *
 * The store lists the records once (`collection.list`), then follows `collection.observe`: a
 * change re-reads only the records it names, and every record that did not change keeps its
 * item object, so memoized rows of unchanged records do not re-render.
 * @module
 */
import type { CollectionChange, ListOptions } from '../doc/collection'
import type { Entity } from '../doc/entity'
import type { ReadResult } from '../doc/read-record'
import type { RecordOf, RecordType } from '../schema/record-type'
import { ExternalStore, shareWhileRunning, type StoreLifecycle } from './external-store'
import { sameData } from './same-data'

/** What the stores need from a collection: the read side of `Collection`. */
export interface CollectionSource<R extends RecordType, A extends object> {
  /** Lists entities (see `Collection.list`). */
  list(options?: ListOptions<RecordOf<R>>): Promise<Array<Entity<R> & A>>
  /** One entity by id, `undefined` when no known shard holds it (see `Collection.get`). */
  get(id: string): Promise<(Entity<R> & A) | undefined>
  /** Calls `listener` after each transaction that changes records; returns the unsubscribe function. */
  observe(listener: (change: CollectionChange) => void): () => void
}

/**
 * One record as a list shows it: the tolerant read of the record (`valid`, `value`, `issues`,
 * `extra`, see `Entity.get`) plus where it lives, whether it is archived, and its entity handle
 * (for edits and domain acts). The same object until the record changes.
 */
export type CollectionItem<R extends RecordType, A extends object = object> = ReadResult<RecordOf<R>> & {
  /** The record's id (`<shard>/<key>`). */
  readonly id: string
  /** The shard document holding it. */
  readonly shard: string
  /** Whether it is archived. */
  readonly archived: boolean
  /** The entity handle: `update`, `text`, and the collection's acts (`close()`, `publish()`, ...). */
  readonly entity: Entity<R> & A
}

/** A snapshot of a {@link CollectionStore}: every record of its shards, archived ones included. */
export interface CollectionStoreState<R extends RecordType, A extends object = object> {
  /** Every record, sorted as `Collection.list` sorts them: by shard, then by id. */
  readonly items: readonly CollectionItem<R, A>[]
  /** True until the first listing finished. */
  readonly loading: boolean
  /** Why the listing failed (e.g. a `CabildoError` `E_CLOSED` or `E_STORAGE`); `undefined` when it did not. */
  readonly error: unknown
}

function itemOf<R extends RecordType, A extends object>(entity: Entity<R> & A): CollectionItem<R, A> {
  return { ...entity.get(), id: entity.id, shard: entity.shard, archived: entity.archived, entity }
}

function sameItem<R extends RecordType, A extends object>(a: CollectionItem<R, A>, b: CollectionItem<R, A>): boolean {
  return a.entity === b.entity && a.valid === b.valid && a.archived === b.archived && sameData(a.value, b.value) && sameData(a.issues, b.issues) && sameData(a.extra, b.extra)
}

/**
 * The records of a collection in some shards (every shard of the collection by default), as a
 * store for `useSyncExternalStore`. Records appear when they are created here or arrive by sync
 * into a shard that is open; records are never removed (cabildo archives instead of deleting).
 */
export class CollectionStore<R extends RecordType, A extends object = object> extends ExternalStore<CollectionStoreState<R, A>> {
  readonly #collection: CollectionSource<R, A>
  readonly #shards: readonly string[] | undefined
  readonly #entities = new Map<string, Entity<R> & A>()
  readonly #items = new Map<string, CollectionItem<R, A>>()
  /** Ids whose entity handle is being fetched (records that appeared after the listing). */
  readonly #adopting = new Set<string>()
  readonly #lifecycle: StoreLifecycle
  #off: (() => void) | undefined
  /** Bumped at every start and stop: work begun in an earlier run publishes nothing. */
  #run = 0
  #order: string[] = []

  /**
   * @param shards - only these shards, in this order (default: every known shard of the collection)
   * @param lifecycle - told when the store starts and stops (a registry shares it only while it runs)
   */
  constructor(collection: CollectionSource<R, A>, shards?: readonly string[], lifecycle: StoreLifecycle = {}) {
    super({ items: [], loading: true, error: undefined })
    this.#collection = collection
    this.#shards = shards
    this.#lifecycle = lifecycle
  }

  protected start(): void {
    const run = ++this.#run
    this.#lifecycle.started?.()
    // Observe before listing, so nothing that happens while the listing runs is missed.
    this.#off = this.#collection.observe((change) => this.#changed(change))
    this.#collection.list({ ...(this.#shards === undefined ? {} : { shards: this.#shards }), includeArchived: true }).then(
      (entities) => {
        if (run !== this.#run) return
        for (const entity of entities) this.#adopt(entity)
        this.#publishItems(false, undefined)
      },
      (error: unknown) => {
        if (run === this.#run) this.#publishItems(false, error)
      },
    )
  }

  protected stop(): void {
    this.#run++
    this.#off?.()
    this.#off = undefined
    this.#adopting.clear()
    this.#lifecycle.stopped?.()
  }

  #inScope(shard: string): boolean {
    return this.#shards === undefined || this.#shards.includes(shard)
  }

  /** Reads an entity's record; true when its item changed. */
  #adopt(entity: Entity<R> & A): boolean {
    this.#entities.set(entity.id, entity)
    const before = this.#items.get(entity.id)
    const after = itemOf(entity)
    if (before && sameItem(before, after)) return false
    this.#items.set(entity.id, after)
    return true
  }

  #changed({ shard, changes }: CollectionChange): void {
    if (!this.#inScope(shard)) return
    let changed = false
    for (const { id } of changes) {
      const entity = this.#entities.get(id)
      if (entity) changed = this.#adopt(entity) || changed
      else this.#fetch(id)
    }
    if (changed) this.#publishItems(this.getSnapshot().loading, this.getSnapshot().error)
  }

  /** A record this store has no handle for yet appeared: get one (its shard is open, so this is quick). */
  #fetch(id: string): void {
    if (this.#adopting.has(id)) return
    this.#adopting.add(id)
    const run = this.#run
    this.#collection.get(id).then(
      (entity) => {
        if (run !== this.#run || !this.#adopting.delete(id) || !entity) return
        // The read happens now, so changes made while the handle was on its way are included.
        if (this.#adopt(entity)) this.#publishItems(this.getSnapshot().loading, this.getSnapshot().error)
      },
      (error: unknown) => {
        if (run !== this.#run) return
        this.#adopting.delete(id)
        this.#publishItems(this.getSnapshot().loading, error)
      },
    )
  }

  #publishItems(loading: boolean, error: unknown): void {
    const previous = this.getSnapshot()
    if (this.#order.length !== this.#items.size) this.#order = this.#sorted()
    const items = this.#order.map((id) => this.#items.get(id) as CollectionItem<R, A>)
    const same = items.length === previous.items.length && items.every((item, i) => item === previous.items[i])
    if (same && loading === previous.loading && Object.is(error, previous.error)) return
    this.publish({ items: same ? previous.items : items, loading, error })
  }

  /** Ids in the order of `Collection.list`: by shard (the given order, else by name), then by id. */
  #sorted(): string[] {
    const rank = (shard: string): number => this.#shards?.indexOf(shard) ?? 0
    return [...this.#items.values()]
      .sort((a, b) => rank(a.shard) - rank(b.shard) || compare(a.shard, b.shard) || compare(a.id, b.id))
      .map((item) => item.id)
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

const registry = new WeakMap<object, Map<string, CollectionStore<RecordType, object>>>()

/**
 * The shared store of a collection's records in `shards` (all of its shards when absent): every
 * caller asking for the same collection and shards while the store has listeners gets the same
 * store, so a list shown twice is read and observed once.
 */
export function collectionStore<R extends RecordType, A extends object>(collection: CollectionSource<R, A>, shards?: readonly string[]): CollectionStore<R, A> {
  let stores = registry.get(collection)
  if (!stores) registry.set(collection, (stores = new Map()))
  const key = shards === undefined ? '*' : JSON.stringify(shards)
  const existing = stores.get(key)
  if (existing) return existing as unknown as CollectionStore<R, A>
  const own = stores
  const store: CollectionStore<R, A> = new CollectionStore(collection, shards, shareWhileRunning(own, key, () => store as unknown as CollectionStore<RecordType, object>))
  own.set(key, store as unknown as CollectionStore<RecordType, object>)
  return store
}
