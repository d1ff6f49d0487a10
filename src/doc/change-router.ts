/**
 * One deep observer per collection map, routing changes to record and collection listeners.
 *
 * Attaching one Yjs observer per entity would cost every listener every change; the router
 * observes once and dispatches by record id. Listeners are isolated: one that throws does not
 * stop the others, and its error is reported asynchronously (like `EventTarget` does).
 * @module
 */
import type * as Y from 'yjs'
import type { ChangeOrigin } from './entity'

/** The changes of one transaction to one record. */
export interface RecordChange {
  /** The record's id. */
  readonly id: string
  /** `added`: the record appeared in this shard; `updated`: some of its fields changed. */
  readonly kind: 'added' | 'updated'
  /** Changed top-level fields (empty for `added`). */
  readonly fields: readonly string[]
}

/** Reports an error thrown by a listener without interrupting the caller. */
export function reportListenerError(error: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError
  if (typeof report === 'function') report(error)
  else
    queueMicrotask(() => {
      throw error
    })
}

/** Calls a listener, reporting (not propagating) what it throws. */
export function callListener<A extends unknown[]>(listener: (...args: A) => void, ...args: A): void {
  try {
    listener(...args)
  } catch (error) {
    reportListenerError(error)
  }
}

/** Routes the changes of one collection map to listeners. */
export class ChangeRouter {
  readonly #records: Y.Map<unknown>
  readonly #byRecord = new Map<string, Set<(fields: readonly string[], origin: ChangeOrigin) => void>>()
  readonly #all = new Set<(changes: readonly RecordChange[], origin: ChangeOrigin) => void>()
  #attached = false

  /** @param records - the collection map (`id → record map`) */
  constructor(records: Y.Map<unknown>) {
    this.#records = records
  }

  readonly #handler = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>, tr: Y.Transaction): void => {
    const changes = new Map<string, { kind: 'added' | 'updated'; fields: Set<string> }>()
    const touch = (id: string, kind: 'added' | 'updated'): Set<string> => {
      let change = changes.get(id)
      if (!change) changes.set(id, (change = { kind, fields: new Set() }))
      else if (kind === 'added') change.kind = 'added'
      return change.fields
    }
    for (const event of events) {
      const path = event.path
      if (path.length === 0) {
        for (const [id, change] of event.changes.keys) if (change.action !== 'delete') touch(id, 'added')
      } else {
        const id = String(path[0])
        const fields = touch(id, 'updated')
        if (path.length === 1) for (const key of event.changes.keys.keys()) fields.add(key)
        else fields.add(String(path[1]))
      }
    }
    if (changes.size === 0) return
    const origin: ChangeOrigin = tr.local ? 'local' : 'remote'
    const list: RecordChange[] = []
    for (const [id, change] of changes) {
      const fields = change.kind === 'added' ? [] : [...change.fields].sort()
      list.push({ id, kind: change.kind, fields })
      const listeners = this.#byRecord.get(id)
      if (listeners) for (const listener of [...listeners]) callListener(listener, change.kind === 'added' ? ['*'] : fields, origin)
    }
    for (const listener of [...this.#all]) callListener(listener, list, origin)
  }

  #attach(): void {
    if (!this.#attached) {
      this.#records.observeDeep(this.#handler)
      this.#attached = true
    }
  }

  #detachIfIdle(): void {
    if (this.#attached && this.#all.size === 0 && this.#byRecord.size === 0) {
      this.#records.unobserveDeep(this.#handler)
      this.#attached = false
    }
  }

  /** Listens to changes of one record. Returns the unsubscribe function. */
  onRecord(id: string, listener: (fields: readonly string[], origin: ChangeOrigin) => void): () => void {
    let set = this.#byRecord.get(id)
    if (!set) this.#byRecord.set(id, (set = new Set()))
    set.add(listener)
    this.#attach()
    return () => {
      set.delete(listener)
      if (set.size === 0) this.#byRecord.delete(id)
      this.#detachIfIdle()
    }
  }

  /** Listens to every change in the collection map. Returns the unsubscribe function. */
  onAny(listener: (changes: readonly RecordChange[], origin: ChangeOrigin) => void): () => void {
    this.#all.add(listener)
    this.#attach()
    return () => {
      this.#all.delete(listener)
      this.#detachIfIdle()
    }
  }

  /** Detaches from the document. */
  dispose(): void {
    this.#all.clear()
    this.#byRecord.clear()
    this.#detachIfIdle()
  }
}
