/**
 * A live view of one record for UI bindings: its tolerant read, and, for records whose entity
 * has a `resolve()` (tickets, proposals, processes, budgets, comments), the last resolved view
 * of its signed acts.
 *
 * ```ts
 * const store = entityStore(space, space.tickets, ticketId)
 * const off = store.subscribe(() => {
 *   const { value, view, resolving } = store.getSnapshot()
 *   console.log(value.status, view?.status, resolving)
 * })
 * ```
 *
 * `resolve()` is async and reads more than the record: the shard's act log, the district roster
 * (the manifest's act log) and other records of the shard (a budget's projects). The store
 * resolves again when any of these changes, one resolution at a time, the last one winning.
 * `resolving` is set only by changes that concern this record: its own fields, and acts whose
 * payload names its id. Other changes (a role granted, an act about another record of the shard,
 * a record added beside it) are resolved in the background, and publish a new snapshot only when
 * the view actually changed, so a component showing record B does not re-render for record A.
 * @module
 */
import * as Y from 'yjs'
import { ACT_LOG, actLogOf } from '../civic/act-log'
import type { Entity } from '../doc/entity'
import type { ReadResult } from '../doc/read-record'
import type { SchemaIssue } from '../errors'
import type { Conflict, Rejected } from '../policy/merge-policy'
import type { RecordOf, RecordType } from '../schema/record-type'
import { MANIFEST_DOC } from '../sync/shard-set'
import type { Space } from '../sync/space'
import type { CollectionSource } from './collection-store'
import { ExternalStore, shareWhileRunning, type StoreLifecycle } from './external-store'
import { sameData } from './same-data'

type Resolvable<V = unknown> = {
  /** Computes the entity's resolved view. */
  resolve(): Promise<V>
}

/** The view an entity's `resolve()` gives (`never` for entities without one). */
export type ResolvedView<A> = A extends Resolvable<infer V> ? V : never

/**
 * Where a record stands: `loading` until its handle was looked up, `ready` once found,
 * `missing` while no open or known shard holds it (it may still arrive by sync).
 */
export type EntityStatus = 'loading' | 'ready' | 'missing'

/**
 * A snapshot of one record: its tolerant read (`valid`, `value`, `issues`, `extra`, as
 * `Entity.get` gives them) and, when its entity has a `resolve()`, the last resolved view.
 * The same object until something in it changes.
 */
export type EntityState<R extends RecordType, A extends object = object> = ReadResult<RecordOf<R>> & {
  /** The record's id. */
  readonly id: string
  /** See {@link EntityStatus}. */
  readonly status: EntityStatus
  /** The entity handle, once found: edits and domain acts (`close()`, `publish()`, ...). */
  readonly entity: (Entity<R> & A) | undefined
  /** Whether the record is archived. */
  readonly archived: boolean
  /** The last view `resolve()` gave; `undefined` before the first resolution, or when the entity has no `resolve()`. */
  readonly view: ResolvedView<A> | undefined
  /** The view's conflicts (records that did not simply win), when the view has them. */
  readonly conflicts: readonly Conflict[] | undefined
  /** The view's rejected records (with their codes), when the view has them. */
  readonly rejected: readonly Rejected[] | undefined
  /** True while a resolution is due for a change that concerns this record (and before the first one). */
  readonly resolving: boolean
  /** What the last lookup or resolution threw (e.g. a `CabildoError` `E_CLOSED`); `undefined` when it succeeded. */
  readonly error: unknown
}


function isResolvable(entity: object): entity is Resolvable {
  return typeof (entity as Partial<Resolvable>).resolve === 'function'
}

const noIssues: readonly SchemaIssue[] = []

function listOf<T>(view: unknown, key: 'conflicts' | 'rejected'): readonly T[] | undefined {
  const list = typeof view === 'object' && view !== null ? (view as Record<string, unknown>)[key] : undefined
  return Array.isArray(list) ? (list as T[]) : undefined
}

/** Whether an act-log value is an act about `id`: a top-level payload field names it (`{ ticket: id }`, `{ proposal: id }`, ...). */
function actNames(value: unknown, id: string): boolean {
  const payload = typeof value === 'object' && value !== null ? (value as { payload?: unknown }).payload : undefined
  return typeof payload === 'object' && payload !== null && Object.values(payload).includes(id)
}

/** The keys a transaction set or deleted directly in `type` (for a map: its entries), if it touched it. */
function changedKeys(tr: Y.Transaction, type: object): Set<string | null> | undefined {
  return (tr.changed as ReadonlyMap<object, Set<string | null>>).get(type)
}

