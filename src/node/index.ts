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
export { startRelay, defaultRelayLimits, type Relay, type RelayOptions, type RelayLimits } from './relay/relay'
export { tokenAuthenticator, readTokenFile, requestToken, TokenFile, type RelayAuthenticate, type RelayAdmission, type RelayTarget } from './relay/relay-auth'
export { createMetricsRecorder, type RelayMetrics, type RelayMemory, type MetricsRecorder } from './relay/relay-metrics'
export type { PlainConnection, PlainRoomHandler } from './relay/plain-handler'
export { createWebSocketServerTransport, type WebSocketServerTransport, type WebSocketServerTransportOptions } from './relay/ws-server-transport'
export { defaultConnectionLimits, checkConnectionLimits, RefusedFrame, ClosedConnection, type ConnectionLimits, type ConnectionAccess, type ConnectionMeter, type AccessLevel } from './relay/connection-limits'
export { listenWebSocketTransport, type ListenWebSocketTransportOptions, type ListeningWebSocketTransport } from './relay/listen-websocket-transport'
export { RELAY_SPACE_ID, type RelayPeer } from './relay/relay-spaces'
export { runRelayCommand, RELAY_USAGE, type RelayIo } from './cli/relay'
export { createPlainRooms, type PlainRooms, type PlainRoomsOptions, type PlainRoomsEvents, type PlainRoomFilter } from './relay/plain-rooms'
export { PlainCloseCode, defaultPlainRoomLimits, type PlainRoomLimits } from './relay/plain-limits'
export type { PlainRefusalCode } from './relay/plain-room'
