/**
 * A typed collection of records of one type, spread over shard documents.
 *
 * ```ts
 * const ticket = await space.tickets.create({ service_code: 'streetlight', district: 'north' })
 * const same = await space.tickets.get(ticket.id)
 * const open = await space.tickets.list({ where: (t) => t.status === 'open' })
 * const off = space.tickets.observe(({ changes, origin }) => console.log(origin, changes))
 * ```
 * @module
 */
import * as Y from 'yjs'
import { CabildoError } from '../errors'
import type { RecordInput, RecordOf, RecordType } from '../schema/record-type'
import { ChangeRouter, type RecordChange } from './change-router'
import { Entity, type ChangeOrigin } from './entity'
import { recordId, shardOfId } from './record-ids'
import type { ShardSource } from './shard-source'
import { validateCreate, writeField } from './write-record'

/** What a collection's shard rule sees: the validated fields of the record being created. */
export interface ShardContext {
  /** A fresh random key, for rules that give each record its own shard (e.g. one per budget). */
  randomKey(): string
}

/** Chooses the shard document of a new record from its validated fields. Must return `<scope>.<key>`. */
export type ShardRule<T> = (record: T, context: ShardContext) => string

/**
 * What a collection may do around a create: choose the record's key (e.g. one bound to its
 * author) and write more into the shard in the same transaction (e.g. a signed act).
 */
export interface CreatePlan {
  /** The record's key (the part of the id after the shard); a random key when absent. */
  readonly key?: string
  /** Called inside the create's transaction, after the record is written. */
  readonly alsoWrite?: (doc: Y.Doc) => void
}

/** How a collection stores its records. */
export interface CollectionOptions<R extends RecordType, D extends keyof RecordInput<R> = never, A extends object = object> {
  /** The record type. */
  readonly type: R
  /** The name of the top-level Y.Map that holds this collection in each shard. */
  readonly mapName: string
  /** Shard scopes where this collection's records live (used to list them). */
  readonly scopes: readonly string[]
  /** Chooses the shard of a new record. */
  readonly shardOf: ShardRule<Omit<RecordOf<R>, 'id' | 'schemaVersion' | 'archived'>>
  /** Fills fields the caller may leave out (e.g. a creation time). */
  readonly defaults?: (context: { now: string }) => Pick<RecordInput<R>, D>
  /** A field set to the current time on every update, if any. */
  readonly touch?: keyof RecordInput<R> & string
  /** Prepares a create once its fields are valid and its shard known (may sign, so it is async). */
  readonly planCreate?: (context: { readonly shard: string; readonly fields: Readonly<Record<string, unknown>> }) => Promise<CreatePlan>
  /** Adds domain methods to every entity of the collection (e.g. `ticket.close()`). */
  readonly extend?: (entity: Entity<R>) => A
}

/** The input of a create: the record's fields, with the defaulted ones optional. */
export type CreateInput<R extends RecordType, D extends keyof RecordInput<R>> = Omit<RecordInput<R>, D> &
  Partial<Pick<RecordInput<R>, D>>

/** Options of {@link Collection.list}. */
export interface ListOptions<T> {
  /** Only these shards (default: every known shard of the collection's scopes). */
  readonly shards?: readonly string[]
  /** Keep only records whose valid value passes this test. Records with schema issues are passed as read. */
  readonly where?: (value: T | Partial<T>) => boolean
  /** Include archived records (default false). */
  readonly includeArchived?: boolean
}

/** The changes of one transaction to a collection, delivered to {@link Collection.observe} listeners. */
export interface CollectionChange {
  /** The shard where the changes happened. */
  readonly shard: string
  /** One entry per changed record. */
  readonly changes: readonly RecordChange[]
  /** Local API call or remote update. */
  readonly origin: ChangeOrigin
}

/** A typed collection of records over shard documents. */
export class Collection<R extends RecordType, D extends keyof RecordInput<R> = never, A extends object = object> {
  /** The record type. */
  readonly type: R
  readonly #options: CollectionOptions<R, D, A>
  readonly #source: ShardSource
  readonly #routers = new Map<string, ChangeRouter>()

  /** @internal Collections are created by a Space. */
  constructor(source: ShardSource, options: CollectionOptions<R, D, A>) {
    this.#source = source
    this.#options = options
    this.type = options.type
  }

  #records(doc: Y.Doc): Y.Map<unknown> {
    return doc.getMap<unknown>(this.#options.mapName)
  }

