/**
 * A {@link Transport} to one server peer (a relay, or a server transport) over a WebSocket,
 * with the subprotocol `cabildo.v1`. Browser-safe: it takes the WebSocket constructor it is given
 * (in Node 20, the `ws` package's), else `globalThis.WebSocket`.
 *
 * ```ts
 * import { createSpace, createWebSocketTransport } from 'cabildo'
 * const space = createSpace({ id: 'city' })
 * const transport = createWebSocketTransport({ url: 'wss://relay.example.org/city', token: 'secret' })
 * const offStatus = transport.onStatus(({ status }) => console.log(`relay: ${status}`))
 * space.sync(transport, { peerId: 'north-laptop' })
 * ```
 *
 * After `connect`, it opens the socket and sends its `hello` frame; the server answers with its
 * own, and only then is the server announced (`peer`). When the socket closes or fails, the
 * server is announced gone (`peer-left`) and the transport reconnects with exponential backoff and
 * jitter until `close()`. Frames are in src/transports/websocket-frames.ts.
 * @module
 */
import { CabildoError } from '../errors'
import { createListenerSet } from './listener-set'
import type { PeerId, PeerInfo, Transport, TransportEvents } from './transport'
import { decodeFrame, encodeDataFrame, encodeHelloFrame, helloFits, WEBSOCKET_SUBPROTOCOL } from './websocket-frames'

/** A listener property whose parameter is compared bivariantly, so both the DOM's and the `ws` package's sockets fit. */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack']

/** The part of a WebSocket (the browser's, or the `ws` package's) this transport uses. */
export interface WebSocketLike {
  /** Set to `arraybuffer`. */
  binaryType: string
  /** 1 while open. */
  readonly readyState: number
  /** The subprotocol the server chose. */
  readonly protocol: string
  /** Called once the socket is open. */
  onopen: Handler<unknown> | null
  /** Called with each message (an `ArrayBuffer` for binary ones, with `binaryType` set). */
  onmessage: Handler<{ readonly data: unknown }> | null
  /** Called once the socket closed, with the close code and reason. */
  onclose: Handler<{ readonly code: number; readonly reason: string }> | null
  /** Called when the socket failed (a close follows). */
  onerror: Handler<unknown> | null
  /** Sends one binary message. */
  send(data: Uint8Array): void
  /** Starts closing the socket. */
  close(code?: number, reason?: string): void
}

/** A WebSocket constructor: the global `WebSocket`, or `WebSocket` from the `ws` package. */
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike

/** How the transport waits before reconnecting. */
export interface ReconnectOptions {
  /** The delay before the first reconnection, in milliseconds. Default 250. */
  readonly initialDelayMs?: number
  /** The longest delay, in milliseconds. Default 10,000. */
  readonly maxDelayMs?: number
  /** Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter] (then capped). Default 0.5. */
  readonly jitter?: number
}

/** Options of {@link createWebSocketTransport}. */
export interface WebSocketTransportOptions {
  /** The server's URL (`ws://` or `wss://`), e.g. a relay's `wss://relay.example.org/<space id>`. */
  readonly url: string
  /** The WebSocket constructor. Default `globalThis.WebSocket` (Node 20 has none: pass `WebSocket` from `ws`). */
  readonly WebSocket?: WebSocketConstructor
  /** A token for the server, sent as the `token` query parameter (browsers cannot set headers on a WebSocket). */
  readonly token?: string
  /** Reconnection backoff. */
  readonly reconnect?: ReconnectOptions
  /** The random source of the jitter, in [0, 1) (default `Math.random`; tests pass a fixed one). */
  readonly random?: () => number
  /**
   * The largest message sent or accepted, in bytes; larger ones are dropped and counted. Default
   * 16 MiB. While connected, sends are also kept within the limit the server announced.
   */
  readonly maxMessageBytes?: number
  /** How long to wait for the server's `hello` after the socket opened before trying again, in milliseconds. Default 10,000. */
  readonly handshakeTimeoutMs?: number
}

