/**
 * The sync engine: syncs every open document of a Space (the manifest and each shard) with
 * every peer reachable over one transport, multiplexed over one connection per peer.
 *
 * ```ts
 * import { createMemoryNetwork, createSpace, createIdentity } from 'cabildo'
 * const space = createSpace({ id: 'city', identity: await createIdentity() })
 * const engine = space.sync(createMemoryNetwork().transport(), { peerId: 'north' })
 * const off = engine.on('rejected', ({ peerId, code }) => console.log(`${peerId} sent a bad envelope: ${code}`))
 * engine.close()
 * ```
 *
 * How it works: peers say `hello` (with the Space id: peers of another Space are ignored), then
 * exchange their heads (per author session: latest sequence number and hash) of every document
 * they both have open, and each asks the other (`want`) for the envelopes it lacks, asking each
 * session of one peer only. From then on, every local
 * transaction leaves as a signed envelope to every peer that syncs the document. Everything that
 * arrives passes the document's ingress guard; an envelope that waits for a predecessor makes the
 * engine ask its sender for what follows its own head (`want`). Documents are opened lazily: a
 * shard is exchanged between peers that both have it open (`eager: true` opens every shard the
 * manifest lists, which is what an archive or a relay wants).
 * @module
 */
import type * as Y from 'yjs'
import { toHex } from '../encoding/canonical'
import { CabildoError } from '../errors'
import { createListenerSet } from '../transports/listener-set'
import { createTokenBucket, type TokenBucket } from '../transports/token-bucket'
import type { PeerId, Transport } from '../transports/transport'
import { decodeEnvelope } from './envelope-codec'
import type { GuardRejectionCode } from './ingress-guard'
import { MANIFEST_DOC } from './shard-set'
import type { LoggedEnvelope, SignedDoc, SignedDocEvents } from './signed-doc'
import type { DocQuarantineEntry, SignedDocs } from './signed-docs'
import { PresenceSync } from './presence-sync'
import type { Presences } from './presences'
import { envelopeMessages, headsMessages, wantMessages } from './sync-messages'
import { decodeSyncMessage, encodeSyncMessage, sessionKey, type SyncMessage, type WireWant } from './sync-protocol'

/** What a sync engine needs from a Space (a `Space` is one). */
export interface SyncSource {
  /** The Space's id: only peers that say hello with the same id are synced with. */
  readonly id: string
  /** The Space's signed documents. */
  readonly signedDocs: SignedDocs
  /** Opens a document (used by `eager`). */
  doc(name: string): Promise<Y.Doc>
  /** Every shard name the Space knows (used by `eager`). */
  shardNames(): string[]
  /** The Space's presence per document (shared with peers when present). */
  readonly presences?: Presences
}

/** A rate limit: a burst at once, then a steady rate (a token bucket). */
export interface SyncRate {
  /** What is allowed at once (the bucket starts full). `Infinity` turns the limit off. */
  readonly burst: number
  /** What is allowed per second after the burst. */
  readonly perSecond: number
}

/** Limits that protect an engine from its peers. */
export interface SyncLimits {
  /** Largest message accepted from a peer, and sent to one (also bounded by the transport's `maxMessageBytes`). Default 16 MiB. */
  readonly maxMessageBytes: number
  /** Most entries (heads, wants, envelopes) in one message. Default 100,000. */
  readonly maxEntries: number
  /**
   * How many strikes a peer may collect before it is ignored until it reconnects. A strike is a
   * message that cannot be decoded or breaks a limit, or an envelope refused for a reason that
   * does not depend on the receiver's state (malformed, badly signed, signed for another
   * document): no honest peer sends those. Default 16.
   */
  readonly maxStrikes: number
  /** Messages of any kind a peer may send. Default a burst of 10,000, then 2,000 per second. */
  readonly messageRate: SyncRate
  /**
   * Envelopes a peer may send (each costs a signature check), all documents together. Default a
   * burst of 100,000, then 2,000 per second. A message carrying more than the burst passes only
   * when the bucket is full.
   */
  readonly envelopeRate: SyncRate
  /** Envelope bytes a peer may send, all documents together. Default a burst of 256 MiB, then 16 MiB per second. */
  readonly envelopeByteRate: SyncRate
  /**
   * Requests for a whole history a peer may make, per document: `want` messages asking for a
   * session from its start (`after` 0), and `heads` messages asking for our heads in return.
   * Each makes this replica send much more than it received. Default a burst of 256, then 2 per
   * second (an honest peer asks once when it starts syncing a document, and once per resync).
   */
  readonly historyRate: SyncRate
  /** A peer earns a strike for every this many messages dropped for its rates. Default 64. */
  readonly rateDropsPerStrike: number
}