/** The store behind `useEntity`: one record, its resolved view, and the subscriptions that keep them current. */
export class EntityStore<R extends RecordType, A extends object = object> extends ExternalStore<EntityState<R, A>> {
  readonly #space: Space
  readonly #collection: CollectionSource<R, A>
  readonly #id: string
  readonly #lifecycle: StoreLifecycle
  readonly #offs: Array<() => void> = []
  /** Bumped at every start and stop: work begun in an earlier run publishes nothing. */
  #run = 0
  #entity: (Entity<R> & A) | undefined
  #looking = false
  #lookAgain = false
  /** Resolution bookkeeping: requests made, requests a finished resolution covers, the last request that sets `resolving`. */
  #requested = 0
  #covered = 0
  #visibleAt = 0
  /** The run whose resolution loop is active (0: none). */
  #resolvingRun = 0

  /**
   * @param space - the Space whose documents hold the record (for its shard's and the manifest's act logs)
   * @param lifecycle - told when the store starts and stops
   */
  constructor(space: Space, collection: CollectionSource<R, A>, id: string, lifecycle: StoreLifecycle = {}) {
    super({ id, status: 'loading', entity: undefined, archived: false, valid: false, value: {}, issues: noIssues, extra: {}, view: undefined, conflicts: undefined, rejected: undefined, resolving: false, error: undefined })
    this.#space = space
    this.#collection = collection
    this.#id = id
    this.#lifecycle = lifecycle
  }

