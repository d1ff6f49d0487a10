/**
 * A file system that fails on purpose: wraps the real one and injects a fault at chosen mutating
 * calls (open, write, fsync, truncate, rename, link, unlink, mkdir, directory fsync).
 */
import type { FileOps, FsOps } from '../../../src/node/file-storage/fs-ops'

/**
 * The kinds of injected faults. `EIO-after-effect` makes the call take effect and then report
 * EIO: the ambiguous outcome a caller cannot tell from a failure.
 */
export type FaultKind = 'ENOSPC' | 'EIO' | 'short-write' | 'failing-fsync' | 'EIO-after-effect'

/** The mutating calls, by name. */
export type CallName = 'open' | 'write' | 'sync' | 'truncate' | 'rename' | 'link' | 'unlink' | 'mkdir' | 'syncDirectory'

/** Whether a fault kind can hit a call. */
export function applies(kind: FaultKind, call: CallName): boolean {
  if (kind === 'short-write') return call === 'write'
  if (kind === 'failing-fsync') return call === 'sync' || call === 'syncDirectory'
  if (kind === 'EIO-after-effect') return call === 'rename' || call === 'link' || call === 'unlink' || call === 'truncate' || call === 'open'
  return true
}

/** Decides, for the n-th mutating call (from 0), whether to inject a fault and which. */
export type FaultPlan = (index: number, call: CallName) => FaultKind | undefined

const failure = (code: string, call: CallName): Error => Object.assign(new Error(`injected ${code} in ${call}`), { code })

/** A faulty file system over `base`, and the log of the mutating calls it saw. */
export function faultyFs(base: FsOps, plan: FaultPlan): { fs: FsOps; calls: CallName[]; injected: Array<{ index: number; call: CallName; kind: FaultKind }> } {
  const calls: CallName[] = []
  const injected: Array<{ index: number; call: CallName; kind: FaultKind }> = []
  const next = (call: CallName): FaultKind | undefined => {
    const index = calls.length
    calls.push(call)
    const kind = plan(index, call)
    if (kind !== undefined && applies(kind, call)) {
      injected.push({ index, call, kind })
      return kind
    }
    return undefined
  }
  /** Runs a non-write call, failing before it takes effect (or after, for `EIO-after-effect`). */
  const guarded = async <T>(call: CallName, run: () => Promise<T>, undo?: (result: T) => Promise<void>): Promise<T> => {
    const kind = next(call)
    if (kind === undefined) return run()
    if (kind === 'EIO-after-effect') {
      const result = await run()
      await undo?.(result)
      throw failure('EIO', call)
    }
    throw failure(kind === 'ENOSPC' ? 'ENOSPC' : 'EIO', call)
  }
  const wrapFile = (file: FileOps): FileOps => ({
    async write(data, position) {
      const kind = next('write')
      if (kind === undefined) return file.write(data, position)
      const half = data.subarray(0, Math.floor(data.length / 2))
      const written = half.length > 0 ? await file.write(half, position) : 0
      // A short write reports fewer bytes; ENOSPC and EIO fail after writing some of them.
      if (kind === 'short-write') return written
      throw failure(kind === 'ENOSPC' ? 'ENOSPC' : 'EIO', 'write')
    },
    async sync() {
      const kind = next('sync')
      // A failing fsync: the data may have reached the page cache, but it is not durable.
      if (kind !== undefined) throw failure(kind === 'ENOSPC' ? 'ENOSPC' : 'EIO', 'sync')
      return file.sync()
    },
    truncate: (length) => guarded('truncate', () => file.truncate(length)),
    close: () => file.close(),
  })
  const fs: FsOps = {
    // An open that fails after taking effect has created the file, but the caller gets no handle.
    open: (path, flags) => guarded('open', async () => wrapFile(await base.open(path, flags)), (file) => file.close()),
    readFile: (path) => base.readFile(path),
    readdir: (directory) => base.readdir(directory),
    size: (path) => base.size(path),
    rename: (from, to) => guarded('rename', () => base.rename(from, to)),
    link: (from, to) => guarded('link', () => base.link(from, to)),
    unlink: (path) => guarded('unlink', () => base.unlink(path)),
    mkdir: (directory) => guarded('mkdir', () => base.mkdir(directory)),
    syncDirectory: (directory) => guarded('syncDirectory', () => base.syncDirectory(directory)),
  }
  return { fs, calls, injected }
}
