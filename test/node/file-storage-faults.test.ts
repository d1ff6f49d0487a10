import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as prng from 'lib0/prng'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CabildoError } from '../../src/errors'
import { createFileStorage } from '../../src/node/file-storage'
import { nodeFsOps, type FsOps } from '../../src/node/file-storage/fs-ops'
import type { DocStore, StorageWarning } from '../../src/storage/storage'
import { applies, faultyFs, type FaultKind, type FaultPlan } from './file-storage/faulty-fs'

const SEED = 20261125

interface Outcome {
  /** Ids of the edits whose append or a covering compaction resolved. */
  readonly acked: Set<number>
  readonly errors: unknown[]
  readonly expected: Record<string, unknown>
  /** The document, to compact after the workload. */
  readonly doc: Y.Doc
}

/**
 * A seeded workload through a file store: single and concurrent appends of Yjs updates,
 * compactions, a close and reopen in the middle, and a final compaction retried once.
 */
async function runWorkload(directory: string, fs: FsOps, seed: number): Promise<Outcome> {
  const random = prng.create(seed)
  const doc = new Y.Doc()
  const edits = doc.getMap<number>('edits')
  const acked = new Set<number>()
  const errors: unknown[] = []
  const storage = createFileStorage({ directory, fs })
  const open = async (): Promise<DocStore> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await storage.open('doc')
      } catch (error) {
        errors.push(error)
        if (attempt === 20) throw error
      }
    }
  }
  let store = await open()
  let next = 0
  // Each edit is made by its own Yjs client, so edits do not depend on each other: a reopened
  // document shows exactly the edits whose updates it holds (a rejected append is not retried
  // here, and with a shared client its gap would hide every later edit from Yjs).
  const edit = (): Promise<void> => {
    const id = next++
    const author = new Y.Doc()
    author.clientID = 1000 + id
    author.getMap<number>('edits').set(`e${id}`, id)
    const update = Y.encodeStateAsUpdate(author)
    Y.applyUpdate(doc, update)
    return store.append(update).then(() => void acked.add(id), (e: unknown) => void errors.push(e))
  }
  const compact = async (): Promise<boolean> => {
    const covered = next
    try {
      await store.compact(Y.encodeStateAsUpdate(doc))
      for (let id = 0; id < covered; id++) acked.add(id)
      return true
    } catch (error) {
      errors.push(error)
      return false
    }
  }
  for (let step = 0; step < 24; step++) {
    const roll = prng.uint32(random, 0, 9)
    if (roll < 6) await edit()
    else if (roll < 8) await Promise.all([edit(), edit(), edit()])
    else {
      await compact()
      await edit() // an edit right after a compaction, failed or not, must land in the current generation
    }
    if (step === 12) {
      await store.close().catch((e: unknown) => void errors.push(e))
      store = await open()
    }
  }
  await store.close().catch((e: unknown) => void errors.push(e))
  return { acked, errors, expected: edits.toJSON(), doc }
}

/** Compacts the store from `doc` through `fs`, retrying once; whether it succeeded. */
async function compactAfter(directory: string, fs: FsOps, doc: Y.Doc, errors: unknown[]): Promise<boolean> {
  const storage = createFileStorage({ directory, fs })
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const store = await storage.open('doc')
      try {
        await store.compact(Y.encodeStateAsUpdate(doc))
        return true
      } finally {
        await store.close()
      }
    } catch (error) {
      errors.push(error)
    }
  }
  return false
}

/** Reopens the store on the real file system: its edits and the warnings seen. */
async function reopen(directory: string): Promise<{ edits: Record<string, unknown>; warnings: StorageWarning[] }> {
  const store = await createFileStorage(directory).open('doc')
  const warnings: StorageWarning[] = []
  store.on?.('warning', (w) => warnings.push(w))
  const doc = new Y.Doc()
  for (const record of await store.load()) Y.applyUpdate(doc, record)
  await store.close()
  return { edits: doc.getMap('edits').toJSON(), warnings }
}

function expectTypedErrors(errors: unknown[], causes: readonly string[]): void {
  for (const error of errors) {
    expect(CabildoError.is(error, 'E_STORAGE'), String(error)).toBe(true)
    if (CabildoError.is(error, 'E_STORAGE')) expect(causes).toContain(error.details.cause)
  }
}

/**
 * The real file system with fsync made a no-op: these tests are about the store's logic under
 * failures (the faulty layer still counts and fails the fsync calls), not about the disk.
 */