/** Default {@link SyncLimits}. */
export const defaultSyncLimits: SyncLimits = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxEntries: 100_000,
  maxStrikes: 16,
  messageRate: { burst: 10_000, perSecond: 2_000 },
  envelopeRate: { burst: 100_000, perSecond: 2_000 },
  envelopeByteRate: { burst: 256 * 1024 * 1024, perSecond: 16 * 1024 * 1024 },
  historyRate: { burst: 256, perSecond: 2 },
  rateDropsPerStrike: 64,
}

/** Which of a peer's rates a dropped message was over (see {@link SyncLimits}). */
export type SyncRateLimit = 'messages' | 'envelopes' | 'envelope-bytes' | 'history'

/** Options of {@link createSyncEngine}. */
export interface SyncEngineOptions {
  /** The Space to sync. */
  readonly space: SyncSource
  /** The pipe to the peers. The engine owns it from now on: closing the engine closes it. */
  readonly transport: Transport
  /**
   * Connect the transport as this peer (after subscribing to it). Omit it to connect the
   * transport yourself, after creating the engine, so that it sees every `peer` event.
   */
  readonly peerId?: PeerId
  /** Metadata announced with `peerId` when the engine connects the transport. */
  readonly metadata?: Readonly<Record<string, string>>
  /** Open every shard the manifest lists, now and as it learns of new ones (default false: shards open when the app asks). */
  readonly eager?: boolean
  /**
   * Also forward envelopes that arrived from elsewhere (another peer, another engine of the
   * Space) to this transport's peers that may lack them. For a hub: a relay, or a replica
   * bridging two transports. Peers that all reach each other do not need it (default false).
   * `'from-other-transports'` forwards only what arrived through another engine of the Space:
   * for a transport whose peers all reach each other but not this Space's other peers (the
   * members of a relay cluster on their Redis bus); presence is still forwarded as with `true`.
   */
  readonly relay?: boolean | 'from-other-transports'
  /**
   * Every this many milliseconds, exchange heads with every peer again (and say hello again to
   * peers that never answered), to recover messages a lossy transport dropped. 0 turns it off.
   * Default 30,000.
   */
  readonly resyncEvery?: number
  /** Replaces some of the {@link defaultSyncLimits}. */
  readonly limits?: Partial<SyncLimits>
  /** The clock of the rate limits, in milliseconds (default `performance.now`): tests and simulations pass their own. */
  readonly now?: () => number
}

/** Where syncing with a peer stands. */
export const SyncPeerStatus = {
  /** Announced by the transport; its hello has not arrived yet. */
  connecting: 'connecting',
  /** Said hello for this Space: documents are synced with it. */
  syncing: 'syncing',
  /** Said hello for another Space: ignored. */
  foreign: 'foreign',
  /** Collected too many strikes: ignored until it reconnects. */
  ignored: 'ignored',
} as const

/** One of {@link SyncPeerStatus}'s values. */
export type SyncPeerStatus = (typeof SyncPeerStatus)[keyof typeof SyncPeerStatus]

/** A peer as the engine sees it. */
export interface SyncPeer {
  readonly peerId: PeerId
  readonly status: SyncPeerStatus
  /** Strikes collected (see {@link SyncLimits.maxStrikes}). */
  readonly strikes: number
  /** The documents the peer syncs with this engine (it sent heads, wants or envelopes of them). */
  readonly docs: readonly string[]
}

/** Counters of an engine since it started. */
export interface SyncStats {
  /** Peers syncing now. */
  readonly peers: number
  readonly messagesSent: number
  readonly bytesSent: number
  readonly messagesReceived: number
  readonly bytesReceived: number
  /** Envelopes sent (a resent envelope counts again). */
  readonly envelopesSent: number
  /** Envelopes received (duplicates included). */
  readonly envelopesReceived: number
  /** Envelopes applied by the guards (released ones included). */
  readonly applied: number
  /** Envelopes received that were already applied or waiting. */
  readonly duplicates: number
  /** Envelopes waiting now, in the guards of the open documents, for a predecessor or a dependency. */
  readonly pending: number
  /** Envelopes refused by a guard (see `quarantine()`). */
  readonly rejected: number
  /** Strikes given: malformed messages, messages over the limit, envelopes no honest peer sends. */
  readonly malformed: number
  /** Messages dropped unread: from ignored, foreign or not yet greeted peers, of another protocol version, or about a document not open here. */
  readonly ignored: number
  /** Envelopes never sent because they are larger than the transport carries. */
  readonly oversize: number
  /** Sessions for which a peer announced a different envelope at a sequence number we hold (an equivocating author). */
  readonly forks: number
  /** Presence updates refused: undecodable, over the size limits, or above a peer's rate. */
  readonly presenceRefused: number
  /** Messages dropped unread because their peer was over one of its rates (see {@link SyncLimits}). */
  readonly rateLimited: number
}

