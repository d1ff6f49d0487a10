/**
 * A bridge from one shard of a Space to a room of any y-websocket server, for interop with
 * existing Yjs infrastructure inside one trust domain. Plain Yjs traffic carries no authorship:
 * what arrives through the bridge is checked (size, complete V1 decoding) but not authenticated,
 * and stays local to this replica.
 *
 * ```ts
 * import { bridgeYWebsocket, createSpace } from 'cabildo'
 * const space = createSpace({ id: 'city' })
 * const ticket = await space.tickets.create({ service_code: 'pothole', district: 'north' })
 * const bridge = await bridgeYWebsocket(space, ticket.shard, { url: 'ws://127.0.0.1:1234' })
 * bridge.on('rejected', ({ error }) => console.warn(error.code, error.message))
 * await bridge.whenSynced()
 * ```
 * @module
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { Awareness, applyAwarenessUpdate } from 'y-protocols/awareness'
import * as authProtocol from 'y-protocols/auth'
import * as syncProtocol from 'y-protocols/sync'
import { WebsocketProvider, messageAuth, messageAwareness, messageSync } from 'y-websocket'
import * as Y from 'yjs'
import { CabildoError } from '../errors'
import { createListenerSet } from '../transports/listener-set'
import { checkAwarenessUpdate } from './awareness-check'
import { DEFAULT_MAX_UPDATE_BYTES } from './manual-sync'
import { MANIFEST_DOC } from './shard-set'
import type { Space } from './space'
import { defaultInspectLimits, inspectUpdate } from './update-inspector'

/** The connection states of a {@link YWebsocketBridge}, as y-websocket reports them. */
export const YWebsocketBridgeStatus = {
  /** A socket is opening (first connection or a reconnection after a backoff delay). */
  connecting: 'connecting',
  /** The socket is open. */
  connected: 'connected',
  /** No socket is open: the connection broke, the server closed it, or the bridge was destroyed. */
  disconnected: 'disconnected',
} as const

/** One of {@link YWebsocketBridgeStatus}. */
export type YWebsocketBridgeStatus = (typeof YWebsocketBridgeStatus)[keyof typeof YWebsocketBridgeStatus]

/** The codes of what a bridge refuses from the server. */
export type YWebsocketRejectionCode = 'E_UPDATE_MALFORMED' | 'E_UPDATE_TOO_LARGE' | 'E_FORGED_CLIENT'

/** Which message from the server a bridge refused. */
export type YWebsocketMessageKind = 'sync-step-2' | 'update' | 'awareness' | 'unknown'

/** The events of a {@link YWebsocketBridge}. */
export interface YWebsocketBridgeEvents {
  /** The connection changed state. */
  status: { readonly status: YWebsocketBridgeStatus }
  /** The shard caught up with the room (`true`, after the server's sync step 2), or the connection broke (`false`). */
  synced: { readonly synced: boolean }
  /** A message from the server was refused: nothing of it reached the shard. The bridge goes on. */
  rejected: { readonly error: CabildoError<YWebsocketRejectionCode>; readonly message: YWebsocketMessageKind }
  /** The server denied access (y-protocols' auth message). */
  denied: { readonly reason: string }
  /** The server closed the connection with a code in 4400–4499: y-websocket does not reconnect after those. */
  closed: { readonly code: number; readonly reason: string }
}

/** Options of {@link bridgeYWebsocket}. */
export interface YWebsocketBridgeOptions {
  /** The server, `ws://` or `wss://`; the room is appended as a path. */
  readonly url: string
  /** The room. Default `<space id>/<shard>`, each part URI-encoded: the rooms a cabildo relay serves to plain clients. */
  readonly room?: string
  /** Query parameters of the connection (e.g. a token). */
  readonly params?: Readonly<Record<string, string>>
  /** The WebSocket constructor. Default `globalThis.WebSocket`; in Node 20, `WebSocket` from the `ws` package. */
  readonly WebSocketPolyfill?: typeof WebSocket
  /** The largest update accepted from the server, in bytes. Default 16 MiB ({@link DEFAULT_MAX_UPDATE_BYTES}). */
  readonly maxUpdateBytes?: number
  /**
   * Publish this replica's presence in the room: the local state of `space.presence(shard)`
   * becomes the bridge's local state in the room, and follows its changes. Default `false`: the
   * bridge shows no presence. Either way, the room's presence is read from `bridge.awareness`
   * and never enters the Space's presence.
   */
  readonly awareness?: boolean
  /** The longest wait between reconnection attempts, in milliseconds. Default 2 500 (y-websocket's). */
  readonly maxBackoffTime?: number
}

