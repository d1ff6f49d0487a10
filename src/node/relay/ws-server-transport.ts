/**
 * The server end of cabildo's WebSocket protocol: a {@link Transport} (kind `websocket-server`)
 * whose peers are the accepted `ws` connections that completed the handshake. A relay hands it
 * the sockets it routed (`accept`); `listenWebSocketTransport` runs one standalone.
 *
 * ```ts
 * import { createSpace, createWebSocketTransport } from 'cabildo'
 * import { listenWebSocketTransport } from 'cabildo/node'
 * const server = await listenWebSocketTransport({ host: '127.0.0.1', port: 0 })
 * createSpace({ id: 'city' }).sync(server.transport, { peerId: 'hub', relay: true })
 * console.log(`clients connect to ${server.url}`)
 * ```
 *
 * Each connection sends its `hello` frame first; the server answers with its own and announces
 * the peer. A second live connection with the same peer id is closed with 4409. Every frame is
 * untrusted: bad frames and frames over the rate are refused and counted, and a connection that
 * keeps sending them is closed; nothing a connection sends throws.
 * @module
 */
import type { WebSocket } from 'ws'
import { CabildoError } from '../../errors'
import { createListenerSet } from '../../transports/listener-set'
import type { PeerId, PeerInfo, Transport, TransportEvents } from '../../transports/transport'
import { decodeFrame, encodeDataFrame, encodeHelloFrame, helloFits } from '../../transports/websocket-frames'
import { checkConnectionLimits, ClosedConnection, defaultConnectionLimits, RefusedFrame, type ConnectionAccess, type ConnectionLimits, type ConnectionMeter } from './connection-limits'
import { createTokenBucket, type TokenBucket } from '../../transports/token-bucket'

/** Options of {@link createWebSocketServerTransport}. */
export interface WebSocketServerTransportOptions {
  /** Replaces some of the {@link defaultConnectionLimits}. */
  readonly limits?: Partial<ConnectionLimits>
  /** Where to count frames and closed connections. */
  readonly meter?: ConnectionMeter
  /** The clock of the rate limit, in milliseconds (default `performance.now`). */
  readonly now?: () => number
}

/** A {@link Transport} over accepted `ws` connections. */
export interface WebSocketServerTransport extends Transport {
  /** Always `websocket-server`. */
  readonly kind: 'websocket-server'
  /** The largest message carried. */
  readonly maxMessageBytes: number
  /** Connections accepted and not closed yet (handshaking ones included). */
  readonly connections: number
  /**
   * Takes over an upgraded socket (whose subprotocol is `cabildo.v1`). Its peer is announced
   * once its `hello` arrived and this transport is connected. After `close()`, the socket is
   * closed at once with 1001.
   */
  accept(socket: WebSocket, access?: ConnectionAccess): void
  /** How the connection of an announced peer was admitted. */
  accessOf(peerId: PeerId): ConnectionAccess | undefined
  /** Closes an announced peer's connection (1008), counted as `policy`. */
  disconnect(peerId: PeerId, reason: string): void
}

/**
 * Creates a server transport with no connections; hand it sockets with `accept`.
 * @throws CabildoError `E_ARGUMENT` for an invalid limit.
 */
export function createWebSocketServerTransport(options: WebSocketServerTransportOptions = {}): WebSocketServerTransport {
  return new ServerTransport(options)
}

const OPEN_ACCESS: ConnectionAccess = Object.freeze({ identity: undefined, access: 'read-write' })

/** Close codes of the protocol (4000-4999 are the application's). */
const CloseCode = { goingAway: 1001, policy: 1008, tooLarge: 1009, handshakeTimeout: 4408, duplicatePeer: 4409 } as const

interface Connection {
  readonly socket: WebSocket
  readonly access: ConnectionAccess
  readonly bucket: TokenBucket
  /** `hello`: waiting for its hello; `held`: hello received before this transport connected; `open`: announced. */
  state: 'hello' | 'held' | 'open' | 'closed'
  peer: PeerInfo | undefined
  badFrames: number
  alive: boolean
  /** Why the server closed it; unset when the client did. */
  closing: ClosedConnection | undefined
  handshake: ReturnType<typeof setTimeout> | undefined
}

class ServerTransport implements WebSocketServerTransport {
  readonly kind = 'websocket-server'
  readonly maxMessageBytes: number
  readonly #limits: ConnectionLimits
  readonly #meter: ConnectionMeter | undefined
  readonly #now: () => number
  readonly #listeners = createListenerSet<TransportEvents>()
  readonly #connections = new Set<Connection>()
  /** Held and open connections by peer id: a peer id is taken from its hello until its socket closes. */
  readonly #byPeer = new Map<PeerId, Connection>()
  #self: PeerInfo | undefined
  #closed = false
  #heartbeat: ReturnType<typeof setInterval> | undefined