/** The events of a {@link SyncEngine}. */
export interface SyncEngineEvents {
  /** A peer said hello for this Space: syncing with it starts. */
  peer: { readonly peerId: PeerId }
  /** A peer that was syncing left, turned out to be of another Space, or is now ignored. */
  'peer-left': { readonly peerId: PeerId }
  /** A guard refused an envelope a peer sent; it is kept in quarantine. */
  rejected: { readonly peerId: PeerId; readonly doc: string; readonly code: GuardRejectionCode; readonly reason: string; readonly hash: string | undefined }
  /**
   * A message from a peer was dropped unread: the peer was over one of its rates. Nothing in it
   * is processed; an honest peer's envelopes come back at the next heads exchange.
   */
  'rate-limited': { readonly peerId: PeerId; readonly limit: SyncRateLimit; readonly doc: string | undefined; readonly dropped: number }
  /** A peer earned a strike; `ignored` once it reached the limit. */
  malformed: { readonly peerId: PeerId; readonly reason: string; readonly strikes: number; readonly ignored: boolean }
  /** A failure in the background (e.g. a document `eager` could not open). */
  error: { readonly doc: string | undefined; readonly error: unknown }
  /** The engine stopped (closed, the transport closed, or the Space closed). The last event. */
  close: { readonly reason?: string }
}

/** A running sync of one Space over one transport. */
export interface SyncEngine {
  /** The transport the engine runs on. */
  readonly transport: Transport
  /** Whether the engine stopped. */
  readonly closed: boolean
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof SyncEngineEvents>(event: E, listener: (payload: SyncEngineEvents[E]) => void): () => void
  /** A snapshot of the counters. */
  stats(): SyncStats
  /** The peers the transport announced, and where syncing with each stands. */
  peers(): SyncPeer[]
  /** Envelopes refused by the guards of the Space's open documents (from any engine), oldest first per document. */
  quarantine(): DocQuarantineEntry[]
  /** Exchanges heads of every open document with every peer now (what the timer of `resyncEvery` does). */
  resync(): void
  /** Resolves once the engine has nothing left to do: every received message handled, every local edit signed and sent. */
  idle(): Promise<void>
  /** Stops syncing and closes the transport. Idempotent. */
  close(): void
}

/**
 * Starts syncing `space` over `transport`. A Space without identity receives and serves what it
 * received, but its own edits stay local.
 * @throws CabildoError `E_ARGUMENT` for an invalid limit; `E_CLOSED` when the Space is closed;
 *   what `transport.connect` throws when `peerId` is given.
 */
export function createSyncEngine(options: SyncEngineOptions): SyncEngine {
  return new Engine(options)
}

/** Envelope refusals that do not depend on the receiver's state: an honest peer never relays them. */
const STRIKE_CODES: ReadonlySet<GuardRejectionCode> = new Set(['E_UPDATE_MALFORMED', 'E_SIGNATURE', 'E_WRONG_DOC'])

interface Peer {
  readonly id: PeerId
  status: SyncPeerStatus
  strikes: number
  /** Messages ignored before its hello: we ask for a hello again at 1, 2, 4, 8, ... of them. */
  early: number
  readonly docs: Set<string>
  /** Per document, per session, the highest seq the peer is known to hold (for `relay`). */
  readonly known: Map<string, Map<string, number>>
  readonly messages: TokenBucket
  readonly envelopes: TokenBucket
  readonly envelopeBytes: TokenBucket
  /** Per document: requests for a whole history. */
  readonly history: Map<string, TokenBucket>
  /** Messages dropped for its rates (a strike every `rateDropsPerStrike`). */
  dropped: number
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

class Engine implements SyncEngine {
  readonly transport: Transport
  readonly #space: SyncSource
  readonly #signed: SignedDocs
  readonly #limits: SyncLimits
  readonly #now: () => number
  readonly #eager: boolean
  readonly #relay: boolean
  /** Forward only what arrived through another engine: this transport's peers all reach each other. */
  readonly #meshed: boolean
  readonly #peers = new Map<PeerId, Peer>()
  readonly #docs = new Map<string, { readonly signed: SignedDoc; readonly off: () => void }>()
  readonly #listeners = createListenerSet<SyncEngineEvents>()
  readonly #offs: Array<() => void> = []
  readonly #inFlight = new Set<Promise<unknown>>()
  readonly #opening = new Set<string>()
  /** Outstanding `want`s, by document and session (see `#onHeads`); forgotten at each resync. */
  readonly #requests = new Map<string, Map<string, { readonly peer: Peer; readonly upTo: number }>>()
  /** Envelopes to send, by peer, by document, by hash (sent at the end of the current microtask). */
  readonly #outbox = new Map<Peer, Map<string, Map<string, LoggedEnvelope>>>()
  readonly #stats: Mutable<Omit<SyncStats, 'peers' | 'pending'>> = {
    messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0, envelopesSent: 0, envelopesReceived: 0,
    applied: 0, duplicates: 0, rejected: 0, malformed: 0, ignored: 0, oversize: 0, forks: 0, presenceRefused: 0, rateLimited: 0,
  }
  readonly #presence: PresenceSync | undefined
  #flushQueued = false
  #timer: ReturnType<typeof setInterval> | undefined
  #closed = false

