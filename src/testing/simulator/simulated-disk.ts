/**
 * Where a simulated district keeps its documents across simulated process crashes. The
 * simulator asks a {@link SimulatedDisk} for a storage at every start of a district, and tells
 * it when the district's process dies; the disk decides what survives, exactly as a real one
 * would. The in-memory disk here is browser-safe; Node tests pass a disk over the file store
 * (a crash copies the directory as it is at that instant).
 *
 * ```ts
 * import { createMemoryDisk } from 'cabildo/testing'
 * const disk = createMemoryDisk()
 * const space = await openSpace({ id: 'city', storage: await disk.storage() })
 * disk.crash()                         // what append() was called with so far survives
 * const again = await openSpace({ id: 'city', storage: await disk.storage() })
 * ```
 * @module
 */
import type { DocStore, Storage } from '../../storage/storage'
import { assertStorageKey, closedStoreError, lockedError } from '../../storage/storage-errors'

/** A district's persistent storage across simulated crashes. */
export interface SimulatedDisk {
  /**
   * The storage of the district's next incarnation: the first one, or the one after the last
   * {@link SimulatedDisk.crash}. Called once per incarnation.
   */
  storage(): Storage | Promise<Storage>
  /**
   * The district's process died now. Called synchronously at the crash point, before the dead
   * incarnation is closed: the disk keeps what a crash at this instant keeps, and whatever the
   * dead incarnation writes afterwards must not reach the next one.
   */
  crash(): void
  /** Releases what the disk holds (files, directories). Called once when the simulation ends. */
  dispose?(): Promise<void>
}

/** Makes the disk of one district (by its peer id). */
export type SimulatedDiskFactory = (district: string) => SimulatedDisk

/**
 * A disk in memory: an `append` or `compact` takes effect the moment it is called (a process
 * crash keeps every write the process had handed to the kernel), and a crash keeps every record
 * of every key as it is at that instant. What the process had not yet asked to write (edits
 * waiting to be signed, envelopes waiting for the next microtask) is lost. Writes in flight on a
 * real disk can be lost too: use the file store for those (`test/sim/file-disk.ts`).
 */
export function createMemoryDisk(): SimulatedDisk {
  let shelves = new Map<string, Uint8Array[]>()
  return {
    storage: () => memoryShelfStorage(shelves),
    crash() {
      // The dead incarnation keeps the old map; the next one starts from a copy of it.
      shelves = new Map([...shelves].map(([key, records]) => [key, [...records]]))
    },
  }
}

function memoryShelfStorage(shelves: Map<string, Uint8Array[]>): Storage {
  const open = new Set<string>()
  return {
    async open(key) {
      assertStorageKey(key)
      if (open.has(key)) throw lockedError(key, 'open in this simulated disk')
      open.add(key)
      if (!shelves.has(key)) shelves.set(key, [])
      return shelfStore(key, shelves, () => open.delete(key))
    },
  }
}

function shelfStore(key: string, shelves: Map<string, Uint8Array[]>, release: () => void): DocStore {
  let closed = false
  return {
    key,
    async load() {
      if (closed) throw closedStoreError(key)
      return (shelves.get(key) ?? []).map((record) => record.slice())
    },
    append(record) {
      if (closed) return Promise.reject(closedStoreError(key))
      shelves.get(key)?.push(record.slice())
      return Promise.resolve()
    },
    compact(snapshot) {
      if (closed) return Promise.reject(closedStoreError(key))
      shelves.set(key, [snapshot.slice()])
      return Promise.resolve()
    },
    async close() {
      if (closed) return
      closed = true
      release()
    },
    async flush() {},
  }
}
