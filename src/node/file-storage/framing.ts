/**
 * The byte format of the file store: a log is a file header followed by framed records; a
 * snapshot is a file header followed by one framed record.
 *
 * A frame is `length (u32 LE) | crc32(payload) (u32 LE) | crc32(first 8 header bytes) (u32 LE) |
 * payload`. The header checksum lets a reader tell a damaged header from a torn one, and lets it
 * find intact frames after damage in one linear pass (a candidate header is checked in O(1)
 * before its payload is); it also makes a run of zero bytes (what a crash can leave at the end of
 * a file) invalid, since crc32 of eight zero bytes is not zero. CRC-32 is zlib's (ISO 3309).
 *
 * ```ts
 * const bytes = encodeFrames([a, b])
 * scanFrames(bytes, 0) // { records: [a, b], end: bytes.length }
 * ```
 * @module
 */
import { crc32 } from 'node:zlib'

/** Bytes of a frame header. */
export const FRAME_HEADER_BYTES = 12

/** Largest payload a frame can carry (the length field is a u32; we stay well below). */
export const MAX_RECORD_BYTES = 0x7fff_ffff

/** The first 8 bytes of a log file: `CBLDLOG` and format version 1. */
export const LOG_MAGIC: Uint8Array = new Uint8Array([0x43, 0x42, 0x4c, 0x44, 0x4c, 0x4f, 0x47, 0x01])

/** The first 8 bytes of a snapshot file: `CBLDSNP` and format version 1. */
export const SNAPSHOT_MAGIC: Uint8Array = new Uint8Array([0x43, 0x42, 0x4c, 0x44, 0x53, 0x4e, 0x50, 0x01])

/** Bytes of a file header (either magic). */
export const FILE_HEADER_BYTES = 8

/** Bytes taken by the frame of a payload of `length` bytes. */
export function frameSize(length: number): number {
  return FRAME_HEADER_BYTES + length
}

/** Writes the frame of `payload` into `target` at `offset`; returns the offset after it. */
export function writeFrame(target: Uint8Array, offset: number, payload: Uint8Array): number {
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength)
  view.setUint32(offset, payload.length, true)
  view.setUint32(offset + 4, crc32(payload), true)
  view.setUint32(offset + 8, crc32(target.subarray(offset, offset + 8)), true)
  target.set(payload, offset + FRAME_HEADER_BYTES)
  return offset + FRAME_HEADER_BYTES + payload.length
}

/** The frames of `payloads`, concatenated, optionally after `prefix` (a file header). */
export function encodeFrames(payloads: readonly Uint8Array[], prefix?: Uint8Array): Uint8Array {
  let size = prefix?.length ?? 0
  for (const payload of payloads) size += FRAME_HEADER_BYTES + payload.length
  const out = new Uint8Array(size)
  let offset = 0
  if (prefix !== undefined) {
    out.set(prefix, 0)
    offset = prefix.length
  }
  for (const payload of payloads) offset = writeFrame(out, offset, payload)
  return out
}

/** The header of the frame at `offset`, if it is complete and its checksum holds. */
function readHeader(bytes: Uint8Array, offset: number): { length: number; payloadCrc: number } | undefined {
  if (bytes.length - offset < FRAME_HEADER_BYTES) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (crc32(bytes.subarray(offset, offset + 8)) !== view.getUint32(offset + 8, true)) return undefined
  return { length: view.getUint32(offset, true), payloadCrc: view.getUint32(offset + 4, true) }
}

/** The payload of an intact frame at `offset` (a view into `bytes`), or undefined. */
function readFrame(bytes: Uint8Array, offset: number): Uint8Array | undefined {
  const header = readHeader(bytes, offset)
  if (header === undefined) return undefined
  const start = offset + FRAME_HEADER_BYTES
  if (header.length > bytes.length - start) return undefined
  const payload = bytes.subarray(start, start + header.length)
  return crc32(payload) === header.payloadCrc ? payload : undefined
}

/** Where a scan stopped on damaged bytes, and what the damaged region still holds. */
export interface FrameDamage {
  /** Offset of the first byte that is not part of an intact frame. */
  readonly offset: number
  /** How many intact frames follow the damage (found by resynchronizing on frame headers). */
  readonly intactAfter: number
}

/** The result of {@link scanFrames}. */
export interface FrameScan {
  /** The payloads of the intact frames before any damage, in order (plain views into the input). */
  readonly records: Uint8Array[]
  /** Offset after the last intact frame before any damage: the length to keep. */
  readonly end: number
  /** Set when the bytes after `end` are not a sequence of intact frames. */
  readonly damage?: FrameDamage
}

/** Reads frames from `offset` to the end of `bytes`, stopping at the first damaged one. */
export function scanFrames(bytes: Uint8Array, offset: number): FrameScan {
  const records: Uint8Array[] = []
  let at = offset
  while (at < bytes.length) {
    const payload = readFrame(bytes, at)
    if (payload === undefined) return { records, end: at, damage: { offset: at, intactAfter: countIntactFrames(bytes, at + 1) } }
    records.push(new Uint8Array(payload.buffer, payload.byteOffset, payload.length))
    at += FRAME_HEADER_BYTES + payload.length
  }
  return { records, end: at }
}

/**
 * Counts the intact frames from `from` on, resynchronizing on valid headers: a header that checks
 * out but whose payload does not is skipped byte by byte like any other damage. A false header
 * match needs a 32-bit checksum collision, so the count is exact in practice.
 */
export function countIntactFrames(bytes: Uint8Array, from: number): number {
  let count = 0
  let at = from
  while (bytes.length - at >= FRAME_HEADER_BYTES) {
    const payload = readFrame(bytes, at)
    if (payload === undefined) {
      at += 1
    } else {
      count += 1
      at += FRAME_HEADER_BYTES + payload.length
    }
  }
  return count
}

/** True when `bytes` start with `magic` (a whole file header). */
export function hasMagic(bytes: Uint8Array, magic: Uint8Array): boolean {
  if (bytes.length < magic.length) return false
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false
  return true
}

/**
 * True when `bytes` (shorter than a file header) could be the start of a header that a crash
 * interrupted: a prefix of `magic`, or zeros (what some file systems expose after a power loss).
 */
export function isTornHeader(bytes: Uint8Array, magic: Uint8Array): boolean {
  const head = bytes.subarray(0, Math.min(bytes.length, FILE_HEADER_BYTES))
  const zeros = head.every((byte) => byte === 0)
  const prefix = head.every((byte, i) => byte === magic[i])
  return zeros || prefix
}

/** The payload of a snapshot file, or undefined if the file is not an intact snapshot. */
export function decodeSnapshotFile(bytes: Uint8Array): Uint8Array | undefined {
  if (!hasMagic(bytes, SNAPSHOT_MAGIC)) return undefined
  const payload = readFrame(bytes, FILE_HEADER_BYTES)
  if (payload === undefined || FILE_HEADER_BYTES + FRAME_HEADER_BYTES + payload.length !== bytes.length) return undefined
  return new Uint8Array(payload.buffer, payload.byteOffset, payload.length)
}
