/**
 * Sync by hand: move Yjs updates between Spaces without a transport, e.g. in tests, in
 * simulations, or between two Spaces in one process.
 *
 * ```ts
 * import { createSpace, syncSpaces } from 'cabildo'
 * const north = createSpace({ id: 'city' })
 * const south = createSpace({ id: 'city' })
 * await north.tickets.create({ service_code: 'graffiti', district: 'north' })
 * await syncSpaces(north, south) // south now lists north's ticket
 * ```
 *
 * Updates applied here come from a replica the caller trusts: they are checked for size and
 * decoded before they are applied, but not authenticated. Untrusted peers go through the
 * authenticated sync engine instead.
 * @module
 */
import * as Y from 'yjs'
import { checkUpdate, defaultInspectLimits, type InspectLimits } from './update-inspector'
import { CabildoError } from '../errors'
import { MANIFEST_DOC } from './shard-set'
import type { Space } from './space'

/** The origin of updates applied by {@link applyDocUpdate} unless the caller gives its own. */
export const manualSyncOrigin: object = Object.freeze({ cabildo: 'manual-sync' })

/** The default largest update {@link applyDocUpdate} accepts: 16 MiB. */
export const DEFAULT_MAX_UPDATE_BYTES = 16 * 1024 * 1024

/**
 * The update that brings a replica holding `stateVector` (everything when absent) up to date
 * with this Space's document `name`.
 */
export async function encodeDocState(space: Space, name: string, stateVector?: Uint8Array): Promise<Uint8Array> {
  const doc = await space.doc(name)
  return Y.encodeStateAsUpdate(doc, stateVector)
}

/** The state vector of this Space's document `name`. */
export async function encodeDocStateVector(space: Space, name: string): Promise<Uint8Array> {
  return Y.encodeStateVector(await space.doc(name))
}

/** Options of {@link applyDocUpdate}. */
export interface ApplyDocUpdateOptions {
  /** The origin of the Yjs transaction (default {@link manualSyncOrigin}). */
  readonly origin?: unknown
  /** The largest update accepted, in bytes (default {@link DEFAULT_MAX_UPDATE_BYTES}). */
  readonly maxBytes?: number
  /**
   * The decoder's other limits: structs, delete ranges, clock units per struct (default
   * `defaultInspectLimits`: 200,000 structs). The whole state of a large shard holds more
   * structs (a month of 100,000 tickets a year: about 140,000; of 1,000,000: 1.4 million);
   * raise them to load it in one update.
   */
  readonly limits?: Partial<Omit<InspectLimits, 'maxBytes'>>
}

/**
 * Applies a Yjs (V1) update to the Space's document `name`. The bytes are size-checked and fully
 * decoded first, so malformed bytes throw before the document is touched.
 *
 * ```ts
 * await applyDocUpdate(space, 'tickets.2026-05', bytes, { maxBytes: 256 * 2 ** 20, limits: { maxStructs: 2_000_000 } })
 * ```
 * @throws CabildoError `E_UPDATE_TOO_LARGE`, `E_UPDATE_MALFORMED` (also for an update over
 *   `limits`), `E_CLOSED`, `E_ARGUMENT` (a limit that is not a number of at least 1).
 */
export async function applyDocUpdate(space: Space, name: string, update: Uint8Array, options: ApplyDocUpdateOptions = {}): Promise<void> {
  const limit = options.maxBytes ?? DEFAULT_MAX_UPDATE_BYTES
  for (const [key, value] of Object.entries(options.limits ?? {})) {
    if (typeof value !== 'number' || !(value >= 1)) {
      throw new CabildoError('E_ARGUMENT', `limits.${key} must be a number of at least 1`, { argument: `limits.${key}`, reason: `got ${String(value)}` })
    }
  }
  if (!(update instanceof Uint8Array)) {
    throw new CabildoError('E_UPDATE_MALFORMED', 'An update must be a Uint8Array', { reason: 'not a Uint8Array' })
  }
  if (update.byteLength > limit) {
    throw new CabildoError('E_UPDATE_TOO_LARGE', `Update of ${update.byteLength} bytes exceeds ${limit}`, { size: update.byteLength, limit })
  }
  // The guard's complete reading: decodes everything, refuses unread bytes and structs that refer
  // to themselves (which Yjs would throw on half-way through applying them).
  const inspected = checkUpdate(update, { ...defaultInspectLimits, ...options.limits, maxBytes: limit })
  if (!inspected.ok) {
    if (inspected.code === 'E_UPDATE_TOO_LARGE') throw new CabildoError('E_UPDATE_TOO_LARGE', `Update of ${inspected.size} bytes exceeds ${inspected.limit}`, { size: inspected.size, limit: inspected.limit })
    throw new CabildoError('E_UPDATE_MALFORMED', `Update for ${name} could not be decoded: ${inspected.reason}`, { reason: inspected.reason })
  }
  const doc = await space.doc(name)
  Y.applyUpdate(doc, update, options.origin ?? manualSyncOrigin)
}

async function exchange(from: Space, to: Space, name: string): Promise<boolean> {
  const target = await to.doc(name)
  const before = Y.encodeStateVector(target)
  const update = await encodeDocState(from, name, before)
  await applyDocUpdate(to, name, update)
  const after = Y.encodeStateVector(target)
  return !equalBytes(before, after)
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

/**
 * Brings every given Space up to date with all the others: manifests first (so each learns the
 * others' shards), then every known shard, until nothing changes.
 * @returns how many document updates were applied.
 */
export async function syncSpaces(...spaces: Space[]): Promise<number> {
  let applied = 0
  for (;;) {
    let changed = false
    for (const from of spaces) {
      for (const to of spaces) {
        if (from === to) continue
        if (await exchange(from, to, MANIFEST_DOC)) {
          changed = true
          applied++
        }
        for (const name of from.shardNames()) {
          if (await exchange(from, to, name)) {
            changed = true
            applied++
          }
        }
      }
    }
    if (!changed) return applied
  }
}
