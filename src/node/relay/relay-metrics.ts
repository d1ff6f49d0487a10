/**
 * A relay's counters: what crossed it, what it refused and why. Served as JSON at `/metrics`
 * and returned by `relay.metrics()`.
 *
 * ```ts
 * const recorder = createMetricsRecorder()
 * recorder.frameIn(120)
 * recorder.rejected('E_SIGNATURE')
 * console.log(recorder.counts().rejected) // { E_SIGNATURE: 1 }
 * ```
 * @module
 */
import type { ConnectionMeter, RefusedFrame } from './connection-limits'

/** A snapshot of a relay's metrics. Counters count since the relay started; the rest is now. */
export interface RelayMetrics {
  /** Live WebSocket connections (cabildo and plain). */
  readonly connections: number
  /** Live plain y-websocket connections among them. */
  readonly plainConnections: number
  /** Spaces open. */
  readonly spaces: number
  /** Spaces closed because no connection held them for the relay's `idleCloseMs` (each opens again from its store on the next connection). */
  readonly spacesClosedIdle: number
  /** Plain y-websocket rooms (a Space and a shard) with at least one live connection. */
  readonly rooms: number
  /** Federation links (this relay's connections to the relays in `peers`) whose handshake is done. */
  readonly federationLinks: number
  /** Bytes of cabildo data frames received. */
  readonly bytesIn: number
  /** Bytes of cabildo data frames sent. */
  readonly bytesOut: number
  /** Cabildo data frames (sync messages) received. */
  readonly messagesIn: number
  /** Cabildo data frames (sync messages) sent. */
  readonly messagesOut: number
  /** Envelopes the Spaces' ingress guards refused on arrival, by code (`E_SIGNATURE`, `E_FORGED_CLIENT`, ...). */
  readonly rejected: Readonly<Record<string, number>>
  /** Frames refused, by reason (`malformed`, `version`, `text`, `early`, `rate`, `oversize`, `read-only`, ...). */
  readonly refusedFrames: Readonly<Record<string, number>>
  /** Connections that ended, by reason (`client`, `server`, `bad-frames`, `rate`, `too-large`, `duplicate-peer`, `policy`, ...); plain y-websocket connections are the plain handler's to count. */
  readonly closedConnections: Readonly<Record<string, number>>
  /** Upgrade requests refused before any WebSocket existed, by HTTP status (`400`, `401`, `404`, `500`, `503`). */
  readonly refusedUpgrades: Readonly<Record<string, number>>
  /** Storage operations of the Spaces that failed, by cause (`ECONNREFUSED`, `57P01`, `ENOSPC`, ...); what failed is kept and stored again once the storage is back. */
  readonly storageFailures: Readonly<Record<string, number>>
  /** The relay process's memory now, in bytes (`process.memoryUsage()`). */
  readonly memory: RelayMemory
  /** In a cluster (the `redis` option): the Redis connection's status, this member's name, and how many other members it hears from. */
  readonly cluster?: { readonly redis: string; readonly member: string; readonly members: number }
}

/** A process's memory, in bytes, as `process.memoryUsage()` reports it. */
export interface RelayMemory {
  /** Resident set size: all the memory the process holds. */
  readonly rss: number
  /** The V8 heap reserved. */
  readonly heapTotal: number
  /** The V8 heap in use. */
  readonly heapUsed: number
  /** Memory of C++ objects bound to JavaScript objects (buffers among them). */
  readonly external: number
  /** Memory of `ArrayBuffer`s and `SharedArrayBuffer`s (included in `external`). */
  readonly arrayBuffers: number
}

/** The counters of {@link RelayMetrics}. */
export type RelayCounts = Pick<RelayMetrics, 'spacesClosedIdle' | 'bytesIn' | 'bytesOut' | 'messagesIn' | 'messagesOut' | 'rejected' | 'refusedFrames' | 'closedConnections' | 'refusedUpgrades' | 'storageFailures'>

/** Collects a relay's counters; it is the {@link ConnectionMeter} of every server transport of the relay. */
export interface MetricsRecorder extends ConnectionMeter {
  /** A guard refused an envelope with `code`. */
  rejected(code: string): void
  /** A frame was refused for a reason of the relay's own (e.g. `read-only`). */
  refused(reason: RefusedFrame | 'read-only'): void
  /** An upgrade was refused with an HTTP status. */
  refusedUpgrade(status: number): void
  /** A storage operation of a Space failed with `cause`. */
  storageFailure(cause: string): void
  /** A Space closed because idle. */
  closedIdle(): void
  /** A copy of the counters. */
  counts(): RelayCounts
}

/** Creates a {@link MetricsRecorder} with every counter at zero. */
export function createMetricsRecorder(): MetricsRecorder {
  const totals = { spacesClosedIdle: 0, bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 }
  const rejected = new Map<string, number>()
  const refusedFrames = new Map<string, number>()
  const closedConnections = new Map<string, number>()
  const refusedUpgrades = new Map<string, number>()
  const storageFailures = new Map<string, number>()
  const bump = (map: Map<string, number>, key: string): void => {
    map.set(key, (map.get(key) ?? 0) + 1)
  }
  return {
    frameIn(bytes) {
      totals.messagesIn++
      totals.bytesIn += bytes
    },
    frameOut(bytes) {
      totals.messagesOut++
      totals.bytesOut += bytes
    },
    refused: (reason) => bump(refusedFrames, reason),
    closed: (reason) => bump(closedConnections, reason),
    rejected: (code) => bump(rejected, code),
    refusedUpgrade: (status) => bump(refusedUpgrades, String(status)),
    storageFailure: (cause) => bump(storageFailures, cause),
    closedIdle: () => void totals.spacesClosedIdle++,
    counts: () => ({
      ...totals,
      rejected: Object.fromEntries(rejected),
      refusedFrames: Object.fromEntries(refusedFrames),
      closedConnections: Object.fromEntries(closedConnections),
      refusedUpgrades: Object.fromEntries(refusedUpgrades),
      storageFailures: Object.fromEntries(storageFailures),
    }),
  }
}