/** A shard attached to a y-websocket room; see {@link bridgeYWebsocket}. */
export interface YWebsocketBridge {
  /** The room's name on the server. */
  readonly room: string
  /** The connection's state now. */
  readonly status: YWebsocketBridgeStatus
  /** Whether the shard has caught up with the room since the connection opened. */
  readonly synced: boolean
  /**
   * The provider, as an escape hatch (its `ws`, its `url`, its own events). Its document is the
   * bridge's mirror of the shard, never the shard itself: write to the shard, not to
   * `provider.doc`.
   */
  readonly provider: WebsocketProvider
  /** The room's presence (the states of the room's clients), checked before it is applied. */
  readonly awareness: Awareness
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof YWebsocketBridgeEvents>(event: E, listener: (payload: YWebsocketBridgeEvents[E]) => void): () => void
  /**
   * Resolves once the shard has caught up with the room (at once if it has).
   * @throws CabildoError `E_CLOSED` when the bridge is destroyed first.
   */
  whenSynced(): Promise<void>
  /** Closes the connection and stops forwarding either way. Idempotent; also done when the Space closes. */
  destroy(): void
}

function argument(name: string, reason: string): CabildoError<'E_ARGUMENT'> {
  return new CabildoError('E_ARGUMENT', `Invalid ${name}: ${reason}`, { argument: name, reason })
}

type Handler = WebsocketProvider['messageHandlers'][number]

/** The message types of y-websocket (sync, awareness, auth, query awareness): one-byte varuints. */
const KNOWN_TYPES = 4

/**
 * A WebSocket constructor whose `onmessage` handler is guarded: a message that is not binary or
 * has no known type is reported and dropped (y-websocket would throw reading its type, or log an
 * unknown one), and a handler that throws is reported instead of escaping into the socket's
 * event loop, where Node's `ws` would turn it into an uncaught exception.
 */
function guardedWebSocket(Base: typeof WebSocket, onRefused: (reason: string) => void): typeof WebSocket {
  return class GuardedWebSocket extends Base {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols)
      let handler: ((this: WebSocket, event: MessageEvent) => unknown) | null = null
      Object.defineProperty(this, 'onmessage', {
        configurable: true,
        get: () => handler,
        set: (next: typeof handler) => {
          handler = next
        },
      })
      this.addEventListener('message', (event: MessageEvent) => {
        if (handler === null) return
        const data: unknown = event.data
        if (typeof data === 'string') return onRefused('a text message')
        const type = new Uint8Array(data as ArrayBuffer)[0]
        if (type === undefined || type >= KNOWN_TYPES) return onRefused(type === undefined ? 'empty message' : `unknown message type ${type}`)
        try {
          handler.call(this, event)
        } catch (error) {
          onRefused(error instanceof Error ? error.message : String(error))
        }
      })
    }
  }
}

/**
 * Attaches the shard `shard` of `space` to a room of a y-websocket server, through y-websocket's
 * `WebsocketProvider`, and keeps both in step, reconnecting with backoff until
 * {@link YWebsocketBridge.destroy}.
 *
 * The provider works on a mirror document, never on the shard: every update from the server is
 * read completely first, with the checks of `applyDocUpdate` (size, V1 only, the guard's bounded
 * decoding), and refused when it would write under the client id this replica writes under
 * (`E_FORGED_CLIENT`). An update that passes reaches the shard and the mirror in full; one that
 * fails reaches neither and is reported by a `rejected` event. Every change of the shard (local
 * edits, content from cabildo peers or storage) goes to the room.
 *
 * What arrives through the bridge is unsigned: the shard holds it, but the Space's sync engines
 * never send it to cabildo peers (`space.signedDocs.get(shard).unsigned()` counts it).
 * @throws CabildoError `E_ARGUMENT` for an invalid option, the manifest, or an invalid shard name;
 * `E_CLOSED` when the Space is closed.
 */
