/**
 * The relay's plug-in point for the plain y-websocket protocol: standard Yjs clients
 * (`y-websocket`'s `WebsocketProvider`) connect to `/<space id>/<shard>` without a subprotocol,
 * and the relay hands each admitted connection to a {@link PlainRoomHandler}, one room per shard.
 *
 * ```ts
 * import type { PlainRoomHandler } from 'cabildo/node'
 * declare const plain: PlainRoomHandler // e.g. createPlainRooms({ identity }), which vouches for what plain clients write
 * // startRelay({ port: 1234, plain })
 * await plain.close()
 * ```
 *
 * Without a handler, the relay refuses plain upgrades (404).
 * @module
 */
import type { WebSocket } from 'ws'
import type { Space } from '../../sync/space'

/** A plain y-websocket connection the relay admitted. */
export interface PlainConnection {
  /** The upgraded socket; the handler owns it from now on (the relay only counts it, and closes it when the relay closes). */
  readonly socket: WebSocket
  /** The Space id: the first segment of the request path. */
  readonly spaceId: string
  /** The shard (the room): the second segment of the request path, URL-decoded and not checked; the handler refuses names it cannot use. */
  readonly shard: string
  /** The identity the auth hook admitted (undefined when the relay has no auth). */
  readonly identity: string | undefined
  /** What the connection may do: `read` connections must not change the Space. */
  readonly access: 'read' | 'read-write'
}

/** Serves the plain y-websocket protocol for the relay (one room per shard). */
export interface PlainRoomHandler {
  /**
   * Takes over an admitted connection; `space` is the relay's Space for `connection.spaceId`
   * (open, with its sync engines running). Called once per connection, after the upgrade; must
   * not throw (a throw closes the socket with 1011).
   */
  handle(connection: PlainConnection, space: Space): void
  /** Closes every plain connection. The relay awaits it when it closes, before closing its Spaces. */
  close(): Promise<void>
}
