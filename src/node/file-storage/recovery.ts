/**
 * Reads one document's files back and repairs what a crash or a damaged disk left behind, before
 * anything is appended. The single source of truth about a document's state on disk: the store
 * runs it on first use, on every `load()`, and after any failure that left the state uncertain.
 *
 * What it does, in order:
 * 1. The current generation is the highest one with a snapshot or a log. Files of older
 *    generations (an interrupted cleanup after a compaction) and unfinished snapshot temporaries
 *    are removed, after an fsync of the directory so that the newer generation is durable first.
 * 2. The snapshot, if any, must be intact; otherwise it is renamed `.corrupt` and reported.
 * 3. The log is scanned frame by frame. A torn tail is cut off; damage followed by intact frames
 *    is copied to a `.dropped-<offset>` file and then cut off. Both are reported; every intact
 *    record before the damage is kept.
 *
 * ```ts
 * const state = await recoverDocument({ fs, directory, stem, key, isAlive, warn })
 * state.records // [snapshot?, ...log records]
 * ```
 * @internal
 * @module
 */
import { join } from 'node:path'
import { CabildoError } from '../../errors'
import type { StorageWarning } from '../../storage/storage'
import { StorageWarningKind } from '../../storage/storage'
import { fileNames, parseFileName, type StoreFile } from './file-names'
import { errorCode, writeAll, type FsOps } from './fs-ops'
import {
  FILE_HEADER_BYTES,
  LOG_MAGIC,
  countIntactFrames,
  decodeSnapshotFile,
  hasMagic,
  isTornHeader,
  scanFrames,
  type FrameScan,
} from './framing'

/** What {@link recoverDocument} needs. */
export interface RecoveryContext {
  readonly fs: FsOps
  readonly directory: string
  readonly stem: string
  readonly key: string
  readonly isAlive: (pid: number) => boolean
  readonly warn: (warning: StorageWarning) => void
}

/** The state of a document on disk after recovery. */
export interface RecoveredDocument {
  /** The current generation (0 before the first compaction). */
  readonly generation: number
  /** The snapshot (if any) then the log's records. */
  readonly records: Uint8Array[]
  /** Whether the current generation's log file exists. */
  readonly logExists: boolean
  /** The log's length in bytes, header included (0 if it has no complete header yet). */
  readonly logSize: number
}

/**
 * Recovers one document's files.
 * @throws `E_STORAGE` (cause `EFORMAT`) if the log is not a cabildo log; the file system's error
 *   if a file cannot be read or repaired.
 */
export async function recoverDocument(context: RecoveryContext): Promise<RecoveredDocument> {
  const { fs, directory, stem } = context
  const files = (await fs.readdir(directory))
    .map(parseFileName)
    .filter((file): file is StoreFile => file !== undefined && file.stem === stem)
  const generation = Math.max(
    0,
    ...files.filter((f) => f.kind === 'log' || f.kind === 'snapshot').map((f) => f.generation ?? 0),
  )
  await removeLeftovers(context, files, generation)

  const records: Uint8Array[] = []
  if (files.some((f) => f.kind === 'snapshot' && f.generation === generation)) {
    const snapshot = await readSnapshot(context, generation)
    if (snapshot !== undefined) records.push(snapshot)
  }
  const logExists = files.some((f) => f.kind === 'log' && f.generation === generation)
  if (!logExists) return { generation, records, logExists, logSize: 0 }
  const log = await readLog(context, generation, records.length)
  records.push(...log.records)
  return { generation, records, logExists, logSize: log.size }
}

async function removeLeftovers(context: RecoveryContext, files: StoreFile[], generation: number): Promise<void> {
  const { fs, directory, isAlive } = context
  const older = files.filter((f) => (f.kind === 'log' || f.kind === 'snapshot') && (f.generation ?? 0) < generation)
  const temporaries = files.filter(
    (f) => f.kind === 'snapshot-tmp' || (f.kind === 'lock-tmp' && f.pid !== process.pid && !isAlive(f.pid ?? 0)),
  )
  // The newer generation's entries must be durable before the older ones disappear.
  if (older.length > 0) await fs.syncDirectory(directory)
  for (const file of [...older, ...temporaries]) {
    try {
      await fs.unlink(join(directory, file.name))
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error
    }
  }
}

