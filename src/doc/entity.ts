/**
 * A typed handle on one record stored in a shard document.
 *
 * ```ts
 * const ticket = await space.tickets.create({ service_code: 'pothole', district: 'north' })
 * ticket.update({ status_notes: 'crew scheduled' })
 * const { valid, value, issues } = ticket.get()
 * const off = ticket.observe(({ fields, origin }) => console.log(fields, origin))
 * ```
 * @module
 */
import * as Y from 'yjs'
import { CabildoError } from '../errors'
import { fieldKind, type FieldsOfKind, type RecordOf, type RecordPatch, type RecordType } from '../schema/record-type'
import { migrateRaw, rawFields, readRecord, type ReadResult } from './read-record'
import type { ChangeRouter } from './change-router'
import { appendLogEntry, validatePatch, writeField } from './write-record'

/** Where a change came from: this replica's API, or an update received from elsewhere. */
export type ChangeOrigin = 'local' | 'remote'

/** What changed in one record, delivered to {@link Entity.observe} listeners. */
export interface EntityChange {
  /** The record's id. */
  readonly id: string
  /** Names of the fields that changed (top-level field names, base fields included). */
  readonly fields: readonly string[]
  /** Whether the change was made through this replica's API or arrived from elsewhere. */
  readonly origin: ChangeOrigin
}

/** What an entity needs from its collection. */
export interface EntityContext {
  /** The collection map (`id → record map`) in the shard document. */
  readonly records: Y.Map<unknown>
  /** The shard document. */
  readonly doc: Y.Doc
  /** The shard's name. */
  readonly shard: string
  /** Origin used for local transactions. */
  readonly origin: object
  /** Current time as ISO 8601, for the touch field. */
  now(): string
  /** A field set to the current time on every update (e.g. `updated_datetime`), if any. */
  readonly touch: string | undefined
  /** The shard's change router for this collection. */
  readonly router: ChangeRouter
}

/** A typed handle on one record. Cheap to create; reads always reflect the document's current state. */
export class Entity<R extends RecordType> {
  /** The record's id (`<shard>/<key>`). */
  readonly id: string
  /** The record type. */
  readonly type: R
  readonly #ctx: EntityContext

  /** @internal Entities are obtained from a Collection. */
  constructor(type: R, id: string, ctx: EntityContext) {
    this.type = type
    this.id = id
    this.#ctx = ctx
  }

  /** The name of the shard document that holds the record. */
  get shard(): string {
    return this.#ctx.shard
  }

