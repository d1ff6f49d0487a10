/**
 * Presence per document: a y-protocols `Awareness` (who is here, what they look at, where their
 * cursor is) for each shard an app asks for, which sync engines share with peers. Presence is
 * ephemeral and unsigned: it never reaches a document or a resolved view.
 *
 * ```ts
 * import { createSpace } from 'cabildo'
 * const space = createSpace({ id: 'city' })
 * const presence = await space.presence('_manifest')
 * presence.setLocalStateField('user', { name: 'Ana', district: 'north' })
 * presence.on('change', () => console.log(`${presence.getStates().size} here`))
 * await space.close()
 * ```
 * @module
 */
import { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { CabildoError } from '../errors'
import { createListenerSet } from '../transports/listener-set'

/** The events of {@link Presences}. */
export interface PresencesEvents {
  /** Presence of a document was created (sync engines start sharing it). */
  created: { readonly doc: string; readonly awareness: Awareness }
}

/** The presence objects of one Space, by document name. */
export class Presences {
  readonly #byDoc = new Map<string, Awareness>()
  readonly #listeners = createListenerSet<PresencesEvents>()
  #closed = false

  /** The presence of `name`, created on `doc` the first time. */
  of(name: string, doc: Y.Doc): Awareness {
    if (this.#closed) throw new CabildoError('E_CLOSED', 'The Space is closed', { what: 'space' })
    let awareness = this.#byDoc.get(name)
    if (awareness === undefined) {
      awareness = new Awareness(doc)
      this.#byDoc.set(name, awareness)
      this.#listeners.emit('created', { doc: name, awareness })
    }
    return awareness
  }

  /** The presence of `name` if an app asked for it, else `undefined`. */
  get(name: string): Awareness | undefined {
    return this.#byDoc.get(name)
  }

  /** Every document with presence, and its `Awareness`. */
  entries(): Array<[string, Awareness]> {
    return [...this.#byDoc]
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof PresencesEvents>(event: E, listener: (payload: PresencesEvents[E]) => void): () => void {
    return this.#listeners.on(event, listener)
  }

  /** Clears every local state (peers see this replica leave) and stops every presence's timer. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const awareness of this.#byDoc.values()) awareness.destroy()
    this.#byDoc.clear()
  }
}
