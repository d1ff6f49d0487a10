/**
 * The file-system calls the file store makes, behind a small interface so tests can inject I/O
 * errors (ENOSPC, EIO, short writes, a failing fsync) at any call. {@link nodeFsOps} is the real
 * implementation on `node:fs/promises`.
 *
 * ```ts
 * const file = await nodeFsOps.open('/data/x@0.log', 'w+')
 * await writeAll(file, bytes, 0)
 * await file.sync()
 * ```
 * @internal
 * @module
 */
import { open as openFile, readFile, readdir, rename, link, unlink, mkdir, stat } from 'node:fs/promises'

/** An open file. */
export interface FileOps {
  /** Writes `data` at `position`; resolves to how many bytes were written (possibly fewer). */
  write(data: Uint8Array, position: number): Promise<number>
  /** Makes the file's data and size durable (fsync). */
  sync(): Promise<void>
  /** Cuts or extends the file to `length` bytes. */
  truncate(length: number): Promise<void>
  /** Closes the file. */
  close(): Promise<void>
}

/** How a file is opened: create or truncate (`w+`), read-write an existing one (`r+`), create exclusively (`wx`). */
export type OpenFlags = 'w+' | 'r+' | 'wx'

/** The file-system calls of the file store. Paths are absolute. */
export interface FsOps {
  open(path: string, flags: OpenFlags): Promise<FileOps>
  readFile(path: string): Promise<Uint8Array>
  readdir(directory: string): Promise<string[]>
  /** The size of a file, or undefined if it does not exist. */
  size(path: string): Promise<number | undefined>
  rename(from: string, to: string): Promise<void>
  /** Creates `to` as a hard link to `from`; fails with EEXIST if `to` exists. */
  link(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
  /** Creates a directory and its parents if missing. */
  mkdir(directory: string): Promise<void>
  /** Makes the directory's entries (created, renamed, removed files) durable. */
  syncDirectory(directory: string): Promise<void>
}

/** The error code of a Node file-system error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * Writes all of `data` at `position`, looping over short writes.
 * @throws the file system's error, or an `EIO` error if a write makes no progress.
 */
export async function writeAll(file: FileOps, data: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < data.length) {
    const written = await file.write(data.subarray(done), position + done)
    if (written <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' })
    done += written
  }
}

/** The real file system (`node:fs/promises`). */
export const nodeFsOps: FsOps = {
  async open(path, flags) {
    const handle = await openFile(path, flags)
    return {
      async write(data, position) {
        const { bytesWritten } = await handle.write(data, 0, data.length, position)
        return bytesWritten
      },
      sync: () => handle.sync(),
      truncate: (length) => handle.truncate(length),
      close: () => handle.close(),
    }
  },
  async readFile(path) {
    const buffer = await readFile(path)
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  },
  readdir: (directory) => readdir(directory),
  async size(path) {
    try {
      return (await stat(path)).size
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined
      throw error
    }
  },
  rename: (from, to) => rename(from, to),
  link: (from, to) => link(from, to),
  unlink: (path) => unlink(path),
  async mkdir(directory) {
    await mkdir(directory, { recursive: true })
  },
  async syncDirectory(directory) {
    // POSIX: a new or renamed entry is durable only once its directory is fsynced. Windows cannot
    // open a directory for fsync (EISDIR/EPERM); there NTFS journals metadata and we skip it.
    let handle
    try {
      handle = await openFile(directory, 'r')
    } catch (error) {
      if (process.platform === 'win32') return
      throw error
    }
    try {
      await handle.sync()
    } catch (error) {
      const code = errorCode(error)
      if (!(process.platform === 'win32' && (code === 'EPERM' || code === 'EISDIR'))) throw error
    } finally {
      await handle.close()
    }
  },
}
