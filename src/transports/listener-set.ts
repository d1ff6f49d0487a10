/**
 * A typed set of listeners that keeps the listener rules of a `Transport`: `on` returns its
 * own unsubscribe, a throwing listener neither stops the others nor the emitter (its error is
 * reported asynchronously), and an unsubscribed listener is never called again, even by an emit
 * already in progress. Transport authors can build on it instead of an emitter class.
 *
 * ```ts
 * import { createListenerSet, type TransportEvents } from 'cabildo'
 * const listeners = createListenerSet<TransportEvents>()
 * const off = listeners.on('peer', ({ peerId }) => console.log('hello', peerId))
 * listeners.emit('peer', { peerId: 'district-b' })
 * off()
 * ```
 * @module
 */
import { callListener } from '../doc/change-router'

/** Listeners of the events of `Events`, a map from event name to payload type. */
export interface ListenerSet<Events> {
  /** Subscribes; returns the function that unsubscribes (calling it twice is harmless). */
  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void
  /**
   * Calls every listener of `event` with `payload`, in subscription order. Listeners added
   * during the emit are not called by it; listeners removed during it are not called after.
   */
  emit<E extends keyof Events>(event: E, payload: Events[E]): void
  /** How many listeners `event` has. */
  count(event: keyof Events): number
  /** Removes every listener (e.g. once a transport has emitted `close`). */
  clear(): void
}

/** Creates an empty {@link ListenerSet}. Errors thrown by listeners go to `globalThis.reportError` if it exists. */
export function createListenerSet<Events>(): ListenerSet<Events> {
  // One Set per event; each subscription gets its own wrapper, so subscribing the same function
  // twice yields two independent subscriptions.
  const byEvent = new Map<keyof Events, Set<(payload: never) => void>>()
  return {
    on(event, listener) {
      let set = byEvent.get(event)
      if (set === undefined) byEvent.set(event, (set = new Set()))
      const entry = (payload: never): void => listener(payload)
      set.add(entry)
      const own = set
      return () => {
        own.delete(entry)
      }
    },
    emit(event, payload) {
      const set = byEvent.get(event)
      if (set === undefined) return
      for (const entry of [...set]) {
        if (set.has(entry)) callListener(entry as (p: typeof payload) => void, payload)
      }
    },
    count(event) {
      return byEvent.get(event)?.size ?? 0
    },
    clear() {
      for (const set of byEvent.values()) set.clear()
      byEvent.clear()
    },
  }
}
