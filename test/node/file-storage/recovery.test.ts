import { mkdtemp, readFile, readdir, rm, truncate, writeFile, appendFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CabildoError } from '../../../src/errors'
import { createFileStorage } from '../../../src/node/file-storage'
import { FILE_HEADER_BYTES, FRAME_HEADER_BYTES } from '../../../src/node/file-storage/framing'
import type { StorageWarning } from '../../../src/storage/storage'

/** Record i: 5 + i bytes, all equal to i. */
const record = (i: number): Uint8Array => new Uint8Array(5 + i).fill(i)
const plain = (records: Uint8Array[]): number[][] => records.map((r) => Array.from(r))
/** Offset of record i's frame in a log holding records 0, 1, 2, ... */
const frameStart = (i: number): number => {
  let at = FILE_HEADER_BYTES
  for (let k = 0; k < i; k++) at += FRAME_HEADER_BYTES + record(k).length
  return at
}

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'cabildo-recovery-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

async function writeRecords(count: number, key = 'doc'): Promise<string> {
  const store = await createFileStorage(directory).open(key)
  for (let i = 0; i < count; i++) await store.append(record(i))
  await store.close()
  return join(directory, `${key}@0.log`)
}

/** Opens `doc`, loads it, and returns the records and the warnings seen. */
async function reopen(): Promise<{ records: Uint8Array[]; warnings: StorageWarning[] }> {
  const store = await createFileStorage(directory).open('doc')
  const warnings: StorageWarning[] = []
  store.on?.('warning', (warning) => warnings.push(warning))
  try {
    return { records: await store.load(), warnings }
  } finally {
    await store.close()
  }
}

