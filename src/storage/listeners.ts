/**
 * A typed listener set: `on` returns its own unsubscribe, and a throwing listener neither stops
 * the others nor the emitter (its error is rethrown on a later microtask, so it is not hidden).
 *
 * ```ts
 * const listeners = createListeners<{ warning: StorageWarning }>()
 * const off = listeners.on('warning', (w) => show(w.message))
 * listeners.emit('warning', warning)
 * off()
 * ```
 * @module
 */

/** A set of listeners for the events of `Events` (a map from event name to payload type). */
export interface Listeners<Events> {
  /** Subscribes; returns the function that unsubscribes (calling it twice is harmless). */
  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void
  /** Calls every listener of `event` with `payload`, in subscription order. */
  emit<E extends keyof Events>(event: E, payload: Events[E]): void
  /** How many listeners `event` has. */
  count(event: keyof Events): number
}

/** Creates an empty {@link Listeners} set. */
export function createListeners<Events>(): Listeners<Events> {
  const byEvent = new Map<keyof Events, Set<(payload: never) => void>>()
  return {
    on(event, listener) {
      let set = byEvent.get(event)
      if (set === undefined) {
        set = new Set()
        byEvent.set(event, set)
      }
      // Wrap so that subscribing the same function twice yields two independent subscriptions.
      const entry = (payload: never): void => listener(payload)
      set.add(entry)
      return () => {
        set.delete(entry)
      }
    },
    emit(event, payload) {
      const set = byEvent.get(event)
      if (set === undefined) return
      for (const listener of [...set]) {
        try {
          ;(listener as (p: typeof payload) => void)(payload)
        } catch (error) {
          queueMicrotask(() => {
            throw error
          })
        }
      }
    },
    count(event) {
      return byEvent.get(event)?.size ?? 0
    },
  }
}