async function readSnapshot(context: RecoveryContext, generation: number): Promise<Uint8Array | undefined> {
  const { fs, directory, stem, key } = context
  const path = join(directory, fileNames.snapshot(stem, generation))
  const bytes = await fs.readFile(path)
  const snapshot = decodeSnapshotFile(bytes)
  if (snapshot !== undefined) return snapshot
  const aside = await freeName(fs, directory, fileNames.corruptSnapshot(stem, generation))
  await fs.rename(path, join(directory, aside))
  await fs.syncDirectory(directory)
  context.warn({
    kind: StorageWarningKind.corruptSnapshot,
    key,
    message: `The snapshot of "${key}" failed its checksum; it was kept as ${aside} and only the later records were loaded`,
    offset: 0,
    keptRecords: 0,
    droppedBytes: bytes.length,
    droppedIntactRecords: 0,
    quarantine: join(directory, aside),
  })
  return undefined
}

async function readLog(
  context: RecoveryContext,
  generation: number,
  recordsBefore: number,
): Promise<{ records: Uint8Array[]; size: number }> {
  const { fs, directory, stem, key } = context
  const path = join(directory, fileNames.log(stem, generation))
  const bytes = await fs.readFile(path)
  let scan: FrameScan
  if (hasMagic(bytes, LOG_MAGIC)) {
    scan = scanFrames(bytes, FILE_HEADER_BYTES)
  } else if (!isTornHeader(bytes, LOG_MAGIC)) {
    throw new CabildoError('E_STORAGE', `${path} is not a cabildo log; refusing to touch it`, {
      operation: 'load',
      key,
      cause: 'EFORMAT',
    })
  } else if (bytes.length < FILE_HEADER_BYTES) {
    // The log's creation was interrupted before its header was complete: nothing was written.
    return { records: [], size: 0 }
  } else {
    // A zeroed header (a power loss before the first fsync): nothing here was acknowledged, since
    // the header is fsynced with the first records. Every byte is damage.
    scan = { records: [], end: 0, damage: { offset: 0, intactAfter: countIntactFrames(bytes, FILE_HEADER_BYTES) } }
  }
  if (scan.damage === undefined) return { records: scan.records, size: scan.end }

  const { offset, intactAfter } = scan.damage
  const droppedBytes = bytes.length - scan.end
  let quarantine: string | undefined
  if (intactAfter > 0) {
    const name = await freeName(fs, directory, fileNames.droppedLog(stem, generation, offset))
    quarantine = join(directory, name)
    const file = await fs.open(quarantine, 'wx')
    try {
      await writeAll(file, bytes.subarray(scan.end), 0)
      await file.sync()
    } finally {
      await file.close()
    }
    await fs.syncDirectory(directory)
  }
  const log = await fs.open(path, 'r+')
  try {
    await log.truncate(scan.end)
    await log.sync()
  } finally {
    await log.close()
  }
  const kept = recordsBefore + scan.records.length
  context.warn({
    kind: intactAfter > 0 ? StorageWarningKind.corruptRecord : StorageWarningKind.tornTail,
    key,
    message:
      intactAfter > 0
        ? `The log of "${key}" is damaged at byte ${offset}: ${droppedBytes} bytes (including ${intactAfter} intact-looking records) were set aside in ${quarantine}; ${kept} records before the damage were kept`
        : `The log of "${key}" ends with an interrupted write at byte ${offset}: ${droppedBytes} bytes were cut off; ${kept} records before it were kept`,
    offset,
    keptRecords: kept,
    droppedBytes,
    droppedIntactRecords: intactAfter,
    ...(quarantine === undefined ? {} : { quarantine }),
  })
  return { records: scan.records, size: scan.end }
}

/** `name`, or `name-1`, `name-2`, ... : the first that does not exist in `directory`. */
async function freeName(fs: FsOps, directory: string, name: string): Promise<string> {
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? name : `${name}-${n}`
    if ((await fs.size(join(directory, candidate))) === undefined) return candidate
  }
}