/** Where the connection to the server stands. */
export const WebSocketStatus = {
  /** Not connected yet (`connect` not called). */
  idle: 'idle',
  /** A socket is opening, or waits for the server's `hello`. */
  connecting: 'connecting',
  /** The handshake is done: the server is announced and messages flow. */
  open: 'open',
  /** The last socket closed or failed; the next attempt starts after `delayMs`. */
  waiting: 'waiting',
  /** `close()` was called: the transport is done. */
  closed: 'closed',
} as const

/** One of {@link WebSocketStatus}'s values. */
export type WebSocketStatus = (typeof WebSocketStatus)[keyof typeof WebSocketStatus]

/** A change of a {@link WebSocketTransport}'s status. */
export interface WebSocketStatusChange {
  /** The new status. */
  readonly status: WebSocketStatus
  /** Failed attempts since the last successful handshake (1 for the first reconnection after one). */
  readonly attempt: number
  /** With `waiting`: how long until the next attempt, in milliseconds. */
  readonly delayMs?: number
  /** With `waiting`: why the last socket ended (its close code and reason, or `error`). */
  readonly reason?: string
}

/** Counters of a {@link WebSocketTransport}. */
export interface WebSocketTransportStats {
  /** Sockets opened (the first and every reconnection). */
  readonly connections: number
  /** Handshakes completed. */
  readonly handshakes: number
  /** Data frames sent. */
  readonly messagesSent: number
  /** Bytes of the data frames sent. */
  readonly bytesSent: number
  /** Data frames received and delivered. */
  readonly messagesReceived: number
  /** Bytes of the data frames received and delivered. */
  readonly bytesReceived: number
  /** Frames from the server that were ignored: undecodable, of another version, text, or out of turn. */
  readonly malformed: number
  /** Messages dropped because they exceed `maxMessageBytes` (either way). */
  readonly oversize: number
}

/** A {@link Transport} to one server over a WebSocket, reconnecting until closed. */
export interface WebSocketTransport extends Transport {
  /** Always `websocket`. */
  readonly kind: 'websocket'
  /** The largest message carried: the smaller of its own limit and the one the server announced in its hello. */
  readonly maxMessageBytes: number
  /** Where the connection stands now. */
  readonly status: WebSocketStatus
  /** Calls `listener` at every status change; returns the function that unsubscribes. */
  onStatus(listener: (change: WebSocketStatusChange) => void): () => void
  /** A snapshot of the counters. */
  stats(): WebSocketTransportStats
}

const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
const OPEN = 1

/**
 * Creates a {@link WebSocketTransport}. Nothing happens until `connect`.
 * @throws CabildoError `E_ARGUMENT` for a URL that is not `ws:` or `wss:`, an invalid option, or
 *   when no WebSocket constructor is given and the platform has none.
 */