  #router(shard: string, doc: Y.Doc): ChangeRouter {
    let router = this.#routers.get(shard)
    if (!router) this.#routers.set(shard, (router = new ChangeRouter(this.#records(doc))))
    return router
  }

  #entity(shard: string, doc: Y.Doc, id: string): Entity<R> & A {
    const entity = new Entity(this.type, id, {
      records: this.#records(doc),
      doc,
      shard,
      origin: this.#source.localOrigin,
      now: () => this.#source.now(),
      touch: this.#options.touch,
      router: this.#router(shard, doc),
    })
    return Object.assign(entity, this.#options.extend?.(entity) ?? ({} as A))
  }

  /**
   * Creates a record. The input is validated first: an invalid input throws and nothing is
   * written. The record is stored in the shard chosen by the collection's shard rule.
   * @throws CabildoError `E_SCHEMA` with every issue; `E_ARGUMENT` if the shard rule gives an invalid name.
   */
  async create(input: CreateInput<R, D>): Promise<Entity<R> & A> {
    const withDefaults = { ...this.#options.defaults?.({ now: this.#source.now() }), ...input }
    const fields = validateCreate(this.type, withDefaults)
    const shard = this.#options.shardOf(fields as Omit<RecordOf<R>, 'id' | 'schemaVersion' | 'archived'>, {
      randomKey: () => this.#source.randomKey(),
    })
    const plan = (await this.#options.planCreate?.({ shard, fields })) ?? {}
    const id = recordId(shard, plan.key ?? this.#source.randomKey())
    const doc = await this.#source.open(shard)
    const records = this.#records(doc)
    if (records.has(id)) {
      throw new CabildoError('E_ARGUMENT', `A ${this.type.name} with id ${id} already exists`, { argument: 'key', reason: 'duplicate id' })
    }
    this.#source.register(shard)
    doc.transact(() => {
      const map = new Y.Map<unknown>()
      records.set(id, map)
      map.set('id', id)
      map.set('schemaVersion', this.type.version)
      for (const [key, value] of Object.entries(fields)) writeField(this.type, map, key, value)
      plan.alsoWrite?.(doc)
    }, this.#source.localOrigin)
    return this.#entity(shard, doc, id)
  }

  /**
   * The record with this id, or `undefined` when no known shard holds it. Opens the record's
   * shard if needed; never creates one.
   */
  async get(id: string): Promise<(Entity<R> & A) | undefined> {
    await this.#source.ready
    const shard = shardOfId(id)
    if (!shard || !(this.#source.has(shard) || this.#source.openShards().has(shard))) return undefined
    const doc = await this.#source.open(shard)
    return this.#records(doc).get(id) instanceof Y.Map ? this.#entity(shard, doc, id) : undefined
  }

  /**
   * The record with this id.
   * @throws CabildoError `E_NOT_FOUND` when no known shard holds it.
   */
  async require(id: string): Promise<Entity<R> & A> {
    const entity = await this.get(id)
    if (!entity) throw new CabildoError('E_NOT_FOUND', `No ${this.type.name} with id ${id}`, { kind: this.type.name, id })
    return entity
  }

  /**
   * The records of the collection, opening the shards that hold them.
   * Sorted by id, so every replica lists the same records in the same order.
   */
  async list(options: ListOptions<RecordOf<R>> = {}): Promise<Array<Entity<R> & A>> {
    await this.#source.ready
    const shards = options.shards ?? this.#source.known(this.#options.scopes)
    const out: Array<Entity<R> & A> = []
    for (const shard of shards) {
      if (!this.#source.has(shard) && !this.#source.openShards().has(shard)) continue
      const doc = await this.#source.open(shard)
      const ids = [...this.#records(doc).keys()].sort()
      for (const id of ids) {
        const entity = this.#entity(shard, doc, id)
        if (!options.includeArchived && entity.archived) continue
        if (options.where && !options.where(entity.get().value)) continue
        out.push(entity)
      }
    }
    return out
  }

  /**
   * Calls `listener` after every transaction that changes records of this collection, in every
   * shard open now or opened later. Returns the unsubscribe function.
   */
  observe(listener: (change: CollectionChange) => void): () => void {
    const offs: Array<() => void> = []
    const attach = (shard: string, doc: Y.Doc): void => {
      offs.push(this.#router(shard, doc).onAny((changes, origin) => listener({ shard, changes, origin })))
    }
    for (const [shard, doc] of this.#source.openShards()) attach(shard, doc)
    offs.push(this.#source.onOpen(attach))
    return () => {
      for (const off of offs.splice(0)) off()
    }
  }

  /** @internal Releases observers; called by the Space when it closes. */
  dispose(): void {
    for (const router of this.#routers.values()) router.dispose()
    this.#routers.clear()
  }
}