const base: FsOps = {
  ...nodeFsOps,
  async open(path, flags) {
    const file = await nodeFsOps.open(path, flags)
    return { ...file, sync: async () => undefined }
  },
  syncDirectory: async () => undefined,
}

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cabildo-faults-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('file storage under injected I/O errors', () => {
  it('with one fault at any write call: typed errors, no corruption, every acknowledged edit kept, compaction resumes', async () => {
    const dry = faultyFs(base, () => undefined)
    const clean = await runWorkload(join(root, 'dry'), dry.fs, SEED)
    expect(clean.errors).toEqual([])
    const kinds: FaultKind[] = ['ENOSPC', 'EIO', 'short-write', 'failing-fsync', 'EIO-after-effect']
    let runs = 0
    for (const [index, call] of dry.calls.entries()) {
      const applicable = kinds.filter((kind) => applies(kind, call))
      // ENOSPC and EIO take the same path outside write and fsync: alternate them there.
      const chosen = call === 'write' || call === 'sync' || call === 'syncDirectory'
        ? applicable
        : [index % 2 === 0 ? 'ENOSPC' : 'EIO', ...applicable.filter((kind) => kind === 'EIO-after-effect')] satisfies FaultKind[]
      for (const kind of chosen) {
        const directory = join(root, `run-${index}-${kind}`)
        const plan: FaultPlan = (n) => (n === index ? kind : undefined)
        const faulty = faultyFs(base, plan)
        const rerun = `fault ${kind} at call ${index} (${call}), seed ${SEED}`
        const outcome = await runWorkload(directory, faulty.fs, SEED)
        expect(faulty.injected, rerun).toHaveLength(1)
        expectTypedErrors(outcome.errors, ['ENOSPC', 'EIO'])
        const reopened = await reopen(directory)
        expect(reopened.warnings, rerun).toEqual([])
        for (const id of outcome.acked) expect(reopened.edits[`e${id}`], rerun).toBe(id)
        // Compaction works again after the fault, and then holds every edit.
        expect(await compactAfter(directory, faulty.fs, outcome.doc, outcome.errors), rerun).toBe(true)
        const compacted = await reopen(directory)
        expect(compacted.warnings, rerun).toEqual([])
        expect(compacted.edits, rerun).toEqual(outcome.expected)
        await rm(directory, { recursive: true, force: true })
        runs += 1
      }
    }
    expect(runs).toBeGreaterThan(dry.calls.length)
  })

  it('through a full disk lasting many calls: appends fail with ENOSPC, then one compaction makes everything durable', async () => {
    const dry = faultyFs(base, () => undefined)
    await runWorkload(join(root, 'dry-window'), dry.fs, SEED + 1)
    for (const start of [5, Math.floor(dry.calls.length / 3), Math.floor(dry.calls.length / 2)]) {
      const directory = join(root, `window-${start}`)
      const faulty = faultyFs(base, (n) => (n >= start && n < start + 12 ? 'ENOSPC' : undefined))
      const outcome = await runWorkload(directory, faulty.fs, SEED + 1)
      expect(outcome.errors.length).toBeGreaterThan(0)
      expectTypedErrors(outcome.errors, ['ENOSPC'])
      const { edits, warnings } = await reopen(directory)
      expect(warnings).toEqual([])
      for (const id of outcome.acked) expect(edits[`e${id}`]).toBe(id)
      expect(await compactAfter(directory, faulty.fs, outcome.doc, outcome.errors)).toBe(true)
      expect((await reopen(directory)).edits).toEqual(outcome.expected)
    }
  })

  it('leaves no temporary file behind after a failed compaction is followed by a successful one', async () => {
    const directory = join(root, 'tmp-files')
    let failNextSync = false
    const faulty = faultyFs(base, (_, call) => {
      if (call !== 'sync' || !failNextSync) return undefined
      failNextSync = false
      return 'failing-fsync'
    })
    const store = await createFileStorage({ directory, fs: faulty.fs }).open('doc')
    await store.append(new Uint8Array([1]))
    failNextSync = true
    const error = await store.compact(new Uint8Array([2])).catch((e: unknown) => e)
    expect(CabildoError.is(error, 'E_STORAGE') && error.details).toMatchObject({ operation: 'compact', key: 'doc', cause: 'EIO' })
    expect((await store.load()).map((r) => Array.from(r))).toEqual([[1]])
    await store.compact(new Uint8Array([3]))
    await store.close()
    expect((await readdir(directory)).sort()).toEqual(['doc@1.snapshot'])
  })
})
