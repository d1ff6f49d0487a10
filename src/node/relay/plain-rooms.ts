/**
 * The relay's plain y-websocket handler: standard Yjs clients (y-websocket's
 * `WebsocketProvider`) join a shard of a Space, one room per URL path (`/<space id>/<shard>`),
 * and what they write reaches cabildo peers as envelopes the relay signs, vouching that the
 * identity the relay admitted wrote it. Cabildo peers check those envelopes with their ingress
 * guards; their policies decide what such edits may change.
 *
 * ```ts
 * import { createPlainRooms, startRelay } from 'cabildo/node'
 * const relay = await startRelay({
 *   tokens: { 'token-of-ana': 'ana' },
 *   plain: ({ identity }) => createPlainRooms({ identity, accept: ['city/process.pb2027'] }),
 * })
 * // new WebsocketProvider(relay.url, 'city/process.pb2027', doc, { params: { token: 'token-of-ana' } })
 * ```
 *
 * A trust boundary, so closed by default: a room accepts plain clients only if `accept` lists
 * it; only connections admitted `read-write` with an identity may write; every write is checked
 * (bounded V1 decoding, size, client ownership per identity, clocks, the delete rule) before it
 * is signed. See `PlainRoom` for the protocol and docs/relay.md for what plain traffic proves.
 * @module
 */
import { CabildoError } from '../../errors'
import type { Identity } from '../../identity/identity'
import { MANIFEST_DOC } from '../../sync/shard-set'
import type { Space } from '../../sync/space'
import { createListenerSet } from '../../transports/listener-set'
import type { PlainConnection, PlainRoomHandler } from './plain-handler'
import { defaultPlainRoomLimits, PlainCloseCode, type PlainRoomLimits } from './plain-limits'
import { PlainRoom, type PlainRefusalCode, type PlainRoomContext } from './plain-room'

/** Which rooms accept plain clients: `<space id>/<shard>` names (`<space id>/*` for every shard of a Space), or a function. */
export type PlainRoomFilter = readonly string[] | ((spaceId: string, shard: string) => boolean)

/** Options of {@link createPlainRooms}. */
export interface PlainRoomsOptions {
  /** The relay's identity: it signs, and so vouches for, what plain clients write. */
  readonly identity: Pick<Identity, 'keyPair'>
  /**
   * The rooms that accept plain clients. Default: none (every plain connection is closed with
   * 4404): plain Yjs traffic carries no authorship of its own, so opening a room to it is a
   * decision per room. The Space's manifest (`_manifest`) never accepts plain clients.
   */
  readonly accept?: PlainRoomFilter
  /** Replaces some of the {@link defaultPlainRoomLimits}. */
  readonly limits?: Partial<PlainRoomLimits>
  /** Milliseconds between pings; a connection that did not answer the previous one is closed. Default 30,000; 0: never. */
  readonly pingEvery?: number
  /** The clock of the rate limits, in milliseconds (default `performance.now`). */
  readonly now?: () => number
}

/** The events of {@link PlainRooms}. */
export interface PlainRoomsEvents {
  /** A plain write was refused: nothing was applied, and the connection is closed. */
  refused: { readonly room: string; readonly identity: string | undefined; readonly code: PlainRefusalCode; readonly reason: string }
  /** The handler closed a connection (see `PlainCloseCode`). */
  dropped: { readonly room: string; readonly identity: string | undefined; readonly code: PlainCloseCode; readonly reason: string }
}

/** The plain y-websocket handler, with its events. */
export interface PlainRooms extends PlainRoomHandler {
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof PlainRoomsEvents>(event: E, listener: (payload: PlainRoomsEvents[E]) => void): () => void
  /** Live rooms (`<space id>/<shard>`) and their connection counts, sorted by room. */
  rooms(): Array<{ readonly room: string; readonly connections: number }>
  /** Resolves once every message received so far is processed (writes signed and applied). */
  idle(): Promise<void>
}

function acceptsFrom(filter: PlainRoomFilter | undefined): (spaceId: string, shard: string) => boolean {
  if (filter === undefined) return () => false
  if (typeof filter === 'function') return filter
  const exact = new Set(filter.filter((entry) => !entry.endsWith('/*')))
  const spaces = new Set(filter.filter((entry) => entry.endsWith('/*')).map((entry) => entry.slice(0, -2)))
  return (spaceId, shard) => spaces.has(spaceId) || exact.has(`${spaceId}/${shard}`)
}

