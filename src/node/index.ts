/**
 * `cabildo/node`: the Node-only pieces (relay server, file storage, CLI helpers).
 *
 * ```ts
 * import { createSpace } from 'cabildo'
 * import {} from 'cabildo/node'
 * ```
 * @module
 */
export * from './file-identity-store'
export { runPbCommand, type PbIo } from './cli/pb'
export { createFileStorage, type FileStorage, type FileStorageOptions, type FileDocStore } from './file-storage'
export { openFileSpace, type FileSpaceOptions } from './file-space'
export { runBundleCommand, BUNDLE_USAGE, type BundleIo } from './cli/bundle'
export { createPostgresStorage, MAX_POSTGRES_KEY_BYTES, type PostgresStorage, type PostgresStorageOptions, type PostgresDocStore, type PostgresPool, type PostgresPoolClient, type PostgresQueryResult, type PostgresRetryOptions } from './postgres-storage'
