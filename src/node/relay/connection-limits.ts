/**
 * What a server transport guards its connections with: the limits, why frames are refused and
 * connections end, and where those are counted.
 *
 * ```ts
 * const limits = checkConnectionLimits({ ...defaultConnectionLimits, messagesPerSecond: 5_000 })
 * const wss = new WebSocketServer({ noServer: true, maxPayload: maxPayloadFor(limits) })
 * ```
 * @module
 */
import { CabildoError } from '../../errors'
import { DATA_FRAME_OVERHEAD } from '../../transports/websocket-frames'

/** What a connection may do: read only, or read and write. */
export type AccessLevel = 'read' | 'read-write'

/** Who a connection was admitted as (by the relay's auth hook). */
export interface ConnectionAccess {
  /** The identity the auth hook admitted (undefined without auth). */
  readonly identity: string | undefined
  /** What the connection may do. */
  readonly access: AccessLevel
}

/** Limits that protect a server from its connections. */
export interface ConnectionLimits {
  /** The largest message, in bytes (a frame adds 2). Larger frames close the connection with 1009, unread. Default 16 MiB. */
  readonly maxMessageBytes: number
  /** Frames per second a connection may send on average (token bucket); a faster one is closed with 1008. Default 1,000. */
  readonly messagesPerSecond: number
  /** Frames a connection may send in one burst. Default 2,000. */
  readonly burstMessages: number
  /** Bad frames (undecodable, text, out of turn) after which a connection is closed with 1008. Default 32. */
  readonly maxBadFrames: number
  /** Bytes queued to a connection that does not read, after which it is closed with 1008. Default 256 MiB. */
  readonly maxBufferedBytes: number
  /** How long a connection may take to send its `hello`, in milliseconds (then closed with 4408). Default 10,000. */
  readonly handshakeTimeoutMs: number
  /** Ping every connection this often and close those that did not answer the last ping, in milliseconds (0: never). Default 30,000. */
  readonly heartbeatMs: number
}

/** Default {@link ConnectionLimits}. */
export const defaultConnectionLimits: ConnectionLimits = {
  maxMessageBytes: 16 * 1024 * 1024,
  messagesPerSecond: 1_000,
  burstMessages: 2_000,
  maxBadFrames: 32,
  maxBufferedBytes: 256 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  heartbeatMs: 30_000,
}

/** Why a frame was refused. */
export const RefusedFrame = {
  /** Not a frame: too short. */
  malformed: 'malformed',
  /** Another frame format version. */
  version: 'version',
  /** An unknown frame type. */
  type: 'type',
  /** A `hello` that could not be decoded. */
  hello: 'hello',
  /** A text message. */
  text: 'text',
  /** Data before the handshake completed. */
  early: 'early',
  /** A second `hello` on one connection. */
  helloAgain: 'hello-again',
  /** A frame over `maxMessageBytes` (the connection is closed with 1009). */
  oversize: 'oversize',
  /** A frame over the rate (the connection is closed with 1008). */
  rate: 'rate',
} as const

/** One of {@link RefusedFrame}'s values. */
export type RefusedFrame = (typeof RefusedFrame)[keyof typeof RefusedFrame]

/** Why a connection ended. */
export const ClosedConnection = {
  /** The client closed it (or its network did). */
  client: 'client',
  /** Closed by the server transport's `close()` (1001). */
  server: 'server',
  /** Too many bad frames (1008). */
  badFrames: 'bad-frames',
  /** Over the rate (1008). */
  rate: 'rate',
  /** A frame over `maxMessageBytes` (1009). */
  tooLarge: 'too-large',
  /** Its peer id is in use by another live connection (4409). */
  duplicatePeer: 'duplicate-peer',
  /** No `hello` in time (4408). */
  handshakeTimeout: 'handshake-timeout',
  /** No answer to a ping. */
  heartbeat: 'heartbeat',
  /** It did not read what was sent to it (1008). */
  backpressure: 'backpressure',
  /** Disconnected by the application (e.g. a relay whose sync engine ignores the peer after too many strikes). */
  policy: 'policy',
  /** A socket error. */
  error: 'error',
} as const

/** One of {@link ClosedConnection}'s values. */
export type ClosedConnection = (typeof ClosedConnection)[keyof typeof ClosedConnection]

/** Where a server transport counts what happens on its connections (a relay's metrics). */
export interface ConnectionMeter {
  /** A data frame of `bytes` bytes arrived and was delivered. */
  frameIn(bytes: number): void
  /** A data frame of `bytes` bytes was sent. */
  frameOut(bytes: number): void
  /** A frame was refused. */
  refused(reason: RefusedFrame): void
  /** A connection ended. */
  closed(reason: ClosedConnection): void
}

/**
 * Checks limits: every one a safe integer, at least 1 (`heartbeatMs` may be 0).
 * @throws CabildoError `E_ARGUMENT` naming the first invalid limit.
 */
export function checkConnectionLimits<L extends ConnectionLimits>(limits: L): L {
  for (const [name, value] of Object.entries(limits)) {
    const zeroAllowed = name === 'heartbeatMs'
    if (!(Number.isSafeInteger(value) && value >= (zeroAllowed ? 0 : 1))) {
      throw new CabildoError('E_ARGUMENT', `limits.${name} must be an integer >= ${zeroAllowed ? 0 : 1}, got ${value}`, {
        argument: `limits.${name}`,
        reason: `not an integer >= ${zeroAllowed ? 0 : 1}`,
      })
    }
  }
  return limits
}

/** The `maxPayload` to give a `ws` server for a transport with these limits: the largest frame. */
export function maxPayloadFor(limits: Pick<ConnectionLimits, 'maxMessageBytes'>): number {
  return limits.maxMessageBytes + DATA_FRAME_OVERHEAD
}
