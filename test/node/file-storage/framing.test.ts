import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  FILE_HEADER_BYTES,
  FRAME_HEADER_BYTES,
  LOG_MAGIC,
  SNAPSHOT_MAGIC,
  decodeSnapshotFile,
  encodeFrames,
  isTornHeader,
  scanFrames,
} from '../../../src/node/file-storage/framing'

const recordsArbitrary = fc.array(fc.uint8Array({ minLength: 0, maxLength: 64 }), { minLength: 1, maxLength: 12 })
const plain = (records: Uint8Array[]): number[][] => records.map((r) => Array.from(r))

/** Offsets at which each frame starts, after a file header. */
function frameStarts(records: Uint8Array[]): number[] {
  const starts: number[] = []
  let at = FILE_HEADER_BYTES
  for (const record of records) {
    starts.push(at)
    at += FRAME_HEADER_BYTES + record.length
  }
  return starts
}

describe('framing', () => {
  it('reads back exactly the records it framed', () => {
    fc.assert(
      fc.property(recordsArbitrary, (records) => {
        const bytes = encodeFrames(records, LOG_MAGIC)
        const scan = scanFrames(bytes, FILE_HEADER_BYTES)
        expect(plain(scan.records)).toEqual(plain(records))
        expect(scan.end).toBe(bytes.length)
        expect(scan.damage).toBeUndefined()
      }),
      { seed: 42, numRuns: 300 },
    )
  })

  it('on any flipped byte keeps every record before the damaged frame and counts the intact ones after', () => {
    fc.assert(
      fc.property(recordsArbitrary, fc.nat(), fc.integer({ min: 1, max: 255 }), (records, at, mask) => {
        const bytes = encodeFrames(records, LOG_MAGIC)
        const position = FILE_HEADER_BYTES + (at % (bytes.length - FILE_HEADER_BYTES))
        bytes[position] = (bytes[position] ?? 0) ^ mask
        const starts = frameStarts(records)
        const damaged = starts.filter((start) => start <= position).length - 1
        const scan = scanFrames(bytes, FILE_HEADER_BYTES)
        expect(plain(scan.records)).toEqual(plain(records.slice(0, damaged)))
        expect(scan.damage?.offset).toBe(starts[damaged])
        expect(scan.damage?.intactAfter).toBe(records.length - damaged - 1)
      }),
      { seed: 43, numRuns: 1000 },
    )
  })

  it('on any truncation keeps every complete record and reports the cut one as damage with nothing after', () => {
    fc.assert(
      fc.property(recordsArbitrary, fc.nat(), (records, cut) => {
        const full = encodeFrames(records, LOG_MAGIC)
        const length = FILE_HEADER_BYTES + (cut % (full.length - FILE_HEADER_BYTES))
        const scan = scanFrames(full.subarray(0, length), FILE_HEADER_BYTES)
        const complete = frameStarts(records).filter((start, i) => start + FRAME_HEADER_BYTES + (records[i]?.length ?? 0) <= length)
        expect(plain(scan.records)).toEqual(plain(records.slice(0, complete.length)))
        if (scan.end < length) expect(scan.damage?.intactAfter).toBe(0)
      }),
      { seed: 44, numRuns: 1000 },
    )
  })

  it('treats a run of zero bytes as damage, never as records', () => {
    const bytes = new Uint8Array(FILE_HEADER_BYTES + 64)
    bytes.set(LOG_MAGIC)
    const scan = scanFrames(bytes, FILE_HEADER_BYTES)
    expect(scan.records).toEqual([])
    expect(scan.damage).toEqual({ offset: FILE_HEADER_BYTES, intactAfter: 0 })
  })

  it('decodes an intact snapshot file and rejects any damaged or extended one', () => {
    const payload = new Uint8Array([5, 6, 7, 8])
    const file = encodeFrames([payload], SNAPSHOT_MAGIC)
    expect(Array.from(decodeSnapshotFile(file) ?? [])).toEqual([5, 6, 7, 8])
    for (let i = 0; i < file.length; i++) {
      const damaged = file.slice()
      damaged[i] = (damaged[i] ?? 0) ^ 0x10
      expect(decodeSnapshotFile(damaged)).toBeUndefined()
    }
    expect(decodeSnapshotFile(file.subarray(0, file.length - 1))).toBeUndefined()
    expect(decodeSnapshotFile(new Uint8Array([...file, 0]))).toBeUndefined()
  })

  it('recognizes a header cut short or zeroed by a crash, and nothing else, as torn', () => {
    expect(isTornHeader(LOG_MAGIC.subarray(0, 3), LOG_MAGIC)).toBe(true)
    expect(isTornHeader(new Uint8Array(8), LOG_MAGIC)).toBe(true)
    expect(isTornHeader(new TextEncoder().encode('{"json":1}'), LOG_MAGIC)).toBe(false)
  })
})
