/**
 * The plumbing shared by the stores behind the hooks: the `subscribe` / `getSnapshot` pair
 * `useSyncExternalStore` expects, with the store's own subscriptions (to documents, collections,
 * act logs) held only while someone listens.
 *
 * `useSyncExternalStore` requires `getSnapshot` to return the same object until the data
 * changes, or React re-renders forever; so a store replaces its snapshot only in
 * {@link ExternalStore.publish}, and only with a new object when something changed.
 * @module
 */
import { callListener } from '../doc/change-router'

/** A snapshot source for `useSyncExternalStore`, active while it has subscribers. */
export abstract class ExternalStore<S> {
  #snapshot: S
  readonly #listeners = new Set<() => void>()

  /** @param initial - the snapshot before the store has loaded anything */
  constructor(initial: S) {
    this.#snapshot = initial
  }

  /**
   * Adds a listener, called after each new snapshot; the first one starts the store. Returns the
   * unsubscribe function (calling it twice is harmless); removing the last listener stops it.
   * Bound, so it can be handed to `useSyncExternalStore` as is.
   */
  readonly subscribe = (listener: () => void): (() => void) => {
    // A wrapper per subscription: the same function subscribed twice is two subscriptions.
    const entry = (): void => listener()
    this.#listeners.add(entry)
    if (this.#listeners.size === 1) this.start()
    return () => {
      if (!this.#listeners.delete(entry)) return
      if (this.#listeners.size === 0) this.stop()
    }
  }

  /** The current snapshot: the same object until the data changes. Bound, like `subscribe`. */
  readonly getSnapshot = (): S => this.#snapshot

  /** How many listeners the store has. */
  get listenerCount(): number {
    return this.#listeners.size
  }

  /**
   * Replaces the snapshot and tells every listener; a listener that throws does not stop the
   * others (its error is reported asynchronously). Publishing the current snapshot does nothing.
   */
  protected publish(next: S): void {
    if (Object.is(next, this.#snapshot)) return
    this.#snapshot = next
    for (const listener of [...this.#listeners]) if (this.#listeners.has(listener)) callListener(listener)
  }

  /** Subscribes to the store's sources; called when the first listener arrives. */
  protected abstract start(): void

  /** Unsubscribes from every source; called when the last listener leaves. */
  protected abstract stop(): void
}

/** Hooks a store calls when it starts and stops. */
export interface StoreLifecycle {
  /** The first listener arrived. */
  readonly started?: () => void
  /** The last listener left. */
  readonly stopped?: () => void
}

/**
 * The lifecycle of a store kept in a registry `slots` under `key`: a stopped store leaves the
 * registry (so unused stores are garbage), and takes the slot back when it runs again while the
 * slot is free (a component that kept it, e.g. across React's strict-mode remount).
 */
export function shareWhileRunning<S>(slots: Map<string, S>, key: string, self: () => S): StoreLifecycle {
  return {
    started: () => {
      if (!slots.has(key)) slots.set(key, self())
    },
    stopped: () => {
      if (slots.get(key) === self()) slots.delete(key)
    },
  }
}
