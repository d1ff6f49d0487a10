/**
 * The embedded default for Node: a Space whose documents live in a directory, with nothing
 * else to install.
 *
 * ```ts
 * import { openFileSpace } from 'cabildo/node'
 * const space = await openFileSpace({ id: 'city-of-example', directory: './data' })
 * await space.tickets.create({ service_code: 'pothole', district: 'north' })
 * await space.close() // flushes; the next openFileSpace on ./data finds the ticket
 * ```
 * @module
 */
import { openSpace, type Space, type SpaceOptions } from '../sync/space'
import { createFileStorage, type FileStorageOptions } from './file-storage'

/** Options of {@link openFileSpace}: a Space's options, with a directory instead of a storage. */
export interface FileSpaceOptions extends Omit<SpaceOptions, 'storage'> {
  /** The directory holding the Space's documents (created if missing). */
  readonly directory: string
  /** Largest number of bytes grouped into one write and fsync (see the file store). */
  readonly maxBatchBytes?: FileStorageOptions['maxBatchBytes']
}

/**
 * Opens a Space kept in a directory: every document is an append-only, checksummed log there,
 * locked against a second writing process, and loaded back on the next open.
 * @throws CabildoError `E_STORAGE` when the directory cannot be used or another process holds it.
 */
export function openFileSpace(options: FileSpaceOptions): Promise<Space> {
  const { directory, maxBatchBytes, ...spaceOptions } = options
  const storage = createFileStorage(maxBatchBytes === undefined ? { directory } : { directory, maxBatchBytes })
  return openSpace({ ...spaceOptions, storage })
}
