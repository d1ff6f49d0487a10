/**
 * A Byzantine peer: joins a Space's sync traffic over any transport like an honest replica
 * would (it says hello for the Space, exchanges heads, asks for envelopes), keeps a copy of the
 * documents it follows built from the genuine envelopes honest peers send it, and sends them
 * whatever attack it is told to.
 *
 * It never serves anything: it announces no heads and ignores `want`s, so no honest peer ever
 * waits on it.
 *
 * ```ts
 * import { ByzantinePeer, forgedClient } from 'cabildo/testing'
 * const mallory = new ByzantinePeer({ transport: network.transport(), peerId: 'mallory', spaceId: 'city', signer: identity.keyPair })
 * mallory.follow(shard)
 * await network.settle() // mallory now mirrors the shard
 * const [victim] = mallory.sessions(shard)
 * mallory.launch(await forgedClient({ ...mallory.target(shard), victimClient: victim.clientId, edit: (d) => d.getMap('tickets').set('x', 1) }))
 * ```
 * @module
 */
import * as Y from 'yjs'
import { toHex } from '../../encoding/canonical'
import type { PeerId, Transport } from '../../transports/transport'
import { decodeEnvelope, sessionClientId } from '../../sync/envelope-codec'
import type { EnvelopeSigner } from '../../sync/envelope-signing'
import { decodeSyncMessage, encodeSyncMessage, sessionKey, type SyncMessage, type WireHead, type WireWant } from '../../sync/sync-protocol'
import type { Attack, AttackTarget } from './attack'

/** Options of a {@link ByzantinePeer}. */
export interface ByzantinePeerOptions {
  /** The transport it speaks on; the peer owns it (`close()` closes it). */
  readonly transport: Transport
  /** Connect the transport as this peer (omit it to connect the transport yourself, after creating the peer). */
  readonly peerId?: PeerId
  /** The Space it says hello for. */
  readonly spaceId: string
  /** The attacker's real key: what {@link ByzantinePeer.target} hands to the attack helpers. */
  readonly signer: EnvelopeSigner
}

/** An author session seen in a followed document: a victim for the authorship attacks. */
export interface SeenSession {
  /** The author's `did:key`. */
  readonly author: string
  /** The 16-byte session nonce. */
  readonly session: Uint8Array
  /** The session's Yjs client id (`sessionClientId(author, session)`). */
  readonly clientId: number
  /** The highest sequence number received. */
  readonly seq: number
}

interface Followed {
  readonly mirror: Y.Doc
  readonly genuine: Uint8Array[]
  readonly hashes: Set<string>
  readonly sessions: Map<string, SeenSession>
}

/** A hostile peer of a Space, for attacking one's own setup. */
export class ByzantinePeer {
  /** The transport it speaks on. */
  readonly transport: Transport
  /** The Space it claims to belong to. */
  readonly spaceId: string
  /** The attacker's key. */
  readonly signer: EnvelopeSigner
  readonly #greeted = new Set<PeerId>()
  readonly #followed = new Map<string, Followed>()
  readonly #offs: Array<() => void>
  #closed = false

