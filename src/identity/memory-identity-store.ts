/**
 * An {@link IdentityStore} in memory: for tests, demos and apps that keep keys themselves.
 * @module
 */
import type { IdentityStore, StoredKey } from './identity-store'

/**
 * A store that keeps the key in memory for as long as the store object lives.
 * @param initial - a key to start with
 */
export function memoryIdentityStore(initial?: StoredKey): IdentityStore {
  let stored: StoredKey | undefined = initial === undefined ? undefined : { ...initial }
  return {
    load: async () => (stored === undefined ? undefined : { ...stored }),
    save: async (key) => {
      stored = { ...key }
    },
    saveIfAbsent: async (key) => {
      stored ??= { ...key }
      return { ...stored }
    },
  }
}