export async function bridgeYWebsocket(space: Space, shard: string, options: YWebsocketBridgeOptions): Promise<YWebsocketBridge> {
  if (!/^wss?:\/\//.test(options.url)) throw argument('url', 'must start with ws:// or wss://')
  const limit = options.maxUpdateBytes ?? DEFAULT_MAX_UPDATE_BYTES
  if (!Number.isSafeInteger(limit) || limit <= 0) throw argument('maxUpdateBytes', 'must be a positive integer')
  if (options.maxBackoffTime !== undefined && !(options.maxBackoffTime >= 0 && Number.isFinite(options.maxBackoffTime))) throw argument('maxBackoffTime', 'must be a finite number of milliseconds, at least 0')
  if (shard === MANIFEST_DOC) throw argument('shard', 'the manifest cannot be bridged: bridge shards')
  const Base = options.WebSocketPolyfill ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket
  if (Base === undefined) throw argument('WebSocketPolyfill', 'this platform has no WebSocket: pass one (e.g. from the ws package)')
  const room = options.room ?? `${encodeURIComponent(space.id)}/${encodeURIComponent(shard)}`
  const doc = await space.doc(shard)
  const presence = options.awareness === true ? await space.presence(shard) : undefined

  const listeners = createListenerSet<YWebsocketBridgeEvents>()
  const reject = (message: YWebsocketMessageKind, error: CabildoError<YWebsocketRejectionCode>): void => {
    listeners.emit('rejected', { error, message })
  }
  const malformed = (message: YWebsocketMessageKind, reason: string): void => {
    reject(message, new CabildoError('E_UPDATE_MALFORMED', `A ${message} message from room ${room} could not be read: ${reason}`, { reason }))
  }

  // Origins: what the bridge applies to the shard, and what it copies from the shard to the mirror.
  const fromRoom: object = Object.freeze({ cabildo: 'y-websocket-bridge', room })
  const toRoom: object = Object.freeze({ cabildo: 'y-websocket-bridge-out', room })
  const mirror = new Y.Doc({ gc: doc.gc })
  Y.applyUpdate(mirror, Y.encodeStateAsUpdate(doc), toRoom)
  const awareness = new Awareness(mirror)
  awareness.setLocalState(presence?.getLocalState() ?? null)

  const provider = new WebsocketProvider(options.url, room, mirror, {
    connect: false,
    awareness,
    params: { ...options.params },
    WebSocketPolyfill: guardedWebSocket(Base, (reason) => malformed('unknown', reason)),
    disableBc: true, // other tabs reach the Space through its own transports, checked
    ...(options.maxBackoffTime === undefined ? {} : { maxBackoffTime: options.maxBackoffTime }),
  })

  /** Checks an update from the room and applies it to the shard and the mirror, or to neither. */
  const accept = (update: Uint8Array, message: YWebsocketMessageKind): boolean => {
    if (update.byteLength > limit) {
      reject(message, new CabildoError('E_UPDATE_TOO_LARGE', `Update of ${update.byteLength} bytes from room ${room} exceeds ${limit}`, { size: update.byteLength, limit }))
      return false
    }
    const inspected = inspectUpdate(update, { ...defaultInspectLimits, maxBytes: limit })
    if (!inspected.ok) {
      if (inspected.code === 'E_UPDATE_TOO_LARGE') reject(message, new CabildoError('E_UPDATE_TOO_LARGE', `Update of ${inspected.size} bytes from room ${room} exceeds ${inspected.limit}`, { size: inspected.size, limit: inspected.limit }))
      else malformed(message, inspected.reason)
      return false
    }
    // New content under this replica's own client id would move its clock under it: Yjs would
    // then change the client id, and a signing session's next envelope would not continue its chain.
    const own = inspected.update.ranges.get(doc.clientID)
    if (own !== undefined && own.end > Y.getState(doc.store, doc.clientID)) {
      reject(message, new CabildoError('E_FORGED_CLIENT', `Update from room ${room} writes under this replica's client id ${doc.clientID}`, { client: doc.clientID }))
      return false
    }
    Y.applyUpdate(doc, update, fromRoom)
    Y.applyUpdate(mirror, update, provider) // the provider does not send back what it received
    return true
  }

  const syncHandler: Handler = (encoder, decoder, _provider, emitSynced) => {
    encoding.writeVarUint(encoder, messageSync)
    const type = decoding.readVarUint(decoder)
    if (type === syncProtocol.messageYjsSyncStep1) {
      syncProtocol.readSyncStep1(decoder, encoder, mirror)
    } else if (type === syncProtocol.messageYjsSyncStep2 || type === syncProtocol.messageYjsUpdate) {
      const kind = type === syncProtocol.messageYjsSyncStep2 ? 'sync-step-2' : 'update'
      if (accept(decoding.readVarUint8Array(decoder), kind) && kind === 'sync-step-2' && emitSynced) provider.synced = true
    } else {
      malformed('unknown', `unknown sync message type ${type}`)
    }
  }
  const awarenessHandler: Handler = (_encoder, decoder) => {
    const update = decoding.readVarUint8Array(decoder)
    const checked = checkAwarenessUpdate(update)
    if (checked.ok) applyAwarenessUpdate(awareness, update, provider)
    else malformed('awareness', checked.reason)
  }
  const authHandler: Handler = (_encoder, decoder) => {
    authProtocol.readAuthMessage(decoder, mirror, (_doc, reason) => listeners.emit('denied', { reason }))
  }
  provider.messageHandlers[messageSync] = syncHandler
  provider.messageHandlers[messageAwareness] = awarenessHandler
  provider.messageHandlers[messageAuth] = authHandler

  let status: YWebsocketBridgeStatus = YWebsocketBridgeStatus.disconnected
  let destroyed = false
  const waiters = new Set<{ resolve: () => void; reject: (error: unknown) => void }>()
  provider.on('status', (event) => {
    status = event.status
    listeners.emit('status', { status })
  })
  provider.on('sync', (synced) => {
    if (synced) {
      for (const waiter of waiters) waiter.resolve()
      waiters.clear()
    }
    listeners.emit('synced', { synced })
  })
  provider.on('closed', ({ code, reason }) => listeners.emit('closed', { code, reason }))

  const onShardUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin !== fromRoom) Y.applyUpdate(mirror, update, toRoom)
  }
  doc.on('update', onShardUpdate)
  const onPresence = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }): void => {
    if (presence === undefined) return
    if ([...added, ...updated, ...removed].includes(presence.clientID)) awareness.setLocalState(presence.getLocalState())
  }
  presence?.on('change', onPresence)

  const destroy = (): void => {
    if (destroyed) return
    destroyed = true
    doc.off('update', onShardUpdate)
    doc.off('destroy', destroy)
    presence?.off('change', onPresence)
    provider.destroy()
    awareness.destroy()
    mirror.destroy()
    status = YWebsocketBridgeStatus.disconnected
    const closed = new CabildoError('E_CLOSED', `The bridge to room ${room} was destroyed`, { what: 'y-websocket bridge' })
    for (const waiter of waiters) waiter.reject(closed)
    waiters.clear()
    listeners.clear()
  }
  doc.on('destroy', destroy)
  provider.connect()

  return {
    room,
    provider,
    awareness,
    get status() {
      return status
    },
    get synced() {
      return !destroyed && provider.synced
    },
    on: (event, listener) => listeners.on(event, listener),
    whenSynced() {
      if (destroyed) return Promise.reject(new CabildoError('E_CLOSED', `The bridge to room ${room} was destroyed`, { what: 'y-websocket bridge' }))
      if (provider.synced) return Promise.resolve()
      return new Promise<void>((resolve, rejectWaiter) => {
        waiters.add({ resolve, reject: rejectWaiter })
      })
    },
    destroy,
  }
}
