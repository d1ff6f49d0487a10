/**
 * The presence half of a sync engine: shares each document's awareness with the peers that
 * sync the document, checks what they send (size, rate, decoding) before applying it, forgets
 * a peer's clients when it leaves, and, in a relay, forwards presence between peers.
 * @module
 */
import { applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates, type Awareness } from 'y-protocols/awareness'
import { createTokenBucket, type TokenBucket } from '../transports/token-bucket'
import type { PeerId } from '../transports/transport'
import { checkAwarenessUpdate, defaultAwarenessLimits, type AwarenessLimits } from './awareness-check'
import type { Presences } from './presences'

/** Presence updates a peer may send: a burst, then a steady rate. */
export interface PresenceRate {
  /** Updates accepted at once. Default 100. */
  readonly burst: number
  /** Updates per second after the burst. Default 50. */
  readonly perSecond: number
}

/** Default {@link PresenceRate}. */
export const defaultPresenceRate: PresenceRate = { burst: 100, perSecond: 50 }

/** What a presence update refused from a peer was refused for. */
export type PresenceRefusal = 'malformed' | 'rate'

/** Options of {@link PresenceSync}. */
export interface PresenceSyncOptions {
  readonly presences: Presences
  /** Sends an awareness update of `doc` to a peer. */
  readonly send: (peerId: PeerId, doc: string, update: Uint8Array) => void
  /** The peers syncing `doc` now. */
  readonly peersOf: (doc: string) => Iterable<PeerId>
  /** Forward presence received from one peer to the others (a relay). */
  readonly relay: boolean
  readonly limits?: AwarenessLimits
  readonly rate?: PresenceRate
  /** The clock of the rate limit, in milliseconds (default `Date.now`). */
  readonly now?: () => number
  /** Told of every refused update. */
  readonly refused: (peerId: PeerId, doc: string, why: PresenceRefusal, reason: string) => void
}

/** Marks an awareness change as received from a peer, so that it is not echoed back to it. */
interface FromPeer {
  readonly peer: PeerId
}

function fromPeer(origin: unknown): PeerId | undefined {
  return typeof origin === 'object' && origin !== null && 'peer' in origin ? (origin as FromPeer).peer : undefined
}

/** Shares the presence of a Space's documents over one engine's peers. */
export class PresenceSync {
  readonly #options: PresenceSyncOptions
  readonly #limits: AwarenessLimits
  readonly #rate: PresenceRate
  readonly #now: () => number
  /** Per peer, per document: the client ids learned from that peer. */
  readonly #clients = new Map<PeerId, Map<string, Set<number>>>()
  readonly #buckets = new Map<PeerId, TokenBucket>()
  readonly #offs: Array<() => void> = []

  constructor(options: PresenceSyncOptions) {
    this.#options = options
    this.#limits = options.limits ?? defaultAwarenessLimits
    this.#rate = options.rate ?? defaultPresenceRate
    this.#now = options.now ?? Date.now
    for (const [doc, awareness] of options.presences.entries()) this.#watch(doc, awareness)
    this.#offs.push(options.presences.on('created', ({ doc, awareness }) => this.#watch(doc, awareness)))
  }

  #watch(doc: string, awareness: Awareness): void {
    const onUpdate = (changes: { added: number[]; updated: number[]; removed: number[] }, origin: unknown): void => {
      const source = fromPeer(origin)
      if (source !== undefined && !this.#options.relay) return
      const clients = [...changes.added, ...changes.updated, ...changes.removed]
      if (clients.length === 0) return
      const update = encodeAwarenessUpdate(awareness, clients)
      for (const peerId of this.#options.peersOf(doc)) if (peerId !== source) this.#options.send(peerId, doc, update)
    }
    awareness.on('update', onUpdate)
    this.#offs.push(() => awareness.off('update', onUpdate))
  }

  /** A peer started syncing `doc`: send it this replica's state (every state known here, in a relay). */
  peerJoined(peerId: PeerId, doc: string): void {
    const awareness = this.#options.presences.get(doc)
    if (awareness !== undefined) this.#sendStates(peerId, doc, awareness, () => true)
  }

  /** An awareness update of `doc` arrived from a peer. */
  received(peerId: PeerId, doc: string, update: Uint8Array): void {
    const awareness = this.#options.presences.get(doc)
    if (awareness === undefined) return // nobody here looks at this document's presence
    if (!this.#take(peerId)) {
      this.#options.refused(peerId, doc, 'rate', 'presence updates above the rate limit')
      return
    }
    const checked = checkAwarenessUpdate(update, this.#limits)
    if (!checked.ok) {
      this.#options.refused(peerId, doc, 'malformed', checked.reason)
      return
    }
    let docs = this.#clients.get(peerId)
    if (docs === undefined) this.#clients.set(peerId, (docs = new Map()))
    let clients = docs.get(doc)
    if (clients === undefined) docs.set(doc, (clients = new Set()))
    let newcomer = false
    for (const entry of checked.entries) {
      if (entry.client === awareness.clientID) continue
      if (entry.state === null) clients.delete(entry.client)
      else if (!clients.has(entry.client)) {
        clients.add(entry.client)
        newcomer = true
      }
    }
    applyAwarenessUpdate(awareness, update, { peer: peerId } satisfies FromPeer)
    // Someone new over there: tell them who is here (they may have started their presence after
    // ours was sent), rather than waiting for the next renewal.
    if (newcomer) this.#sendStates(peerId, doc, awareness, (client) => !clients.has(client))
  }

  #sendStates(peerId: PeerId, doc: string, awareness: Awareness, include: (client: number) => boolean): void {
    const own = awareness.clientID
    const states = [...awareness.getStates().keys()].filter((client) => include(client) && (this.#options.relay || client === own))
    if (states.length > 0) this.#options.send(peerId, doc, encodeAwarenessUpdate(awareness, states))
  }

  /** A peer left: the clients learned from it leave too. */
  peerLeft(peerId: PeerId): void {
    const docs = this.#clients.get(peerId)
    this.#clients.delete(peerId)
    this.#buckets.delete(peerId)
    if (docs === undefined) return
    for (const [doc, clients] of docs) {
      const awareness = this.#options.presences.get(doc)
      if (awareness !== undefined && clients.size > 0) removeAwarenessStates(awareness, [...clients], { peer: peerId } satisfies FromPeer)
    }
  }

  /** Stops sharing. */
  close(): void {
    for (const off of this.#offs.splice(0)) off()
    this.#clients.clear()
    this.#buckets.clear()
  }

  #take(peerId: PeerId): boolean {
    let bucket = this.#buckets.get(peerId)
    if (bucket === undefined) this.#buckets.set(peerId, (bucket = createTokenBucket({ ratePerSecond: this.#rate.perSecond, burst: this.#rate.burst, now: this.#now })))
    return bucket.take()
  }
}