export function createWebSocketTransport(options: WebSocketTransportOptions): WebSocketTransport {
  return new WebSocketClientTransport(options)
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

class WebSocketClientTransport implements WebSocketTransport {
  readonly kind = 'websocket'
  readonly #maxMessageBytes: number
  /** The limit the server announced (kept across reconnections: a restarted server announces it again). */
  #serverLimit: number | undefined
  readonly #url: string
  readonly #WebSocket: WebSocketConstructor
  readonly #initialDelay: number
  readonly #maxDelay: number
  readonly #jitter: number
  readonly #random: () => number
  readonly #handshakeTimeout: number
  readonly #listeners = createListenerSet<TransportEvents>()
  readonly #statusListeners = createListenerSet<{ status: WebSocketStatusChange }>()
  readonly #stats: Mutable<WebSocketTransportStats> = { connections: 0, handshakes: 0, messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0, malformed: 0, oversize: 0 }
  #self: PeerInfo | undefined
  #socket: WebSocketLike | undefined
  #server: PeerInfo | undefined
  #status: WebSocketStatus = WebSocketStatus.idle
  #attempt = 0
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(options: WebSocketTransportOptions) {
    let url: URL
    try {
      url = new URL(options.url)
    } catch {
      throw argument('url', `not a URL: ${options.url}`)
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw argument('url', `must be ws: or wss:, got ${url.protocol}`)
    if (options.token !== undefined) url.searchParams.set('token', options.token)
    this.#url = url.toString()
    const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (WebSocketClass === undefined) throw argument('WebSocket', 'this platform has no WebSocket: pass one (e.g. from the ws package)')
    this.#WebSocket = WebSocketClass
    this.#maxMessageBytes = positive('maxMessageBytes', options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES)
    this.#initialDelay = positive('reconnect.initialDelayMs', options.reconnect?.initialDelayMs ?? 250)
    this.#maxDelay = positive('reconnect.maxDelayMs', options.reconnect?.maxDelayMs ?? 10_000)
    const jitter = options.reconnect?.jitter ?? 0.5
    if (!(jitter >= 0 && jitter <= 1)) throw argument('reconnect.jitter', `must be in [0, 1], got ${jitter}`)
    this.#jitter = jitter
    this.#random = options.random ?? Math.random
    this.#handshakeTimeout = positive('handshakeTimeoutMs', options.handshakeTimeoutMs ?? 10_000)
  }

  get maxMessageBytes(): number {
    return Math.min(this.#maxMessageBytes, this.#serverLimit ?? Number.POSITIVE_INFINITY)
  }

  get status(): WebSocketStatus {
    return this.#status
  }

  onStatus(listener: (change: WebSocketStatusChange) => void): () => void {
    return this.#statusListeners.on('status', listener)
  }

  stats(): WebSocketTransportStats {
    return { ...this.#stats }
  }

  connect(self: PeerInfo): void {
    if (this.#status === WebSocketStatus.closed) throw new CabildoError('E_CLOSED', 'this WebSocket transport is closed: create another', { what: 'transport' })
    if (this.#self !== undefined) {
      throw new CabildoError('E_ARGUMENT', `this WebSocket transport is already connected as ${this.#self.peerId}`, { argument: 'self', reason: 'already connected' })
    }
    if (typeof self.peerId !== 'string' || self.peerId === '') {
      throw new CabildoError('E_ARGUMENT', 'a peer id must be a non-empty string', { argument: 'self.peerId', reason: 'empty' }, { path: ['peerId'] })
    }
    if (!helloFits(self)) throw argument('self', 'the peer id or metadata is too long for a hello frame')
    this.#self = self.metadata === undefined ? { peerId: self.peerId } : { peerId: self.peerId, metadata: { ...self.metadata } }
    this.#open()
  }

  send(to: PeerId, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new CabildoError('E_ARGUMENT', 'send takes a Uint8Array', { argument: 'bytes', reason: 'not a Uint8Array' })
    const socket = this.#socket
    if (this.#server?.peerId !== to || socket === undefined || socket.readyState !== OPEN) return
    if (bytes.length > this.maxMessageBytes) {
      this.#stats.oversize++
      return
    }
    const frame = encodeDataFrame(bytes)
    try {
      socket.send(frame)
    } catch {
      return // the socket is closing: its close event follows
    }
    this.#stats.messagesSent++
    this.#stats.bytesSent += frame.length
  }

  on<E extends keyof TransportEvents>(event: E, listener: (payload: TransportEvents[E]) => void): () => void {
    if (this.#status === WebSocketStatus.closed) return () => {}
    return this.#listeners.on(event, listener)
  }

  close(): void {
    if (this.#status === WebSocketStatus.closed) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    const socket = this.#socket
    this.#socket = undefined
    if (socket !== undefined) this.#release(socket, 1000, 'closed')
    this.#setStatus(WebSocketStatus.closed)
    this.#leave()
    this.#listeners.emit('close', {})
    this.#listeners.clear()
    this.#statusListeners.clear()
  }

  // ---- the socket ----

  #open(): void {
    this.#timer = undefined
    let socket: WebSocketLike
    try {
      socket = new this.#WebSocket(this.#url, [WEBSOCKET_SUBPROTOCOL])
    } catch (error) {
      this.#retry(`cannot open: ${error instanceof Error ? error.message : String(error)}`)
      return
    }
    this.#socket = socket
    this.#stats.connections++
    this.#setStatus(WebSocketStatus.connecting)
    socket.binaryType = 'arraybuffer'
    // No hello within the limit: the server is not speaking our protocol; try again later.
    let handshake: ReturnType<typeof setTimeout> | undefined
    const stopHandshakeTimer = (): void => {
      if (handshake !== undefined) clearTimeout(handshake)
      handshake = undefined
    }
    socket.onopen = () => {
      if (this.#socket !== socket || this.#self === undefined) return
      handshake = setTimeout(() => {
        handshake = undefined
        if (this.#socket === socket && this.#server === undefined) this.#lost(socket, 'no hello from the server')
      }, this.#handshakeTimeout)
      try {
        socket.send(encodeHelloFrame(this.#self, this.#maxMessageBytes))
      } catch {
        // The socket is closing: its close event follows.
      }
    }
    socket.onmessage = (event) => {
      if (this.#socket !== socket) return
      if (this.#receive(event.data)) stopHandshakeTimer()
    }
    socket.onclose = (event) => {
      stopHandshakeTimer()
      if (this.#socket === socket) this.#lost(socket, `closed ${event.code}${event.reason ? ` ${event.reason}` : ''}`)
    }
    socket.onerror = () => {
      stopHandshakeTimer()
      if (this.#socket === socket) this.#lost(socket, 'error')
    }
  }

  /** Handles one message from the socket; returns whether it completed the handshake. */
  #receive(data: unknown): boolean {
    if (!(data instanceof ArrayBuffer)) {
      this.#stats.malformed++ // a text message: not ours
      return false
    }
    const decoded = decodeFrame(new Uint8Array(data))
    if (!decoded.ok) {
      this.#stats.malformed++
      return false
    }
    const frame = decoded.frame
    if (frame.type === 'hello') {
      if (this.#server !== undefined) {
        this.#stats.malformed++
        return false
      }
      this.#server = frame.peer
      this.#serverLimit = frame.maxMessageBytes
      this.#attempt = 0
      this.#stats.handshakes++
      this.#setStatus(WebSocketStatus.open)
      this.#listeners.emit('peer', frame.peer)
      return true
    }
    const server = this.#server
    if (server === undefined) {
      this.#stats.malformed++ // data before the hello
      return false
    }
    if (frame.bytes.length > this.#maxMessageBytes) {
      this.#stats.oversize++
      return false
    }
    this.#stats.messagesReceived++
    this.#stats.bytesReceived += data.byteLength
    // The array buffer is this message's own: a view into it is a fresh array for the listeners.
    this.#listeners.emit('message', { from: server.peerId, bytes: frame.bytes })
    return false
  }

  /** The socket ended (closed, failed, or timed out): the server is gone until the next handshake. */
  #lost(socket: WebSocketLike, reason: string): void {
    this.#socket = undefined
    this.#release(socket, 4000, 'reconnecting')
    this.#leave()
    this.#retry(reason)
  }

  #retry(reason: string): void {
    if (this.#status === WebSocketStatus.closed) return
    this.#attempt++
    const base = Math.min(this.#maxDelay, this.#initialDelay * 2 ** (this.#attempt - 1))
    const factor = 1 - this.#jitter + 2 * this.#jitter * this.#random()
    const delayMs = Math.round(Math.min(this.#maxDelay, base * factor))
    this.#timer = setTimeout(() => this.#open(), delayMs)
    this.#setStatus(WebSocketStatus.waiting, { delayMs, reason })
  }

  /** Detaches a socket's handlers and closes it; nothing it does later reaches this transport. */
  #release(socket: WebSocketLike, code: number, reason: string): void {
    socket.onopen = null
    socket.onmessage = null
    socket.onclose = null
    // A late error of a closing socket must not surface as an unhandled 'error' event (ws).
    socket.onerror = () => {}
    try {
      socket.close(code, reason)
    } catch {
      // Already closed or never opened.
    }
  }

  #leave(): void {
    const server = this.#server
    if (server === undefined) return
    this.#server = undefined
    this.#listeners.emit('peer-left', { peerId: server.peerId })
  }

  #setStatus(status: WebSocketStatus, extra: { delayMs: number; reason: string } | undefined = undefined): void {
    this.#status = status
    this.#statusListeners.emit('status', { status, attempt: this.#attempt, ...extra })
  }
}

function argument(name: string, reason: string): CabildoError<'E_ARGUMENT'> {
  return new CabildoError('E_ARGUMENT', `${name}: ${reason}`, { argument: name, reason })
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw argument(name, `must be a number > 0, got ${value}`)
  return value
}

