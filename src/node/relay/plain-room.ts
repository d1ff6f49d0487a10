/**
 * One plain y-websocket room: a shard document of the relay's Space, the plain connections on
 * it, and their awareness (presence).
 *
 * The document side follows y-websocket's server: on connect, sync step 1 and the room's
 * awareness states; a step 1 is answered with step 2 (what the client lacks); every change of
 * the document, whatever its source (a cabildo peer, another plain client), goes out as an
 * update. What differs is the way in: a client's step 2 or update is never applied as such. It
 * is vouched for ({@link SignedDoc.applyVouched}): read as bounded V1, trimmed to what is new,
 * checked (client ownership per identity, clocks, the delete rule) and applied as an envelope
 * the relay signs. A refused write changes nothing and closes the connection (its document has
 * diverged from the room's: reconnecting would send the same bytes again).
 *
 * Awareness is relayed between the room's plain connections only, after checks: size and
 * decoding (`checkAwarenessUpdate`), and each client id presented by one connection at a time,
 * never one a cabildo session or another identity owns in the document.
 * @module
 */
import type { RawData } from 'ws'
import type * as Y from 'yjs'
import { applyAwarenessUpdate, Awareness, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import { checkAwarenessUpdate, defaultAwarenessLimits } from '../../sync/awareness-check'
import type { EnvelopeSigner } from '../../sync/envelope-signing'
import type { SignedDoc } from '../../sync/signed-doc'
import type { Space } from '../../sync/space'
import { inspectUpdate } from '../../sync/update-inspector'
import { trimUpdate } from '../../sync/update-trim'
import { defaultVouchLimits, type VouchRejectionCode } from '../../sync/vouching'
import type { PlainConnection } from './plain-handler'
import { decodePlainMessage, encodeAwarenessEntries, encodeAwarenessMessage, encodeSyncStep1, encodeSyncStep2, encodeSyncUpdate } from './plain-protocol'
import { PlainCloseCode, type PlainRoomLimits } from './plain-limits'
import { createTokenBucket, type TokenBucket } from '../../transports/token-bucket'

/** Why a plain write was refused: the vouching codes, and `E_FORBIDDEN` for connections that may not write. */
export type PlainRefusalCode = VouchRejectionCode | 'E_FORBIDDEN'

/** What a room reports. */
export interface PlainRoomReport {
  /** A write was refused; nothing was applied, and the connection is closed. */
  refused(connection: PlainConnection, code: PlainRefusalCode, reason: string): void
  /** The handler closed a connection. */
  dropped(connection: PlainConnection, code: PlainCloseCode, reason: string): void
}

/** What every room of a handler shares. */
export interface PlainRoomContext {
  /** Signs what plain clients write (the relay's key). */
  readonly signer: EnvelopeSigner
  readonly limits: PlainRoomLimits
  /** The clock of the rate limits, in milliseconds. */
  readonly now: () => number
  readonly report: PlainRoomReport
}

/** How many writes in a row a connection may send past the room's clocks before it is refused (each one is answered by a sync step 1). */
const MAX_GAP_RESYNCS = 16

/** One connection of a room. */
class PlainClient {
  readonly connection: PlainConnection
  readonly bucket: TokenBucket
  /** Awareness client ids this connection presents (reserved for it while it lasts). */
  readonly controlled = new Set<number>()
  /** The Yjs client id it works under (its first awareness id, or the first client it wrote under). */
  presented: number | undefined
  strikes = 0
  queued = 0
  /** Writes refused with `E_CLOCK` since its last applied one, each answered by asking again for what it lacks. */
  gaps = 0
  /** Its messages, processed one at a time. */
  chain: Promise<void> = Promise.resolve()
  /** The handler has closed (or is closing) it. */
  dropped = false
  /** Pong received since the last ping. */
  alive = true

  constructor(connection: PlainConnection, bucket: TokenBucket) {
    this.connection = connection
    this.bucket = bucket
  }

  /** The identity it may write as, or `undefined` when it may not write. */
  get writer(): string | undefined {
    const { access, identity } = this.connection
    return access === 'read-write' && identity !== undefined && identity.length > 0 && identity.length <= 200 ? identity : undefined
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

/** WebSocket close reasons are at most 123 bytes. */
function closeReason(reason: string): string {
  let out = reason
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1)
  return out
}

/** A room: one shard of one Space, its plain connections and their awareness. */
export class PlainRoom {
  /** The relay's Space the room belongs to. */
  readonly space: Space
  /** The shard (document) the room edits. */
  readonly shard: string
  readonly #context: PlainRoomContext
  readonly #clients = new Set<PlainClient>()
  /** Awareness client id → the connection presenting it. */
  readonly #controllers = new Map<number, PlainClient>()
  readonly #onEmpty: () => void
  /** Settles once the document is open (rejects when it cannot be). */
  readonly #ready: Promise<void>
  #doc: Y.Doc | undefined
  #signed: SignedDoc | undefined
  #awareness: Awareness | undefined
  #detach: () => void = () => undefined
  #closed = false

  /** Opens the shard of `space`; `onEmpty` runs when the last connection has left (or the room closed). */
  constructor(space: Space, shard: string, context: PlainRoomContext, onEmpty: () => void) {
    this.space = space
    this.shard = shard
    this.#context = context
    this.#onEmpty = onEmpty
    this.#ready = this.#open()
    this.#ready.catch(() => undefined) // each connection reports it
  }

  async #open(): Promise<void> {
    const doc = await this.space.doc(this.shard)
    const signed = this.space.signedDocs.get(this.shard)
    if (this.#closed) return
    if (signed === undefined) throw new Error(`"${this.shard}" has no signed history`)
    const awareness = new Awareness(doc)
    awareness.setLocalState(null) // the relay itself is nobody's presence
    const onUpdate = (update: Uint8Array): void => this.#broadcast(encodeSyncUpdate(update))
    const onAwareness = (changes: { added: number[]; updated: number[]; removed: number[] }): void => this.#awarenessChanged(changes)
    const onDestroy = (): void => void this.close(PlainCloseCode.goingAway, 'the Space closed')
    doc.on('update', onUpdate)
    doc.on('destroy', onDestroy)
    awareness.on('update', onAwareness)
    this.#detach = () => {
      doc.off('update', onUpdate)
      doc.off('destroy', onDestroy)
      awareness.off('update', onAwareness)
      awareness.destroy()
    }
    this.#doc = doc
    this.#signed = signed
    this.#awareness = awareness
  }

  /** Live connections. */
  get size(): number {
    return this.#clients.size
  }

  /** Takes over a connection: greets it once the document is open, then serves its messages. */
  add(connection: PlainConnection): void {
    const { limits, now } = this.#context
    const client = new PlainClient(connection, createTokenBucket({ ratePerSecond: limits.messagesPerSecond, burst: limits.messageBurst, now }))
    this.#clients.add(client)
    const { socket } = connection
    socket.on('message', (data, isBinary) => this.#receive(client, data, isBinary))
    socket.on('pong', () => {
      client.alive = true
    })
    socket.once('close', () => this.#left(client))
    client.chain = this.#ready.then(
      () => this.#greet(client),
      (error: unknown) => this.#drop(client, PlainCloseCode.noRoom, `cannot open "${this.shard}": ${error instanceof Error ? error.message : String(error)}`),
    )
  }

  /** Pings every connection; closes those that did not answer the previous ping. */
  heartbeat(): void {
    for (const client of this.#clients) {
      if (!client.alive) {
        this.#drop(client, PlainCloseCode.goingAway, 'no answer to ping')
        client.connection.socket.terminate()
        continue
      }
      client.alive = false
      try {
        client.connection.socket.ping()
      } catch {
        // a socket closing meanwhile: its close event cleans up
      }
    }
  }

  /** Resolves once every message received so far is processed. */
  async idle(): Promise<void> {
    await Promise.all([...this.#clients].map((client) => client.chain))
  }

  /** Closes every connection with `code` and releases the room. Idempotent. */
  async close(code: PlainCloseCode, reason: string): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#onEmpty()
    const clients = [...this.#clients]
    for (const client of clients) this.#drop(client, code, reason)
    await Promise.all(clients.map((client) => client.chain))
    this.#release()
  }

  /** Whether the room closed: a new connection needs a new room. */
  get closed(): boolean {
    return this.#closed
  }

  #release(): void {
    this.#detach()
    this.#detach = () => undefined
  }

  #greet(client: PlainClient): void {
    const doc = this.#doc
    const awareness = this.#awareness
    if (doc === undefined || awareness === undefined) return
    this.#send(client, encodeSyncStep1(doc))
    const states = [...awareness.getStates().keys()]
    if (states.length > 0) this.#send(client, encodeAwarenessMessage(encodeAwarenessUpdate(awareness, states)))
  }

  #receive(client: PlainClient, data: RawData, isBinary: boolean): void {
    if (client.dropped) return
    const { limits } = this.#context
    const bytes = toBytes(data)
    if (bytes.byteLength > limits.maxMessageBytes) return this.#drop(client, PlainCloseCode.tooLarge, `a message of ${bytes.byteLength} bytes exceeds ${limits.maxMessageBytes}`)
    if (!client.bucket.take()) return this.#drop(client, PlainCloseCode.tryAgainLater, 'too many messages')
    if (client.queued >= limits.maxQueued) return this.#drop(client, PlainCloseCode.tryAgainLater, 'too many messages waiting')
    if (!isBinary) return this.#strike(client, 'a text message')
    client.queued++
    client.chain = client.chain
      .then(() => this.#process(client, bytes))
      .catch(() => this.#drop(client, PlainCloseCode.internalError, 'internal error'))
      .finally(() => {
        client.queued--
      })
  }

  async #process(client: PlainClient, bytes: Uint8Array): Promise<void> {
    const doc = this.#doc
    const awareness = this.#awareness
    if (client.dropped || doc === undefined || awareness === undefined) return
    const message = decodePlainMessage(bytes)
    switch (message.kind) {
      case 'invalid':
        return this.#strike(client, message.reason)
      case 'sync-step1':
        return this.#send(client, encodeSyncStep2(doc, message.stateVector))
      case 'sync-update':
        return this.#write(client, doc, message.update)
      case 'awareness':
        return this.#present(client, doc, awareness, message.update)
      case 'query-awareness':
        return this.#send(client, encodeAwarenessMessage(encodeAwarenessUpdate(awareness, [...awareness.getStates().keys()])))
    }
  }

  async #write(client: PlainClient, doc: Y.Doc, update: Uint8Array): Promise<void> {
    const signed = this.#signed as SignedDoc
    const writer = client.writer
    const { limits, signer } = this.#context
    if (writer === undefined) {
      // A client that may not write still answers step 1 with step 2: refused only if it brings something new.
      const read = inspectUpdate(update, { ...defaultVouchLimits, maxBytes: limits.maxMessageBytes })
      if (!read.ok) return this.#refuse(client, read.code, read.code === 'E_UPDATE_MALFORMED' ? read.reason : 'too large')
      if (trimUpdate(doc, update, read.update) === undefined) return
      return this.#refuse(client, 'E_FORBIDDEN', client.connection.identity === undefined ? 'an anonymous connection cannot write' : 'a read-only connection cannot write')
    }
    const writing = { identity: writer, ...(client.presented === undefined ? {} : { client: client.presented }) }
    const outcome = await signed.applyVouched(update, writing, { signer, limits: { maxBytes: limits.maxMessageBytes } })
    // A client that edits while it (re)connects sends those edits before it answered our step 1
    // (a relay of a cluster that died, a network switch): they start past the room's clocks.
    // Ask again for what it lacks; its step 2 brings the missing start, and the edit with it.
    if (outcome.status === 'rejected' && outcome.code === 'E_CLOCK' && client.gaps < MAX_GAP_RESYNCS) {
      client.gaps++
      return this.#send(client, encodeSyncStep1(doc))
    }
    if (outcome.status === 'rejected') return this.#refuse(client, outcome.code, outcome.reason)
    if (outcome.status === 'applied') {
      client.gaps = 0
      client.presented ??= outcome.clients[0]
    }
  }

  #refuse(client: PlainClient, code: PlainRefusalCode, reason: string): void {
    if (client.dropped) return
    this.#context.report.refused(client.connection, code, reason)
    const close = code === 'E_UPDATE_TOO_LARGE' ? PlainCloseCode.tooLarge : code === 'E_UPDATE_MALFORMED' ? PlainCloseCode.badMessages : PlainCloseCode.forbidden
    this.#drop(client, close, `${code}: ${reason}`)
  }

  #present(client: PlainClient, doc: Y.Doc, awareness: Awareness, update: Uint8Array): void {
    const { limits, signer } = this.#context
    const checked = checkAwarenessUpdate(update, { ...defaultAwarenessLimits, maxBytes: limits.maxAwarenessBytes })
    if (!checked.ok) return this.#strike(client, `awareness: ${checked.reason}`)
    const guard = (this.#signed as SignedDoc).guard
    const mayPresent = (id: number): boolean => {
      if (id === doc.clientID) return false
      const holder = this.#controllers.get(id)
      if (holder !== undefined) return holder === client
      if (client.controlled.size >= limits.maxAwarenessClients) return false
      // A client id a cabildo session or another identity writes under is theirs, in presence too.
      const owner = guard.clientOwner(id)
      return owner === undefined || (owner.kind === 'vouched' && owner.author === signer.did && owner.identity === client.writer)
    }
    // Entries about other clients are dropped, not struck: y-websocket answers a query with every state it knows.
    const kept = checked.entries.filter((entry) => mayPresent(entry.client))
    if (kept.length === 0) return
    // The ids are this connection's while it lasts (even a first state at clock 0, which
    // y-protocols does not apply): the first is the client it writes under.
    for (const { client: id } of kept) {
      client.controlled.add(id)
      this.#controllers.set(id, client)
      client.presented ??= id
    }
    applyAwarenessUpdate(awareness, encodeAwarenessEntries(kept), client)
  }

  #awarenessChanged({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }): void {
    const awareness = this.#awareness
    if (awareness === undefined) return
    const changed = [...added, ...updated, ...removed]
    if (changed.length > 0) this.#broadcast(encodeAwarenessMessage(encodeAwarenessUpdate(awareness, changed)))
  }

  #strike(client: PlainClient, reason: string): void {
    client.strikes++
    if (client.strikes >= this.#context.limits.maxStrikes) this.#drop(client, PlainCloseCode.badMessages, `too many bad messages, the last: ${reason}`)
  }

  #broadcast(message: Uint8Array): void {
    for (const client of this.#clients) this.#send(client, message)
  }

  #send(client: PlainClient, message: Uint8Array): void {
    const { socket } = client.connection
    if (client.dropped || socket.readyState !== socket.OPEN) return
    if (socket.bufferedAmount > this.#context.limits.maxBufferedBytes) return this.#drop(client, PlainCloseCode.tryAgainLater, 'not reading fast enough')
    try {
      socket.send(message)
    } catch {
      this.#drop(client, PlainCloseCode.internalError, 'send failed')
    }
  }

  #drop(client: PlainClient, code: PlainCloseCode, reason: string): void {
    if (client.dropped) return
    client.dropped = true
    this.#context.report.dropped(client.connection, code, reason)
    try {
      client.connection.socket.close(code, closeReason(reason))
    } catch {
      client.connection.socket.terminate()
    }
  }

  /** The socket closed: forget the connection and its presence. */
  #left(client: PlainClient): void {
    if (!this.#clients.delete(client)) return
    client.dropped = true
    const ids = [...client.controlled]
    for (const id of ids) if (this.#controllers.get(id) === client) this.#controllers.delete(id)
    if (this.#awareness !== undefined && ids.length > 0) removeAwarenessStates(this.#awareness, ids, 'left')
    if (this.#clients.size === 0 && !this.#closed) {
      this.#closed = true
      this.#onEmpty()
      // Messages still being processed finish first (a vouched write in flight completes).
      void client.chain.finally(() => this.#release())
    }
  }
}