  protected start(): void {
    const run = ++this.#run
    this.#lifecycle.started?.()
    if (this.#entity) {
      this.#attach(run, this.#entity)
      return
    }
    // Until the record is found, watch its collection for it (it may arrive by sync).
    this.#offs.push(
      this.#collection.observe(({ changes }) => {
        if (!this.#entity && changes.some((c) => c.id === this.#id)) this.#lookUp(run)
      }),
    )
    this.#lookUp(run)
  }

  protected stop(): void {
    this.#run++
    this.#looking = false
    for (const off of this.#offs.splice(0)) off()
    this.#lifecycle.stopped?.()
  }

  #update(patch: Partial<EntityState<R, A>>): void {
    const current = this.getSnapshot()
    const changed = (Object.keys(patch) as Array<keyof EntityState<R, A>>).some((key) => !Object.is(patch[key], current[key]))
    if (changed) this.publish({ ...current, ...patch } as EntityState<R, A>)
  }

  #lookUp(run: number): void {
    if (this.#looking) {
      // The lookup in flight may have checked the shard before this change: look again after it.
      this.#lookAgain = true
      return
    }
    this.#looking = true
    this.#lookAgain = false
    this.#collection.get(this.#id).then(
      (entity) => {
        if (run !== this.#run) return
        this.#looking = false
        if (this.#entity) return
        if (!entity && this.#lookAgain) return this.#lookUp(run)
        if (!entity) {
          const missing = { path: [], code: 'missing_record', message: `record ${this.#id} is not in any known shard` }
          this.#update({ status: 'missing', issues: [missing], error: undefined })
          return
        }
        this.#entity = entity
        for (const off of this.#offs.splice(0)) off()
        this.#attach(run, entity)
      },
      (error: unknown) => {
        if (run !== this.#run) return
        this.#looking = false
        this.#update({ error })
      },
    )
  }

  /** Follows a found entity: its record, and what its resolved view depends on. */
  #attach(run: number, entity: Entity<R> & A): void {
    this.#offs.push(entity.observe(() => this.#read(true)))
    this.#read(false)
    if (!isResolvable(entity)) return
    this.#update({ resolving: true })
    Promise.all([this.#space.doc(entity.shard), this.#space.doc(MANIFEST_DOC)]).then(
      ([doc, manifest]) => {
        if (run !== this.#run) return
        this.#watchShard(doc)
        const roster = actLogOf(manifest)
        const onRoster = (): void => this.#request(false)
        roster.observe(onRoster)
        this.#offs.push(() => roster.unobserve(onRoster))
        // Resolve once everything the view depends on is watched: nothing can slip in between.
        this.#request(true)
      },
      (error: unknown) => {
        if (run === this.#run) this.#update({ error, resolving: false })
      },
    )
  }

  /**
   * Resolves again after each transaction of the shard that added acts (visibly when an act
   * names this record) or added records to another collection of the shard (e.g. a budget's
   * projects). Edits inside other records of the same collection are ignored: they cannot
   * change this record's view.
   */
  #watchShard(doc: Y.Doc): void {
    const log = actLogOf(doc)
    const own = [...doc.share].find(([, type]) => type instanceof Y.Map && type.get(this.#id) instanceof Y.Map)?.[0]
    const onTransaction = (tr: Y.Transaction): void => {
      const acts = changedKeys(tr, log)
      if (acts) {
        const mine = [...acts].some((key) => key !== null && actNames(log.get(key), this.#id))
        this.#request(mine)
        if (mine) return
      }
      for (const [name, type] of doc.share) {
        if (name === own || name === ACT_LOG) continue
        const keys = changedKeys(tr, type)
        if (keys && [...keys].some((key) => key !== null)) return this.#request(false)
      }
    }
    doc.on('afterTransaction', onTransaction)
    this.#offs.push(() => doc.off('afterTransaction', onTransaction))
  }

  /** Re-reads the record; a change to it asks for a visible resolution. */
  #read(changed: boolean): void {
    const entity = this.#entity
    if (!entity) return
    const read = entity.get()
    const current = this.getSnapshot()
    const same = current.status === 'ready' && current.valid === read.valid && current.archived === entity.archived && sameData(current.value, read.value) && sameData(current.issues, read.issues) && sameData(current.extra, read.extra)
    // One snapshot for the new value and the resolution it calls for.
    const resolving = isResolvable(entity) && changed && !same ? true : current.resolving
    this.#update({
      status: 'ready',
      entity,
      archived: entity.archived,
      valid: same ? current.valid : read.valid,
      value: same ? current.value : read.value,
      issues: same ? current.issues : read.issues,
      extra: same ? current.extra : read.extra,
      resolving,
    } as Partial<EntityState<R, A>>)
    if (changed && !same && isResolvable(entity)) this.#request(true)
  }

  /**
   * Asks for a resolution. Requests made in one burst (the record and the act log change in one
   * transaction) are served by one resolution: the loop starts in a microtask.
   */
  #request(visible: boolean): void {
    this.#requested++
    if (visible) {
      this.#visibleAt = this.#requested
      this.#update({ resolving: true })
    }
    const run = this.#run
    if (this.#resolvingRun === run) return
    this.#resolvingRun = run
    queueMicrotask(() => void this.#resolveLoop(run))
  }

  async #resolveLoop(run: number): Promise<void> {
    try {
      while (run === this.#run && this.#covered < this.#requested) {
        const target = this.#requested
        const entity = this.#entity as (Entity<R> & A & Resolvable) | undefined
        if (!entity) return
        let outcome: { readonly view: unknown } | { readonly error: unknown }
        try {
          outcome = { view: await entity.resolve() }
        } catch (error) {
          outcome = { error }
        }
        if (run !== this.#run) return
        this.#covered = target
        const current = this.getSnapshot()
        const resolving = this.#visibleAt > target
        if (!('view' in outcome)) {
          this.#update({ error: outcome.error, resolving })
          continue
        }
        const view = outcome.view
        const next = sameData(current.view, view) ? current.view : (view as ResolvedView<A>)
        this.#update({ view: next, conflicts: listOf<Conflict>(next, 'conflicts'), rejected: listOf<Rejected>(next, 'rejected'), resolving, error: undefined })
      }
    } finally {
      if (this.#resolvingRun === run) this.#resolvingRun = 0
    }
  }
}

const registry = new WeakMap<Space, WeakMap<object, Map<string, EntityStore<RecordType, object>>>>()

/**
 * The shared store of record `id` of `collection` in `space`: every caller asking for the same
 * record while the store has listeners gets the same store, so a record shown in several places
 * is read, observed and resolved once.
 */
export function entityStore<R extends RecordType, A extends object>(space: Space, collection: CollectionSource<R, A>, id: string): EntityStore<R, A> {
  let byCollection = registry.get(space)
  if (!byCollection) registry.set(space, (byCollection = new WeakMap()))
  let stores = byCollection.get(collection)
  if (!stores) byCollection.set(collection, (stores = new Map()))
  const existing = stores.get(id)
  if (existing) return existing as unknown as EntityStore<R, A>
  const store: EntityStore<R, A> = new EntityStore(space, collection, id, shareWhileRunning(stores, id, () => store as unknown as EntityStore<RecordType, object>))
  stores.set(id, store as unknown as EntityStore<RecordType, object>)
  return store
}