function checkLimits(limits: PlainRoomLimits): PlainRoomLimits {
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !(value > 0)) throw new CabildoError('E_ARGUMENT', `plain room limit ${name} must be a positive number`, { argument: `limits.${name}`, reason: 'not a positive number' })
  }
  return limits
}

/**
 * Creates the plain y-websocket handler to give `startRelay` as `plain`.
 * @throws CabildoError `E_ARGUMENT` for a limit that is not a positive number.
 */
export function createPlainRooms(options: PlainRoomsOptions): PlainRooms {
  const accepts = acceptsFrom(options.accept)
  const limits = checkLimits({ ...defaultPlainRoomLimits, ...options.limits })
  const listeners = createListenerSet<PlainRoomsEvents>()
  const where = (connection: PlainConnection) => ({ room: `${connection.spaceId}/${connection.shard}`, identity: connection.identity })
  const context: PlainRoomContext = {
    signer: options.identity.keyPair,
    limits,
    now: options.now ?? (() => performance.now()),
    report: {
      refused: (connection, code, reason) => listeners.emit('refused', { ...where(connection), code, reason }),
      dropped: (connection, code, reason) => listeners.emit('dropped', { ...where(connection), code, reason }),
    },
  }
  /** Per Space (the relay may reopen a Space as a new object), shard → room. */
  const rooms = new Map<Space, Map<string, PlainRoom>>()
  let closed = false
  const pingEvery = options.pingEvery ?? 30_000
  const timer = pingEvery > 0 ? setInterval(() => forEachRoom((room) => room.heartbeat()), pingEvery) : undefined
  timer?.unref()

  function forEachRoom(run: (room: PlainRoom) => void): void {
    for (const byShard of rooms.values()) for (const room of byShard.values()) run(room)
  }

  function roomOf(space: Space, shard: string): PlainRoom {
    let byShard = rooms.get(space)
    if (byShard === undefined) rooms.set(space, (byShard = new Map()))
    let room = byShard.get(shard)
    if (room === undefined || room.closed) {
      const created: PlainRoom = new PlainRoom(space, shard, context, () => {
        const current = rooms.get(space)
        if (current?.get(shard) === created) current.delete(shard)
        if (current?.size === 0) rooms.delete(space)
      })
      byShard.set(shard, (room = created))
    }
    return room
  }

  function refuse(connection: PlainConnection, code: PlainCloseCode, reason: string): void {
    listeners.emit('dropped', { ...where(connection), code, reason })
    try {
      connection.socket.close(code, reason)
    } catch {
      connection.socket.terminate()
    }
  }

  return {
    handle(connection, space) {
      try {
        if (closed || space.closed) return refuse(connection, PlainCloseCode.goingAway, 'the relay is closing')
        if (connection.shard === MANIFEST_DOC || !accepts(connection.spaceId, connection.shard)) {
          return refuse(connection, PlainCloseCode.noRoom, 'this room does not accept plain y-websocket clients')
        }
        roomOf(space, connection.shard).add(connection)
      } catch {
        refuse(connection, PlainCloseCode.internalError, 'internal error')
      }
    },
    on: (event, listener) => listeners.on(event, listener),
    rooms() {
      const out: Array<{ room: string; connections: number }> = []
      for (const [space, byShard] of rooms) for (const [shard, room] of byShard) out.push({ room: `${space.id}/${shard}`, connections: room.size })
      return out.sort((a, b) => (a.room < b.room ? -1 : a.room > b.room ? 1 : 0))
    },
    async idle() {
      const all: PlainRoom[] = []
      forEachRoom((room) => all.push(room))
      await Promise.all(all.map((room) => room.idle()))
    },
    async close() {
      if (closed) return
      closed = true
      if (timer !== undefined) clearInterval(timer)
      const all: PlainRoom[] = []
      forEachRoom((room) => all.push(room))
      await Promise.all(all.map((room) => room.close(PlainCloseCode.goingAway, 'the relay is closing')))
      listeners.clear()
    },
  }
}