  constructor(options: WebSocketServerTransportOptions) {
    this.#limits = checkConnectionLimits({ ...defaultConnectionLimits, ...options.limits })
    this.maxMessageBytes = this.#limits.maxMessageBytes
    this.#meter = options.meter
    this.#now = options.now ?? (() => performance.now())
  }

  get connections(): number {
    return this.#connections.size
  }

  connect(self: PeerInfo): void {
    if (this.#closed) throw new CabildoError('E_CLOSED', 'this server transport is closed: create another', { what: 'transport' })
    if (this.#self !== undefined) {
      throw new CabildoError('E_ARGUMENT', `this server transport is already connected as ${this.#self.peerId}`, { argument: 'self', reason: 'already connected' })
    }
    if (typeof self.peerId !== 'string' || self.peerId === '') {
      throw new CabildoError('E_ARGUMENT', 'a peer id must be a non-empty string', { argument: 'self.peerId', reason: 'empty' }, { path: ['peerId'] })
    }
    if (!helloFits(self)) throw new CabildoError('E_ARGUMENT', 'the peer id or metadata is too long for a hello frame', { argument: 'self', reason: 'too long' })
    this.#self = self.metadata === undefined ? { peerId: self.peerId } : { peerId: self.peerId, metadata: { ...self.metadata } }
    const own = this.#byPeer.get(self.peerId)
    if (own !== undefined) this.#shut(own, ClosedConnection.duplicatePeer, CloseCode.duplicatePeer, 'peer id in use')
    for (const connection of [...this.#connections]) if (connection.state === 'held') this.#open(connection)
  }

  send(to: PeerId, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new CabildoError('E_ARGUMENT', 'send takes a Uint8Array', { argument: 'bytes', reason: 'not a Uint8Array' })
    const connection = this.#byPeer.get(to)
    if (this.#closed || connection === undefined || connection.state !== 'open') return
    if (bytes.length > this.maxMessageBytes) return
    const frame = encodeDataFrame(bytes)
    connection.socket.send(frame, { binary: true }, () => undefined)
    this.#meter?.frameOut(frame.length)
    if (connection.socket.bufferedAmount > this.#limits.maxBufferedBytes) {
      this.#shut(connection, ClosedConnection.backpressure, CloseCode.policy, 'not reading')
    }
  }

  on<E extends keyof TransportEvents>(event: E, listener: (payload: TransportEvents[E]) => void): () => void {
    if (this.#closed) return () => {}
    return this.#listeners.on(event, listener)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat)
    for (const connection of [...this.#connections]) this.#shut(connection, ClosedConnection.server, CloseCode.goingAway, 'going away')
    this.#listeners.emit('close', {})
    this.#listeners.clear()
  }

  accessOf(peerId: PeerId): ConnectionAccess | undefined {
    const connection = this.#byPeer.get(peerId)
    return connection?.state === 'open' ? connection.access : undefined
  }

  disconnect(peerId: PeerId, reason: string): void {
    const connection = this.#byPeer.get(peerId)
    if (connection !== undefined) this.#shut(connection, ClosedConnection.policy, CloseCode.policy, reason)
  }

  accept(socket: WebSocket, access: ConnectionAccess = OPEN_ACCESS): void {
    if (this.#closed) {
      socket.on('error', () => undefined)
      socket.close(CloseCode.goingAway, 'going away')
      return
    }
    socket.binaryType = 'arraybuffer' // every message in its own buffer (see the message event)
    const { messagesPerSecond, burstMessages, handshakeTimeoutMs } = this.#limits
    const connection: Connection = {
      socket,
      access,
      bucket: createTokenBucket({ ratePerSecond: messagesPerSecond, burst: burstMessages, now: this.#now }),
      state: 'hello',
      peer: undefined,
      badFrames: 0,
      alive: true,
      closing: undefined,
      handshake: undefined,
    }
    this.#connections.add(connection)
    connection.handshake = setTimeout(() => {
      if (connection.state === 'hello') this.#shut(connection, ClosedConnection.handshakeTimeout, CloseCode.handshakeTimeout, 'no hello')
    }, handshakeTimeoutMs)
    connection.handshake.unref()
    socket.on('message', (data, isBinary) => {
      try {
        this.#receive(connection, data, isBinary)
      } catch {
        // A peer's bytes never take the server down; #receive does not throw, this is the last guard.
        this.#bad(connection, RefusedFrame.malformed)
      }
    })
    socket.on('pong', () => {
      connection.alive = true
    })
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.#meter?.refused(RefusedFrame.oversize)
        connection.closing ??= ClosedConnection.tooLarge
      } else connection.closing ??= ClosedConnection.error
    })
    socket.on('close', () => this.#gone(connection))
    this.#startHeartbeat()
  }

  // ---- connections ----

  #receive(connection: Connection, data: unknown, isBinary: boolean): void {
    if (connection.state === 'closed') return
    if (!connection.bucket.take()) {
      this.#meter?.refused(RefusedFrame.rate)
      this.#shut(connection, ClosedConnection.rate, CloseCode.policy, 'rate limit')
      return
    }
    if (!isBinary || !(data instanceof ArrayBuffer)) {
      this.#bad(connection, RefusedFrame.text)
      return
    }
    const decoded = decodeFrame(new Uint8Array(data))
    if (!decoded.ok) {
      this.#bad(connection, decoded.refusal)
      return
    }
    const frame = decoded.frame
    if (frame.type === 'hello') {
      if (connection.state !== 'hello') {
        this.#bad(connection, RefusedFrame.helloAgain)
        return
      }
      this.#onHello(connection, frame.peer)
      return
    }
    const peer = connection.peer
    if (connection.state !== 'open' || peer === undefined) {
      this.#bad(connection, RefusedFrame.early)
      return
    }
    this.#meter?.frameIn(data.byteLength)
    // The array buffer is this message's own (binaryType 'arraybuffer'): a view is a fresh array.
    this.#listeners.emit('message', { from: peer.peerId, bytes: frame.bytes })
  }

  #onHello(connection: Connection, peer: PeerInfo): void {
    if (connection.handshake !== undefined) clearTimeout(connection.handshake)
    if (this.#byPeer.has(peer.peerId) || this.#self?.peerId === peer.peerId) {
      this.#shut(connection, ClosedConnection.duplicatePeer, CloseCode.duplicatePeer, 'peer id in use')
      return
    }
    connection.peer = peer
    connection.state = 'held'
    this.#byPeer.set(peer.peerId, connection)
    if (this.#self !== undefined) this.#open(connection)
  }

  /** Answers a held connection's hello and announces its peer. */
  #open(connection: Connection): void {
    const self = this.#self
    const peer = connection.peer
    if (self === undefined || peer === undefined || connection.state !== 'held') return
    // Our limit goes with our hello: the client keeps its sends within it.
    connection.socket.send(encodeHelloFrame(self, this.maxMessageBytes), { binary: true }, () => undefined)
    connection.state = 'open'
    this.#listeners.emit('peer', peer)
  }

  #bad(connection: Connection, reason: RefusedFrame): void {
    this.#meter?.refused(reason)
    connection.badFrames++
    if (connection.badFrames >= this.#limits.maxBadFrames) this.#shut(connection, ClosedConnection.badFrames, CloseCode.policy, 'bad frames')
  }

  /** Closes a connection from this side; its peer leaves at once. */
  #shut(connection: Connection, reason: ClosedConnection, code: number, text: string): void {
    if (connection.state === 'closed') return
    connection.closing ??= reason
    this.#leave(connection)
    try {
      connection.socket.close(code, text)
    } catch {
      connection.socket.terminate()
    }
  }

  /** The socket closed (either side). */
  #gone(connection: Connection): void {
    if (!this.#connections.delete(connection)) return
    this.#leave(connection)
    this.#meter?.closed(connection.closing ?? ClosedConnection.client)
  }

  #leave(connection: Connection): void {
    if (connection.handshake !== undefined) clearTimeout(connection.handshake)
    const wasOpen = connection.state === 'open'
    connection.state = 'closed'
    const peer = connection.peer
    if (peer !== undefined && this.#byPeer.get(peer.peerId) === connection) this.#byPeer.delete(peer.peerId)
    if (wasOpen && peer !== undefined) this.#listeners.emit('peer-left', { peerId: peer.peerId })
  }

  #startHeartbeat(): void {
    const every = this.#limits.heartbeatMs
    if (every === 0 || this.#heartbeat !== undefined) return
    this.#heartbeat = setInterval(() => {
      for (const connection of [...this.#connections]) {
        if (!connection.alive) {
          connection.closing ??= ClosedConnection.heartbeat
          this.#leave(connection)
          connection.socket.terminate()
          continue
        }
        connection.alive = false
        try {
          connection.socket.ping()
        } catch {
          // Closing already: its close event follows.
        }
      }
    }, every)
    this.#heartbeat.unref()
  }
}