describe('file storage recovery', () => {
  it('on a flipped byte in the middle keeps every record before it, sets the rest aside and reports it', async () => {
    const log = await writeRecords(10)
    const original = await readFile(log)
    const damaged = Buffer.from(original)
    const at = frameStart(4) + FRAME_HEADER_BYTES + 2 // inside record 4's payload
    damaged[at] = (damaged[at] ?? 0) ^ 0x01
    await writeFile(log, damaged)

    const { records, warnings } = await reopen()
    expect(plain(records)).toEqual(plain([0, 1, 2, 3].map(record)))
    expect(warnings).toHaveLength(1)
    const warning = warnings[0]
    expect(warning).toMatchObject({
      kind: 'corrupt-record',
      key: 'doc',
      offset: frameStart(4),
      keptRecords: 4,
      droppedBytes: original.length - frameStart(4),
      droppedIntactRecords: 5,
    })
    // The dropped bytes are kept, byte for byte, where the warning says.
    expect(Buffer.compare(await readFile(warning?.quarantine ?? ''), damaged.subarray(frameStart(4)))).toBe(0)
    expect((await readFile(log)).length).toBe(frameStart(4))

    // The store goes on: a new record lands after the kept ones, and the next open is clean.
    const store = await createFileStorage(directory).open('doc')
    await store.append(record(20))
    await store.close()
    const again = await reopen()
    expect(plain(again.records)).toEqual(plain([0, 1, 2, 3, 20].map(record)))
    expect(again.warnings).toEqual([])
  })

  it('on a truncated tail keeps every complete record, cuts the torn one off and reports it', async () => {
    const log = await writeRecords(6)
    const size = (await readFile(log)).length
    await truncate(log, size - 3)
    const { records, warnings } = await reopen()
    expect(plain(records)).toEqual(plain([0, 1, 2, 3, 4].map(record)))
    expect(warnings).toEqual([
      expect.objectContaining({ kind: 'torn-tail', offset: frameStart(5), keptRecords: 5, droppedBytes: size - 3 - frameStart(5), droppedIntactRecords: 0 }),
    ])
    expect(warnings[0]?.quarantine).toBeUndefined()
    expect((await readFile(log)).length).toBe(frameStart(5))
  })

  it('never fails to open a log cut at any length, and keeps exactly the complete records', async () => {
    const log = await writeRecords(5)
    const full = await readFile(log)
    for (let length = 0; length <= full.length; length++) {
      await writeFile(log, full.subarray(0, length))
      const { records, warnings } = await reopen()
      const complete = [0, 1, 2, 3, 4].filter((i) => frameStart(i + 1) <= length)
      expect(plain(records)).toEqual(plain(complete.map(record)))
      const clean = length < FILE_HEADER_BYTES || complete.length === 5 || length === frameStart(complete.length)
      expect(warnings.map((w) => w.kind)).toEqual(clean ? [] : ['torn-tail'])
    }
  })

  it('never fails to open a log with any one byte flipped, and keeps every record before the damaged one', async () => {
    const log = await writeRecords(5)
    const full = await readFile(log)
    for (let at = FILE_HEADER_BYTES; at < full.length; at++) {
      const damaged = Buffer.from(full)
      damaged[at] = (damaged[at] ?? 0) ^ 0x80
      await writeFile(log, damaged)
      for (const name of await readdir(directory)) if (name.includes('.dropped-')) await rm(join(directory, name))
      const { records, warnings } = await reopen()
      const hit = [0, 1, 2, 3, 4].filter((i) => frameStart(i) <= at).length - 1
      expect(plain(records)).toEqual(plain([0, 1, 2, 3, 4].slice(0, hit).map(record)))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatchObject({ keptRecords: hit, droppedIntactRecords: 4 - hit })
    }
  })

  it('treats zeros after the last record (a power loss) as a torn tail', async () => {
    const log = await writeRecords(3)
    await appendFile(log, new Uint8Array(4096))
    const { records, warnings } = await reopen()
    expect(plain(records)).toEqual(plain([0, 1, 2].map(record)))
    expect(warnings.map((w) => [w.kind, w.droppedBytes])).toEqual([['torn-tail', 4096]])
  })

  it('loads an empty log whose header was cut short, without a warning, and appends to it', async () => {
    const log = await writeRecords(0)
    await writeFile(log, Buffer.from('CBL'))
    expect(await reopen()).toEqual({ records: [], warnings: [] })
    const store = await createFileStorage(directory).open('doc')
    await store.append(record(1))
    await store.close()
    expect(plain((await reopen()).records)).toEqual(plain([record(1)]))
  })

  it('refuses a log with a foreign header with E_STORAGE EFORMAT and leaves it untouched', async () => {
    const log = join(directory, 'doc@0.log')
    await writeFile(log, '{"not":"a cabildo log"}')
    const store = await createFileStorage(directory).open('doc')
    const error = await store.load().catch((e: unknown) => e)
    expect(CabildoError.is(error, 'E_STORAGE') && error.details).toMatchObject({ operation: 'load', cause: 'EFORMAT' })
    const appendError = await store.append(record(1)).catch((e: unknown) => e)
    expect(CabildoError.is(appendError, 'E_STORAGE') && appendError.details.cause).toBe('EFORMAT')
    await store.close()
    expect(await readFile(log, 'utf8')).toBe('{"not":"a cabildo log"}')
  })

  it('sets a damaged snapshot aside, reports it and still loads the later records', async () => {
    const store = await createFileStorage(directory).open('doc')
    await store.append(record(1))
    await store.compact(record(9))
    await store.append(record(2))
    await store.close()
    const snapshot = join(directory, 'doc@1.snapshot')
    const bytes = await readFile(snapshot)
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1
    await writeFile(snapshot, bytes)

    const { records, warnings } = await reopen()
    expect(plain(records)).toEqual(plain([record(2)]))
    expect(warnings).toEqual([expect.objectContaining({ kind: 'corrupt-snapshot', droppedBytes: bytes.length })])
    expect(Buffer.compare(await readFile(warnings[0]?.quarantine ?? ''), bytes)).toBe(0)
  })

  it('after an interrupted compaction cleanup uses the newest generation and removes the older files', async () => {
    const store = await createFileStorage(directory).open('doc')
    await store.append(record(1))
    await store.close()
    const oldLog = await readFile(join(directory, 'doc@0.log'))
    const compacting = await createFileStorage(directory).open('doc')
    await compacting.compact(record(7))
    await compacting.append(record(8))
    await compacting.close()
    // As if the crash came before generation 0 was removed, and during a later compaction.
    await writeFile(join(directory, 'doc@0.log'), oldLog)
    await writeFile(join(directory, 'doc@2.snapshot.tmp'), 'half a snapsh')

    const { records, warnings } = await reopen()
    expect(plain(records)).toEqual(plain([record(7), record(8)]))
    expect(warnings).toEqual([])
    expect((await readdir(directory)).sort()).toEqual(['doc@1.log', 'doc@1.snapshot'])
  })
})
