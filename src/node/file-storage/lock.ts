/**
 * One writer per document: a lock file `<stem>@lock` names the process that holds the document.
 *
 * The lock file appears atomically with its content (written to a temporary file, then
 * hard-linked into place, which fails if the lock exists). A lock whose process is dead is stale
 * and is taken over: it is renamed aside, checked to be the one judged stale, then removed. A lock
 * from another host cannot be checked and is always honoured. Within a process, a registry of held
 * lock paths stops two opens of the same document.
 *
 * ```ts
 * const lock = await acquireLock({ fs: nodeFsOps, directory, stem, key, isAlive })
 * await lock.release()
 * ```
 * @internal
 * @module
 */
import { hostname } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { lockedError } from '../../storage/storage-errors'
import { fileNames } from './file-names'
import { errorCode, writeAll, type FsOps } from './fs-ops'

/** The lock paths this process holds (shared by every file storage of the process). */
const heldLocks = new Set<string>()

/** What a lock file says about its holder. */
interface LockOwner {
  readonly pid: number
  readonly host: string
  readonly token: string
}

/** A held lock. */
export interface HeldLock {
  /** Removes the lock file. Safe to call twice. */
  release(): Promise<void>
}

/** What {@link acquireLock} needs. */
export interface LockContext {
  readonly fs: FsOps
  readonly directory: string
  readonly stem: string
  readonly key: string
  /** Whether a process of this host is alive. */
  readonly isAlive: (pid: number) => boolean
}

/** Whether a process is alive, by sending it signal 0 (EPERM means it exists but is not ours). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return errorCode(error) === 'EPERM'
  }
}

function parseOwner(bytes: Uint8Array): LockOwner | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as Partial<LockOwner>
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.token === 'string') {
      return { pid: value.pid, host: value.host, token: value.token }
    }
  } catch {
    // An unreadable lock was not written by us (ours appear whole): treated as stale below.
  }
  return undefined
}

/** Why a lock is held, or undefined if it is stale. */
function holderOf(owner: LockOwner | undefined, lockPath: string, isAlive: (pid: number) => boolean): string | undefined {
  if (owner === undefined) return undefined
  if (owner.host !== hostname()) return `process ${owner.pid} on host ${owner.host}`
  // Our own pid but not in the registry: a lock this process failed to remove earlier.
  if (owner.pid === process.pid) return heldLocks.has(lockPath) ? 'open in this process' : undefined
  return isAlive(owner.pid) ? `process ${owner.pid}` : undefined
}

async function readOwner(fs: FsOps, path: string): Promise<LockOwner | undefined | 'missing'> {
  try {
    return parseOwner(await fs.readFile(path))
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'missing'
    throw error
  }
}

async function unlinkQuietly(fs: FsOps, path: string): Promise<void> {
  try {
    await fs.unlink(path)
  } catch {
    // Leftover temporaries are removed when the document is next recovered.
  }
}

/**
 * Takes the lock of one document.
 * @throws `E_STORAGE` (cause `ELOCKED`) if a live process holds it; the file system's error otherwise.
 */
export async function acquireLock(context: LockContext): Promise<HeldLock> {
  const { fs, directory, stem, key, isAlive } = context
  const lockPath = join(directory, fileNames.lock(stem))
  if (heldLocks.has(lockPath)) throw lockedError(key, 'open in this process')
  const token = randomBytes(8).toString('hex')
  const owner: LockOwner = { pid: process.pid, host: hostname(), token }
  const tempPath = join(directory, fileNames.lockTemp(stem, process.pid, token, 'tmp'))
  const file = await fs.open(tempPath, 'wx')
  try {
    await writeAll(file, new TextEncoder().encode(JSON.stringify({ ...owner, key })), 0)
  } finally {
    await file.close()
  }
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        await fs.link(tempPath, lockPath)
        heldLocks.add(lockPath)
        return createHeldLock(fs, lockPath)
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error
      }
      const current = await readOwner(fs, lockPath)
      if (current === 'missing') continue
      const holder = holderOf(current, lockPath, isAlive)
      if (holder !== undefined) throw lockedError(key, holder)
      await takeOverStale(fs, directory, stem, key, lockPath, token, current)
    }
    throw lockedError(key, 'contended by several processes')
  } finally {
    await unlinkQuietly(fs, tempPath)
  }
}

/** Moves a stale lock aside, after checking that what was moved is the lock judged stale. */
async function takeOverStale(
  fs: FsOps,
  directory: string,
  stem: string,
  key: string,
  lockPath: string,
  token: string,
  stale: LockOwner | undefined,
): Promise<void> {
  const asidePath = join(directory, fileNames.lockTemp(stem, process.pid, token, 'stale'))
  try {
    await fs.rename(lockPath, asidePath)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return // someone else removed it: try again
    throw error
  }
  const moved = await readOwner(fs, asidePath)
  const same = moved !== 'missing' && moved?.token === stale?.token
  if (!same) {
    // Another process took the lock between our read and our rename: give it back.
    try {
      await fs.link(asidePath, lockPath)
    } finally {
      await unlinkQuietly(fs, asidePath)
    }
    throw lockedError(key, 'taken over by another process')
  }
  await unlinkQuietly(fs, asidePath)
}

function createHeldLock(fs: FsOps, lockPath: string): HeldLock {
  let released = false
  return {
    async release() {
      if (released) return
      released = true
      // Leave the registry even if the unlink fails: the file then names this live process, and
      // a later open in this process treats it as stale (see holderOf).
      heldLocks.delete(lockPath)
      try {
        await fs.unlink(lockPath)
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error
      }
    },
  }
}