  constructor(options: SyncEngineOptions) {
    this.transport = options.transport
    this.#space = options.space
    this.#signed = options.space.signedDocs
    this.#limits = checkLimits({ ...defaultSyncLimits, ...options.limits })
    this.#now = options.now ?? (() => performance.now())
    this.#eager = options.eager === true
    this.#relay = options.relay === true || options.relay === 'from-other-transports'
    this.#meshed = options.relay === 'from-other-transports'
    if (this.#signed.closed) throw new CabildoError('E_CLOSED', 'The Space is closed', { what: 'space' })
    const every = options.resyncEvery ?? 30_000
    if (!(Number.isFinite(every) && every >= 0)) {
      throw new CabildoError('E_ARGUMENT', `resyncEvery must be a number >= 0, got ${every}`, { argument: 'resyncEvery', reason: 'not a number >= 0' })
    }

    const presences = options.space.presences
    this.#presence = presences === undefined ? undefined : new PresenceSync({
      presences,
      relay: this.#relay,
      send: (peerId, doc, update) => {
        const peer = this.#peers.get(peerId)
        if (peer !== undefined) this.#send(peer, { type: 'awareness', doc, update })
      },
      peersOf: (doc) => [...this.#peers.values()].filter((peer) => peer.status === SyncPeerStatus.syncing && peer.docs.has(doc)).map((peer) => peer.id),
      refused: () => void this.#stats.presenceRefused++,
      now: this.#now,
    })
    const transport = this.transport
    this.#offs.push(
      transport.on('peer', ({ peerId }) => this.#onPeer(peerId)),
      transport.on('peer-left', ({ peerId }) => this.#onPeerLeft(peerId)),
      transport.on('message', ({ from, bytes }) => this.#onMessage(from, bytes)),
      transport.on('close', ({ reason }) => this.#stop(reason ?? 'the transport closed', false)),
      this.#signed.on('open', (signed) => this.#adopt(signed)),
      this.#signed.on('error', ({ doc, error }) => this.#listeners.emit('error', { doc, error })),
      this.#signed.on('close', () => this.#stop('the Space closed', true)),
    )
    for (const signed of this.#signed.list()) this.#adopt(signed)
    if (this.#eager) this.#openKnownShards()
    if (every > 0) {
      this.#timer = setInterval(() => this.resync(), every)
      // Never keep a Node process alive just to resync.
      ;(this.#timer as { unref?: () => void }).unref?.()
    }
    if (options.peerId !== undefined) {
      transport.connect(options.metadata === undefined ? { peerId: options.peerId } : { peerId: options.peerId, metadata: options.metadata })
    }
  }

  get closed(): boolean {
    return this.#closed
  }

  on<E extends keyof SyncEngineEvents>(event: E, listener: (payload: SyncEngineEvents[E]) => void): () => void {
    return this.#listeners.on(event, listener)
  }

  stats(): SyncStats {
    let pending = 0
    for (const { signed } of this.#docs.values()) pending += signed.guard.pending
    let peers = 0
    for (const peer of this.#peers.values()) if (peer.status === SyncPeerStatus.syncing) peers++
    return { ...this.#stats, peers, pending }
  }

  peers(): SyncPeer[] {
    return [...this.#peers.values()].map((peer) => ({ peerId: peer.id, status: peer.status, strikes: peer.strikes, docs: [...peer.docs].sort() }))
  }

  quarantine(): DocQuarantineEntry[] {
    return this.#signed.quarantine()
  }

  resync(): void {
    if (this.#closed) return
    this.#requests.clear() // a want or its answer may have been lost: ask again
    for (const peer of this.#peers.values()) {
      if (peer.status === SyncPeerStatus.connecting) this.#send(peer, { type: 'hello', space: this.#space.id, ask: true })
      else if (peer.status === SyncPeerStatus.syncing) for (const { signed } of this.#docs.values()) this.#sendHeads(peer, signed, true)
    }
  }

  async idle(): Promise<void> {
    for (;;) {
      const writers = [...this.#docs.values()].map(({ signed }) => signed.writer?.flush().catch(() => undefined))
      await Promise.all([...this.#inFlight, ...writers])
      // Let queued sends (flushed in a microtask) and guard continuations run.
      await new Promise<void>((resolve) => setTimeout(resolve, 0))
      if (this.#inFlight.size === 0 && !this.#flushQueued) return
    }
  }

  close(): void {
    this.#stop(undefined, true)
  }

  // ---- lifecycle ----

  #stop(reason: string | undefined, closeTransport: boolean): void {
    if (this.#closed) return
    this.#closed = true
    for (const off of this.#offs.splice(0)) off()
    this.#presence?.close()
    for (const { off } of this.#docs.values()) off()
    this.#docs.clear()
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#outbox.clear()
    this.#peers.clear()
    if (closeTransport) this.transport.close()
    this.#listeners.emit('close', reason === undefined ? {} : { reason })
    this.#listeners.clear()
  }

  /** Runs background work, keeping track of it for `idle()`; its failure becomes an `error` event. */
  #track(work: Promise<unknown>, doc?: string): void {
    const tracked = work.catch((error: unknown) => {
      if (!this.#closed) this.#listeners.emit('error', { doc, error })
    })
    this.#inFlight.add(tracked)
    void tracked.finally(() => this.#inFlight.delete(tracked))
  }

  /** Starts syncing a document whose envelope log is loaded. */
  #adopt(signed: SignedDoc): void {
    if (this.#closed || this.#docs.has(signed.name)) return
    const off = signed.on('envelopes', (event) => this.#onLogged(signed.name, event))
    this.#docs.set(signed.name, { signed, off })
    // Peers that have it open answer with their heads and send what we lack.
    for (const peer of this.#peers.values()) if (peer.status === SyncPeerStatus.syncing) this.#sendHeads(peer, signed, true)
    if (this.#eager && signed.name === MANIFEST_DOC) this.#openKnownShards()
  }

  #openKnownShards(): void {
    for (const name of this.#space.shardNames()) {
      if (this.#signed.get(name) !== undefined || this.#opening.has(name)) continue
      this.#opening.add(name)
      this.#track(this.#space.doc(name).finally(() => this.#opening.delete(name)), name)
    }
  }

  // ---- transport events ----

  #onPeer(peerId: PeerId): void {
    const bucket = (rate: SyncRate): TokenBucket => createTokenBucket({ ratePerSecond: rate.perSecond, burst: rate.burst, now: this.#now })
    const { messageRate, envelopeRate, envelopeByteRate } = this.#limits
    const peer: Peer = {
      id: peerId, status: SyncPeerStatus.connecting, strikes: 0, early: 0, docs: new Set(), known: new Map(),
      messages: bucket(messageRate), envelopes: bucket(envelopeRate), envelopeBytes: bucket(envelopeByteRate), history: new Map(), dropped: 0,
    }
    this.#peers.set(peerId, peer)
    this.#send(peer, { type: 'hello', space: this.#space.id, ask: false })
  }

  #onPeerLeft(peerId: PeerId): void {
    const peer = this.#peers.get(peerId)
    if (!peer) return
    this.#peers.delete(peerId)
    this.#outbox.delete(peer)
    this.#presence?.peerLeft(peerId)
    if (peer.status === SyncPeerStatus.syncing) this.#listeners.emit('peer-left', { peerId })
  }

  /** Never throws: a peer's bytes are untrusted, and a transport listener must not fail. */
  #onMessage(from: PeerId, bytes: Uint8Array): void {
    this.#stats.messagesReceived++
    this.#stats.bytesReceived += bytes.length
    const peer = this.#peers.get(from)
    if (!peer || peer.status === SyncPeerStatus.foreign || peer.status === SyncPeerStatus.ignored) {
      this.#stats.ignored++
      return
    }
    if (bytes.length > this.#limits.maxMessageBytes) {
      this.#strike(peer, `a message of ${bytes.length} bytes exceeds ${this.#limits.maxMessageBytes}`)
      return
    }
    if (!peer.messages.take()) {
      this.#rateLimited(peer, 'messages', undefined)
      return
    }
    const decoded = decodeSyncMessage(bytes, this.#limits)
    if (!decoded.ok) {
      if (decoded.kind === 'unsupported') this.#stats.ignored++
      else this.#strike(peer, decoded.reason)
      return
    }
    const message = decoded.message
    if (message.type === 'hello') {
      this.#onHello(peer, message.space, message.ask)
      return
    }
    if (peer.status !== SyncPeerStatus.syncing) {
      // Its hello was lost (or overtaken): ask for it again, ever more rarely.
      this.#stats.ignored++
      peer.early++
      if ((peer.early & (peer.early - 1)) === 0) this.#send(peer, { type: 'hello', space: this.#space.id, ask: true })
      return
    }
    const entry = this.#docs.get(message.doc)
    if (!entry) {
      this.#stats.ignored++ // not open here: it syncs once the app opens it
      return
    }
    const over = this.#overRate(peer, message)
    if (over !== undefined) {
      this.#rateLimited(peer, over, message.doc)
      return
    }
    if (!peer.docs.has(message.doc)) {
      peer.docs.add(message.doc)
      this.#presence?.peerJoined(peer.id, message.doc)
      // The peer has it open: tell it our heads, so it asks for what we made before we knew (our
      // heads sent earlier found it closed, or it was not syncing yet); a heads asking for a reply gets one below.
      if (!(message.type === 'heads' && message.reply)) this.#sendHeads(peer, entry.signed, false)
    }
    if (message.type === 'heads') this.#onHeads(peer, entry.signed, message)
    else if (message.type === 'want') this.#onWant(peer, entry.signed, message.wants)
    else if (message.type === 'envelopes') this.#track(this.#onEnvelopes(peer, entry.signed, message.envelopes), message.doc)
    else this.#presence?.received(peer.id, message.doc, message.update)
  }

  /** The rate a message about an open document is over, if any; takes its tokens when it is not. */
  #overRate(peer: Peer, message: Exclude<SyncMessage, { type: 'hello' }>): SyncRateLimit | undefined {
    if (message.type === 'envelopes') {
      let bytes = 0
      for (const envelope of message.envelopes) bytes += envelope.length
      if (!peer.envelopes.take(message.envelopes.length)) return 'envelopes'
      if (!peer.envelopeBytes.take(bytes)) return 'envelope-bytes'
      return undefined
    }
    const whole = message.type === 'heads' ? message.reply : message.type === 'want' && message.wants.some((want) => want.after === 0)
    if (!whole) return undefined
    let history = peer.history.get(message.doc)
    if (history === undefined) {
      const rate = this.#limits.historyRate
      peer.history.set(message.doc, (history = createTokenBucket({ ratePerSecond: rate.perSecond, burst: rate.burst, now: this.#now })))
    }
    return history.take() ? undefined : 'history'
  }

  #rateLimited(peer: Peer, limit: SyncRateLimit, doc: string | undefined): void {
    this.#stats.rateLimited++
    peer.dropped++
    this.#listeners.emit('rate-limited', { peerId: peer.id, limit, doc, dropped: peer.dropped })
    if (peer.dropped % this.#limits.rateDropsPerStrike === 0) this.#strike(peer, `${this.#limits.rateDropsPerStrike} messages dropped over its rates (the last: ${limit})`)
  }

  #strike(peer: Peer, reason: string): void {
    this.#stats.malformed++
    peer.strikes++
    const ignored = peer.strikes >= this.#limits.maxStrikes && peer.status !== SyncPeerStatus.ignored
    const wasSyncing = peer.status === SyncPeerStatus.syncing
    if (ignored) {
      peer.status = SyncPeerStatus.ignored
      this.#outbox.delete(peer)
    }
    this.#listeners.emit('malformed', { peerId: peer.id, reason, strikes: peer.strikes, ignored })
    if (ignored) this.#presence?.peerLeft(peer.id)
    if (ignored && wasSyncing) this.#listeners.emit('peer-left', { peerId: peer.id })
  }

  // ---- messages ----

  #onHello(peer: Peer, space: string, ask: boolean): void {
    if (space !== this.#space.id) {
      const wasSyncing = peer.status === SyncPeerStatus.syncing
      peer.status = SyncPeerStatus.foreign
      this.#stats.ignored++
      if (wasSyncing) this.#listeners.emit('peer-left', { peerId: peer.id })
      return
    }
    const first = peer.status !== SyncPeerStatus.syncing
    peer.status = SyncPeerStatus.syncing
    if (ask) this.#send(peer, { type: 'hello', space: this.#space.id, ask: false })
    if (first) this.#listeners.emit('peer', { peerId: peer.id })
    // On the first hello, and when the peer says it missed ours (so it ignored our heads too).
    if (first || ask) for (const { signed } of this.#docs.values()) this.#sendHeads(peer, signed, false)
  }

  /**
   * For each session where the peer is ahead, ask it for what follows our head (`want`), unless
   * another syncing peer was already asked for as much: so in a catch-up from several peers,
   * each envelope is sent once. We never push on heads: the peer asks us when it reads ours.
   */
  #onHeads(peer: Peer, signed: SignedDoc, message: Extract<SyncMessage, { type: 'heads' }>): void {
    const known = this.#known(peer, signed.name)
    const wants: WireWant[] = []
    for (const head of message.heads) {
      const key = sessionKey(head.author, head.session)
      if ((known.get(key) ?? 0) < head.seq) known.set(key, head.seq)
      const mine = signed.hashAt(key, head.seq)
      if (mine !== undefined && mine !== head.hash) {
        this.#stats.forks++ // the author signed two different envelopes at this seq: theirs cannot extend ours
        continue
      }
      const have = signed.headSeq(key)
      if (have >= head.seq) continue
      const asked = this.#asked(signed.name)
      const earlier = asked.get(key)
      const pending = earlier !== undefined && earlier.upTo > have && this.#peers.get(earlier.peer.id) === earlier.peer && earlier.peer.status === SyncPeerStatus.syncing
      if (pending && earlier.upTo >= head.seq) continue
      asked.set(key, { peer, upTo: head.seq })
      wants.push({ author: head.author, session: head.session, after: pending ? earlier.upTo : have })
    }
    for (const want of wantMessages(signed.name, wants, this.#outLimit())) this.#send(peer, want)
    if (message.reply) this.#sendHeads(peer, signed, false)
  }

  /** Per session of a document, the peer last asked for it and up to which seq. */
  #asked(doc: string): Map<string, { readonly peer: Peer; readonly upTo: number }> {
    let asked = this.#requests.get(doc)
    if (!asked) this.#requests.set(doc, (asked = new Map()))
    return asked
  }

  #onWant(peer: Peer, signed: SignedDoc, wants: readonly WireWant[]): void {
    const push: LoggedEnvelope[] = []
    for (const want of wants) append(push, signed.envelopesAfter(sessionKey(want.author, want.session), want.after))
    this.#enqueue(peer, signed.name, push)
  }

  async #onEnvelopes(peer: Peer, signed: SignedDoc, envelopes: readonly Uint8Array[]): Promise<void> {
    this.#stats.envelopesReceived += envelopes.length
    const source = { peerId: peer.id, via: this }
    // The guard takes them one at a time, in this order.
    const outcomes = await Promise.all(envelopes.map((bytes) => signed.receive(bytes, source)))
    if (this.#closed) return
    const wants = new Map<string, WireWant>()
    let askHeads = false
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'applied') this.#stats.applied += 1 + outcome.released.length
      else if (outcome.status === 'duplicate') this.#stats.duplicates++
      else if (outcome.status === 'rejected') {
        this.#stats.rejected++
        this.#listeners.emit('rejected', { peerId: peer.id, doc: signed.name, code: outcome.code, reason: outcome.reason, hash: outcome.hash })
        if (STRIKE_CODES.has(outcome.code) && peer.status !== SyncPeerStatus.ignored) this.#strike(peer, `an envelope refused with ${outcome.code}`)
      } else {
        // Waiting: for its session's predecessor (ask the sender for what follows our head), or
        // for another author's content (ask the sender for its heads, then for what we lack).
        const decoded = decodeEnvelope(envelopes[i] as Uint8Array)
        if (!decoded.ok) return
        const { author, seq } = decoded.envelope
        const session = toHex(decoded.envelope.session)
        const key = sessionKey(author, session)
        const have = signed.headSeq(key)
        if (have >= seq) return // released meanwhile
        // A checkpoint needs the envelope before its first; anything else, the one before it.
        if (have < (decoded.envelope.checkpoint?.from ?? seq) - 1) {
          const earlier = wants.get(key)
          if (!earlier || earlier.after > have) wants.set(key, { author, session, after: have })
        } else askHeads = true
      }
    })
    if (peer.status !== SyncPeerStatus.syncing) return
    for (const message of wantMessages(signed.name, [...wants.values()], this.#outLimit())) this.#send(peer, message)
    if (askHeads) this.#sendHeads(peer, signed, true)
  }

  /** Envelopes joined a document's log: send local ones to its peers; with `relay`, forward the others. */
  #onLogged(doc: string, { envelopes, source }: SignedDocEvents['envelopes']): void {
    const from = source?.via === this ? this.#peers.get(source.peerId) : undefined
    if (from) {
      const known = this.#known(from, doc)
      for (const envelope of envelopes) if ((known.get(envelope.key) ?? 0) < envelope.seq) known.set(envelope.key, envelope.seq)
    }
    if (source === undefined || (this.#relay && !(this.#meshed && source.via === this))) {
      for (const peer of this.#peers.values()) {
        if (peer === from || peer.status !== SyncPeerStatus.syncing) continue
        if (doc !== MANIFEST_DOC && !peer.docs.has(doc)) continue
        const known = this.#known(peer, doc)
        this.#enqueue(peer, doc, source === undefined ? envelopes : envelopes.filter((e) => (known.get(e.key) ?? 0) < e.seq))
      }
    }
    if (this.#eager && doc === MANIFEST_DOC) this.#openKnownShards()
  }

  // ---- sending ----

  #known(peer: Peer, doc: string): Map<string, number> {
    let known = peer.known.get(doc)
    if (!known) peer.known.set(doc, (known = new Map()))
    return known
  }

  #outLimit(): number {
    return Math.min(this.#limits.maxMessageBytes, this.transport.maxMessageBytes ?? Number.POSITIVE_INFINITY)
  }

  #send(peer: Peer, message: SyncMessage): void {
    if (this.#closed) return
    const bytes = encodeSyncMessage(message)
    this.#stats.messagesSent++
    this.#stats.bytesSent += bytes.length
    if (message.type === 'envelopes') this.#stats.envelopesSent += message.envelopes.length
    this.transport.send(peer.id, bytes)
  }

  #sendHeads(peer: Peer, signed: SignedDoc, reply: boolean): void {
    for (const message of headsMessages(signed.name, signed.heads(), reply, this.#outLimit())) this.#send(peer, message)
  }

  /** Queues envelopes for a peer; everything queued in one microtask leaves together, in log order. */
  #enqueue(peer: Peer, doc: string, envelopes: readonly LoggedEnvelope[]): void {
    if (envelopes.length === 0) return
    let docs = this.#outbox.get(peer)
    if (!docs) this.#outbox.set(peer, (docs = new Map()))
    let queued = docs.get(doc)
    if (!queued) docs.set(doc, (queued = new Map()))
    const known = this.#known(peer, doc)
    for (const envelope of envelopes) {
      queued.set(envelope.hash, envelope)
      if ((known.get(envelope.key) ?? 0) < envelope.seq) known.set(envelope.key, envelope.seq)
    }
    if (this.#flushQueued) return
    this.#flushQueued = true
    queueMicrotask(() => this.#flush())
  }

  #flush(): void {
    this.#flushQueued = false
    const limit = this.#outLimit()
    for (const [peer, docs] of this.#outbox) {
      if (this.#peers.get(peer.id) !== peer || peer.status !== SyncPeerStatus.syncing) continue
      for (const [doc, queued] of docs) {
        // Log order is causal: a receiver applies them without waiting.
        const ordered = [...queued.values()].sort((a, b) => a.position - b.position).map((e) => e.bytes)
        const { messages, oversize } = envelopeMessages(doc, ordered, limit)
        this.#stats.oversize += oversize
        for (const message of messages) this.#send(peer, message)
      }
    }
    this.#outbox.clear()
  }
}

/** Appends without spreading (a session can hold more envelopes than a call takes arguments). */
function append<T>(to: T[], items: readonly T[]): void {
  for (const item of items) to.push(item)
}

function checkLimits(limits: SyncLimits): SyncLimits {
  for (const name of ['maxMessageBytes', 'maxEntries', 'maxStrikes', 'rateDropsPerStrike'] as const) {
    const value = limits[name]
    if (!(Number.isSafeInteger(value) && value >= 1)) {
      throw new CabildoError('E_ARGUMENT', `limits.${name} must be an integer >= 1, got ${value}`, { argument: `limits.${name}`, reason: 'not an integer >= 1' })
    }
  }
  for (const name of ['messageRate', 'envelopeRate', 'envelopeByteRate', 'historyRate'] as const) {
    const { burst, perSecond } = limits[name]
    if (!(burst >= 1 && Number.isFinite(perSecond) && perSecond >= 0)) {
      throw new CabildoError('E_ARGUMENT', `limits.${name} needs a burst >= 1 and a finite perSecond >= 0, got ${burst} and ${perSecond}`, { argument: `limits.${name}`, reason: 'not a burst >= 1 and a rate >= 0' })
    }
  }
  return limits
}
