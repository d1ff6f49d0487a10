/**
 * The limits and close codes of plain y-websocket connections (see `createPlainRooms`).
 *
 * ```ts
 * const plain = createPlainRooms({ identity, accept: ['city/*'], limits: { ...defaultPlainRoomLimits, messagesPerSecond: 20 } })
 * plain.on('dropped', ({ code }) => code === PlainCloseCode.forbidden && console.warn('a write was refused'))
 * ```
 * @module
 */

/** Close codes the plain handler uses. y-websocket clients do not reconnect after 4400–4499. */
export const PlainCloseCode = {
  /** The relay or the Space is closing. */
  goingAway: 1001,
  /** Too fast, or not reading what it is sent: reconnect later (the client's step 2 brings back what was dropped). */
  tryAgainLater: 1013,
  /** A failure of the handler itself. */
  internalError: 1011,
  /** Kept sending messages that could not be decoded. */
  badMessages: 4400,
  /** A write was refused: a read-only or anonymous connection, or an update the checks refused. */
  forbidden: 4403,
  /** The room does not exist or does not accept plain clients. */
  noRoom: 4404,
  /** A message over the size limit. */
  tooLarge: 4413,
} as const
/** A close code of the plain handler. */
export type PlainCloseCode = (typeof PlainCloseCode)[keyof typeof PlainCloseCode]

/** Limits of plain connections. */
export interface PlainRoomLimits {
  /** Largest message, in bytes (a larger one closes the connection). Default 4 MiB. */
  readonly maxMessageBytes: number
  /** Messages per second per connection, on average. Default 100. */
  readonly messagesPerSecond: number
  /** Messages a connection may send at once above the average. Default 300. */
  readonly messageBurst: number
  /** Largest awareness update, in bytes (a larger one is dropped, with a strike). Default 32 KiB. */
  readonly maxAwarenessBytes: number
  /** Awareness client ids one connection may present. Default 4. */
  readonly maxAwarenessClients: number
  /** Undecodable or refused messages before the connection is closed. Default 8. */
  readonly maxStrikes: number
  /** Messages waiting to be processed per connection. Default 1,000. */
  readonly maxQueued: number
  /** Bytes waiting in a connection's send buffer before it is closed as too slow. Default 16 MiB. */
  readonly maxBufferedBytes: number
}

/** Default {@link PlainRoomLimits}. */
export const defaultPlainRoomLimits: PlainRoomLimits = {
  maxMessageBytes: 4 * 1024 * 1024,
  messagesPerSecond: 100,
  messageBurst: 300,
  maxAwarenessBytes: 32 * 1024,
  maxAwarenessClients: 4,
  maxStrikes: 8,
  maxQueued: 1_000,
  maxBufferedBytes: 16 * 1024 * 1024,
}