  /** Subscribes to the transport, then connects it when `peerId` is given. */
  constructor(options: ByzantinePeerOptions) {
    this.transport = options.transport
    this.spaceId = options.spaceId
    this.signer = options.signer
    const transport = options.transport
    this.#offs = [
      transport.on('peer', ({ peerId }) => this.#send(peerId, { type: 'hello', space: this.spaceId, ask: false })),
      transport.on('peer-left', ({ peerId }) => void this.#greeted.delete(peerId)),
      transport.on('message', ({ from, bytes }) => this.#onMessage(from, bytes)),
    ]
    if (options.peerId !== undefined) transport.connect({ peerId: options.peerId })
  }

  /** The peers that said hello for the Space, in the order they did. */
  peers(): PeerId[] {
    return [...this.#greeted]
  }

  /**
   * Starts following a document: asks every peer for its heads of it (and peers greeted later
   * too), then for every envelope it lacks, and keeps applying what arrives to its mirror.
   * Peers answer only for documents they have open.
   */
  follow(doc: string): void {
    if (this.#followed.has(doc)) return
    this.#followed.set(doc, { mirror: new Y.Doc(), genuine: [], hashes: new Set(), sessions: new Map() })
    for (const peer of this.#greeted) this.#askHeads(peer, doc)
  }

  /** The document as rebuilt from the genuine envelopes received (an empty one until it follows `doc`). Treat it as read-only. */
  mirror(doc: string): Y.Doc {
    return this.#followed.get(doc)?.mirror ?? new Y.Doc()
  }

  /** The genuine envelopes received for `doc`, each once, in arrival order. */
  genuine(doc: string): readonly Uint8Array[] {
    return this.#followed.get(doc)?.genuine ?? []
  }

  /** The author sessions seen in `doc`, in the order they first appeared. */
  sessions(doc: string): SeenSession[] {
    return [...(this.#followed.get(doc)?.sessions.values() ?? [])]
  }

  /** What the attack helpers need to attack `doc`: the attacker's key, the Space, the mirror. */
  target(doc: string, session?: Uint8Array): AttackTarget {
    return { signer: this.signer, spaceId: this.spaceId, doc, base: this.mirror(doc), ...(session === undefined ? {} : { session }) }
  }

  /** Sends an attack to each of `to` (default: every greeted peer). */
  launch(attack: Attack, to: readonly PeerId[] = this.peers()): void {
    for (const peer of to) {
      if ('message' in attack) this.sendRaw(peer, attack.message)
      else this.sendEnvelopes(peer, attack.doc, attack.envelopes)
    }
  }

  /** Sends envelope bytes, whatever they are, in one `envelopes` message about `doc`. */
  sendEnvelopes(to: PeerId, doc: string, envelopes: readonly Uint8Array[]): void {
    this.#send(to, { type: 'envelopes', doc, envelopes })
  }

  /** Sends raw bytes as one message. */
  sendRaw(to: PeerId, bytes: Uint8Array): void {
    if (!this.#closed) this.transport.send(to, bytes)
  }

  /** Stops listening and closes the transport. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const off of this.#offs.splice(0)) off()
    this.transport.close()
  }

  #send(to: PeerId, message: SyncMessage): void {
    this.sendRaw(to, encodeSyncMessage(message))
  }

  #askHeads(peer: PeerId, doc: string): void {
    this.#send(peer, { type: 'heads', doc, reply: true, heads: [] })
  }

  #onMessage(from: PeerId, bytes: Uint8Array): void {
    const decoded = decodeSyncMessage(bytes)
    if (!decoded.ok) return
    const message = decoded.message
    if (message.type === 'hello') {
      if (message.space !== this.spaceId) return
      if (message.ask) this.#send(from, { type: 'hello', space: this.spaceId, ask: false })
      if (this.#greeted.has(from)) return
      this.#greeted.add(from)
      for (const doc of this.#followed.keys()) this.#askHeads(from, doc)
      return
    }
    const followed = this.#followed.get(message.doc)
    if (!followed || !this.#greeted.has(from)) return
    if (message.type === 'heads') this.#want(from, message.doc, followed, message.heads)
    else if (message.type === 'envelopes') for (const envelope of message.envelopes) this.#mirror(message.doc, followed, envelope)
  }

  #want(from: PeerId, doc: string, followed: Followed, heads: readonly WireHead[]): void {
    const wants: WireWant[] = []
    for (const head of heads) {
      const have = followed.sessions.get(sessionKey(head.author, head.session))?.seq ?? 0
      if (have < head.seq) wants.push({ author: head.author, session: head.session, after: have })
    }
    if (wants.length > 0) this.#send(from, { type: 'want', doc, wants })
  }

  #mirror(doc: string, followed: Followed, bytes: Uint8Array): void {
    const decoded = decodeEnvelope(bytes)
    if (!decoded.ok || decoded.envelope.doc !== `${this.spaceId}/${doc}` || followed.hashes.has(decoded.hash)) return
    const { author, session, seq, update } = decoded.envelope
    followed.hashes.add(decoded.hash)
    followed.genuine.push(bytes)
    const key = sessionKey(author, toHex(session))
    const seen = followed.sessions.get(key)
    if (!seen || seen.seq < seq) followed.sessions.set(key, { author, session, clientId: sessionClientId(author, session), seq })
    try {
      Y.applyUpdate(followed.mirror, update)
    } catch {
      // Honest peers only send envelopes their guard applied; should one still fail, the mirror
      // is the attacker's own copy: it only becomes less exact.
    }
  }
}