  #map(): Y.Map<unknown> | undefined {
    const map = this.#ctx.records.get(this.id)
    return map instanceof Y.Map ? map : undefined
  }

  #requireMap(): Y.Map<unknown> {
    const map = this.#map()
    if (!map) throw new CabildoError('E_NOT_FOUND', `Record ${this.id} is not in its shard`, { kind: this.type.name, id: this.id })
    return map
  }

  /**
   * Reads the record tolerantly: `{ valid: true, value }` when every field passes the schema,
   * otherwise the readable fields plus one issue per failing field. Never throws on bad data.
   */
  get(): ReadResult<RecordOf<R>> {
    const map = this.#map()
    if (!map) {
      return { valid: false, value: {}, issues: [{ path: [], code: 'missing_record', message: `record ${this.id} is not in its shard` }], extra: {} }
    }
    return readRecord(this.type, map)
  }

  /** Whether the record is archived (hidden from lists by default). */
  get archived(): boolean {
    return this.#map()?.get('archived') === true
  }

  #transact(write: (map: Y.Map<unknown>) => void): void {
    const map = this.#requireMap()
    this.#ctx.doc.transact(() => {
      write(map)
      this.#upgradeVersion(map)
      if (this.#ctx.touch) map.set(this.#ctx.touch, this.#ctx.now())
    }, this.#ctx.origin)
  }

  /**
   * Records written by an older app are upgraded when this app writes them: migrated fields are
   * written, the version is raised, and fields this app does not know are left as they are.
   * A newer app's version is never lowered.
   */
  #upgradeVersion(map: Y.Map<unknown>): void {
    const stored = map.get('schemaVersion')
    if (typeof stored === 'number' && stored >= this.type.version) return
    const before = rawFields(this.type, map)
    const { raw, issues } = migrateRaw(this.type, before)
    if (issues.length === 0) {
      for (const [key, value] of Object.entries(raw)) {
        if (key === 'schemaVersion' || fieldKind(this.type, key) !== 'scalar') continue
        if (JSON.stringify(before[key]) !== JSON.stringify(value)) writeField(this.type, map, key, value)
      }
    }
    map.set('schemaVersion', this.type.version)
  }

  /**
   * Changes some fields. Each field is validated against its schema first; an invalid patch
   * throws and changes nothing. `undefined` clears an optional field. Text fields given here
   * are replaced whole: use {@link Entity.text} to edit them collaboratively.
   * @throws CabildoError `E_SCHEMA` (with every issue), `E_NOT_FOUND` if the record vanished.
   */
  update(patch: RecordPatch<R>): void {
    const fields = validatePatch(this.type, patch)
    this.#transact((map) => {
      for (const [key, value] of Object.entries(fields)) writeField(this.type, map, key, value)
    })
  }

  /**
   * The collaborative Y.Text of a text field: edits by several people merge character by
   * character. Its length is checked by the schema when read, not while typing.
   * @throws CabildoError `E_ARGUMENT` when `field` is not a text field.
   */
  text(field: FieldsOfKind<R, 'text'>): Y.Text {
    if (fieldKind(this.type, field) !== 'text') {
      throw new CabildoError('E_ARGUMENT', `${this.type.name}.${field} is not a text field`, { argument: 'field', reason: 'not a text field' })
    }
    const map = this.#requireMap()
    const current = map.get(field)
    if (current instanceof Y.Text) return current
    const text = new Y.Text(typeof current === 'string' ? current : '')
    this.#ctx.doc.transact(() => map.set(field, text), this.#ctx.origin)
    return text
  }

  #validateMembers(field: string, next: unknown[]): void {
    validatePatch(this.type, { [field]: next })
  }

  /**
   * Adds a member to a set field. Concurrent adds and removes of different members all merge.
   * @throws CabildoError `E_SCHEMA` when the member is invalid or the set would be too large.
   */
  addToSet(field: FieldsOfKind<R, 'set'>, member: string): void {
    const current = (this.get().value as Record<string, unknown>)[field]
    const members = Array.isArray(current) ? current : []
    this.#validateMembers(field, [...members, member])
    this.#transact((map) => {
      let set = map.get(field)
      if (!(set instanceof Y.Map)) {
        set = new Y.Map<true>()
        map.set(field, set)
      }
      ;(set as Y.Map<unknown>).set(member, true)
    })
  }

  /** Removes a member from a set field (no-op when absent). */
  removeFromSet(field: FieldsOfKind<R, 'set'>, member: string): void {
    this.#transact((map) => {
      const set = map.get(field)
      if (set instanceof Y.Map) set.delete(member)
    })
  }

  /**
   * Appends items to a list field. Concurrent appends are all kept.
   * @throws CabildoError `E_SCHEMA` when an item is invalid or the list would be too long.
   */
  pushToList(field: FieldsOfKind<R, 'list'>, ...items: unknown[]): void {
    const current = (this.get().value as Record<string, unknown>)[field]
    this.#validateMembers(field, [...(Array.isArray(current) ? current : []), ...items])
    this.#transact((map) => {
      let list = map.get(field)
      if (!(list instanceof Y.Array)) {
        list = new Y.Array<unknown>()
        map.set(field, list)
      }
      ;(list as Y.Array<unknown>).push(items)
    })
  }

  /**
   * Appends an entry to a log field under its content hash: appending the same entry twice
   * (here or on another replica) yields one entry.
   * @returns the entry's content hash.
   * @throws CabildoError `E_SCHEMA` when the entry is invalid.
   */
  appendToLog(field: FieldsOfKind<R, 'log'>, entry: unknown): string {
    const current = (this.get().value as Record<string, unknown>)[field]
    this.#validateMembers(field, [...(Array.isArray(current) ? current : []), entry])
    let hash = ''
    this.#transact((map) => {
      let log = map.get(field)
      if (!(log instanceof Y.Map)) {
        log = new Y.Map<unknown>()
        map.set(field, log)
      }
      hash = appendLogEntry(log as Y.Map<unknown>, entry)
    })
    return hash
  }

  /** Archives the record: it stays in the document, hidden from lists unless asked for. */
  archive(): void {
    this.#transact((map) => map.set('archived', true))
  }

  /** Restores an archived record. */
  restore(): void {
    this.#transact((map) => map.delete('archived'))
  }

  /**
   * Calls `listener` after every transaction that changes this record, with the changed field
   * names and whether the change was local or remote. Returns the unsubscribe function.
   */
  observe(listener: (change: EntityChange) => void): () => void {
    return this.#ctx.router.onRecord(this.id, (fields, origin) => listener({ id: this.id, fields, origin }))
  }
}
