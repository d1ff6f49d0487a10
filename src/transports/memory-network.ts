/**
 * An in-process network for tests and simulations: every transport made by one network reaches
 * the others, through a deterministic scheduler with fault injection (partitions, loss,
 * duplication, reordering, delay). Nothing moves until the network is stepped, on a virtual clock,
 * and every random decision comes from the seed: a failing schedule replays exactly.
 *
 * ```ts
 * import { createMemoryNetwork } from 'cabildo'
 * const network = createMemoryNetwork({ seed: 42, dropRate: 0.1 })
 * const a = network.join('a')
 * const b = network.join('b')
 * b.on('message', ({ from, bytes }) => console.log(from, bytes))
 * await network.settle()                 // a and b now know each other
 * a.send('b', new Uint8Array([1, 2, 3]))
 * await network.settle()                 // delivered, unless the 10 % loss struck
 * ```
 * @module
 */
import { CabildoError } from '../errors'
import { DeliveryQueue } from './delivery-queue'
import { createListenerSet } from './listener-set'
import { MemoryTransportEnd, type MemoryHub, type MemoryTransport } from './memory-transport'
import { NO_FAULTS, drawFate, resolveFaults, type NetworkFaults, type ResolvedFaults } from './network-faults'
import { NetworkTopology, type LinkChange } from './network-topology'
import { createSeededRandom, type SeededRandom } from './seeded-random'
import type { PeerId, PeerInfo } from './transport'

/** Options of {@link createMemoryNetwork}: the seed, a message size limit, and the initial faults. */
export interface MemoryNetworkOptions extends NetworkFaults {
  /** Seeds every random decision (any safe integer). Default 1. */
  readonly seed?: number
  /** Messages larger than this many bytes are dropped (and counted). Default: no limit. */
  readonly maxMessageBytes?: number
}

/**
 * Traffic counters. Once the network is idle, `sent + duplicated = delivered + dropped`
 * (`inFlight` counts the copies still queued).
 */
export interface NetworkStats {
  /** Messages sent by connected transports (and injected), including those then dropped. */
  readonly sent: number
  /** Copies handed to a receiver's `message` listeners. */
  readonly delivered: number
  /** Copies that will never arrive: lost by `dropRate`, addressed to an unknown or unreachable peer, too large, or cut off in flight by a partition or a close. */
  readonly dropped: number
  /** Extra copies made by `duplicateRate`. */
  readonly duplicated: number
  /** Deliveries that came after a message sent later on the same link (from the same sender to the same receiver). */
  readonly reordered: number
  /** Copies queued and not yet delivered or dropped. */
  readonly inFlight: number
}

/** A message as seen by {@link MemoryNetwork.tap}, at the moment it is sent. */
export interface TappedMessage {
  /** A number that increases with each message sent on the network (duplicates share it). */
  readonly id: number
  /** The sender's peer id. */
  readonly from: PeerId
  /** The addressee's peer id (which may be unknown or unreachable). */
  readonly to: PeerId
  /** A copy of the bytes. */
  readonly bytes: Uint8Array
  /** The virtual tick it was sent at. */
  readonly at: number
  /** Whether it was put on the wire by {@link MemoryNetwork.inject} rather than by a transport. */
  readonly injected: boolean
}

/** Options of {@link MemoryNetwork.run}. */
export interface NetworkRunOptions {
  /** Stop as soon as this returns true (checked before every step). */
  readonly until?: () => boolean
  /** Stop after this many steps. Default 100 000. */
  readonly maxSteps?: number
}

/** What {@link MemoryNetwork.run} did: how many steps, and why it stopped. */
export interface NetworkRunResult {
  /** Steps taken. */
  readonly steps: number
  /** `idle`: nothing left in flight; `until`: the condition held; `limit`: `maxSteps` was reached. */
  readonly outcome: 'idle' | 'until' | 'limit'
}

/** Options of {@link MemoryNetwork.settle}. */
export interface NetworkSettleOptions {
  /** Give up after this many steps in total. Default 100 000. */
  readonly maxSteps?: number
  /**
   * Awaited each time the queue runs empty, so that asynchronous listeners (signature checks,
   * storage writes) can send their replies; settling ends when the queue is still empty after it.
   * Default: three macrotask turns (`setTimeout(0)`), enough for replies sent after a few
   * `await`s; pass your engine's own "idle" promise when it waits on real I/O or crypto.
   */
  readonly idle?: () => Promise<void>
}

/** An in-process network of {@link MemoryTransport}s with a deterministic, fault-injecting scheduler. */
export interface MemoryNetwork {
  /** The seed of every random decision. */
  readonly seed: number
  /** The virtual clock, in ticks: the due tick of the last item stepped (starts at 0). */
  readonly now: number
  /** The faults in force. */
  readonly faults: ResolvedFaults
  /** The ids of the connected transports, in connection order. */
  readonly peers: readonly PeerId[]

  /** A new transport on this network, not connected yet (the Space calls `connect`). */
  transport(): MemoryTransport
  /**
   * A new transport already connected as `peerId`.
   * @throws `E_ARGUMENT` if `peerId` is empty or already connected here; `E_CLOSED` after `close()`.
   */
  join(peerId: PeerId, metadata?: Readonly<Record<string, string>>): MemoryTransport
  /**
   * Changes some faults; the others keep their values. Applies to messages sent from now on
   * (those in flight keep their schedule).
   * @throws `E_ARGUMENT` for an invalid value (see `resolveFaults`); nothing changes then.
   */
  configure(faults: NetworkFaults): void
  /**
   * Splits the network: peers in different groups cannot reach each other. Peers named in no group
   * (including those that join later) form one more group together, so `partition([['a']])`
   * isolates `a`. Broken links drop the messages in flight on them and queue `peer-left` to both
   * ends; links that come back queue `peer`. Replaces any previous partition.
   * @throws `E_ARGUMENT` if a peer id appears in two groups.
   */
  partition(groups: ReadonlyArray<ReadonlyArray<PeerId>>): void
  /** Ends the partition: every connected peer reaches every other again. */
  heal(): void

  /**
   * Delivers the next queued item (a message, or a `peer` / `peer-left` announcement), advancing
   * the clock to its due tick. Returns false when nothing is in flight.
   */
  step(): boolean
  /** Steps synchronously until nothing is in flight, `until()` holds, or `maxSteps` is reached. */
  run(options?: NetworkRunOptions): NetworkRunResult
  /**
   * Steps until nothing is in flight, letting asynchronous listeners run in between (see
   * {@link NetworkSettleOptions.idle}). Resolves to the number of steps taken.
   * @throws `E_TIMEOUT` (rejects) if still busy after `maxSteps` steps, e.g. two peers that answer
   *   each other forever.
   */
  settle(options?: NetworkSettleOptions): Promise<number>

  /** A snapshot of the traffic counters. */
  stats(): NetworkStats
  /**
   * Observes every message sent on the network, before any fault applies (to see what a peer
   * sends). Returns the function that unsubscribes.
   */
  tap(listener: (message: TappedMessage) => void): () => void
  /**
   * Puts bytes on the wire as if `from` had sent them to `to` (to play a lying or replaying peer),
   * bypassing the faults: delivered at the current tick, after what is already due. Returns false,
   * and sends nothing, if `from` cannot reach `to` (unknown, closed or partitioned away).
   */
  inject(from: PeerId, to: PeerId, bytes: Uint8Array): boolean
  /** Closes every transport (`close` with reason `network closed`) and drops what is in flight. Idempotent. */
  close(): void
}

type Item =
  | { readonly kind: 'message'; readonly at: number; readonly seq: number; readonly id: number; readonly from: PeerId; readonly to: MemoryTransportEnd; readonly session: number; readonly bytes: Uint8Array }
  | { readonly kind: 'peer'; readonly at: number; readonly seq: number; readonly to: MemoryTransportEnd; readonly about: PeerInfo }
  | { readonly kind: 'peer-left'; readonly at: number; readonly seq: number; readonly to: MemoryTransportEnd; readonly about: PeerId }

const DEFAULT_MAX_STEPS = 100_000

/**
 * The default idle: three macrotask turns. One is not enough for a listener that schedules its
 * reply from a microtask (the turn would be queued before the reply's timer); three cover the
 * usual `await` chains. Work that waits on real I/O needs a custom `idle`.
 */
async function idleTurns(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setTimeout(resolve, 0))
}

/**
 * Creates an empty {@link MemoryNetwork}.
 * @throws `E_ARGUMENT` for an invalid seed, fault or `maxMessageBytes`.
 */
export function createMemoryNetwork(options: MemoryNetworkOptions = {}): MemoryNetwork {
  const { seed = 1, maxMessageBytes, ...faults } = options
  if (maxMessageBytes !== undefined && !(Number.isSafeInteger(maxMessageBytes) && maxMessageBytes >= 0)) {
    throw new CabildoError('E_ARGUMENT', `maxMessageBytes must be an integer >= 0, got ${maxMessageBytes}`, { argument: 'maxMessageBytes', reason: 'not an integer >= 0' })
  }
  return new Network(seed, maxMessageBytes, resolveFaults(NO_FAULTS, faults))
}

class Network implements MemoryNetwork, MemoryHub {
  readonly seed: number
  readonly maxMessageBytes: number | undefined
  #faults: ResolvedFaults
  readonly #random: SeededRandom
  readonly #queue = new DeliveryQueue<Item>()
  readonly #taps = createListenerSet<{ message: TappedMessage }>()
  readonly #topology = new NetworkTopology<MemoryTransportEnd>()
  /** Transports made here and not closed, connected or not. */
  readonly #open = new Set<MemoryTransportEnd>()
  /** The newest message id delivered on each directed link, to count reorderings. */
  readonly #newestDelivered = new Map<string, number>()
  #now = 0
  #seq = 0
  #messageIds = 0
  #closed = false
  #sent = 0
  #delivered = 0
  #dropped = 0
  #duplicated = 0
  #reordered = 0

  constructor(seed: number, maxMessageBytes: number | undefined, faults: ResolvedFaults) {
    this.#random = createSeededRandom(seed)
    this.seed = seed
    this.maxMessageBytes = maxMessageBytes
    this.#faults = faults
  }

  get now(): number {
    return this.#now
  }

  get faults(): ResolvedFaults {
    return this.#faults
  }

  get peers(): readonly PeerId[] {
    return this.#topology.peers
  }

  transport(): MemoryTransport {
    const end = new MemoryTransportEnd(this)
    if (this.#closed) end.shutdown('network closed')
    else this.#open.add(end)
    return end
  }

  join(peerId: PeerId, metadata?: Readonly<Record<string, string>>): MemoryTransport {
    if (this.#closed) throw closedError()
    const end = this.transport()
    try {
      end.connect(metadata === undefined ? { peerId } : { peerId, metadata })
    } catch (error) {
      end.close() // a refused join leaves nothing behind
      throw error
    }
    return end
  }

  configure(faults: NetworkFaults): void {
    this.#faults = resolveFaults(this.#faults, faults)
  }

  partition(groups: ReadonlyArray<ReadonlyArray<PeerId>>): void {
    this.#apply(this.#topology.partition(groups))
  }

  heal(): void {
    this.#apply(this.#topology.heal())
  }

  step(): boolean {
    const item = this.#queue.shift()
    if (item === undefined) return false
    if (item.at > this.#now) this.#now = item.at
    if (item.kind === 'peer') item.to.announce(item.about)
    else if (item.kind === 'peer-left') item.to.forget(item.about)
    else this.#deliver(item)
    return true
  }

  run(options: NetworkRunOptions = {}): NetworkRunResult {
    const { until, maxSteps = DEFAULT_MAX_STEPS } = options
    let steps = 0
    for (;;) {
      if (until?.() === true) return { steps, outcome: 'until' }
      if (this.#queue.size === 0) return { steps, outcome: 'idle' }
      if (steps >= maxSteps) return { steps, outcome: 'limit' }
      this.step()
      steps++
    }
  }

  async settle(options: NetworkSettleOptions = {}): Promise<number> {
    const { maxSteps = DEFAULT_MAX_STEPS, idle = idleTurns } = options
    let steps = 0
    for (;;) {
      const result = this.run({ maxSteps: maxSteps - steps })
      steps += result.steps
      if (result.outcome === 'limit') {
        throw new CabildoError('E_TIMEOUT', `the memory network was still busy after ${maxSteps} steps (${this.#queue.size} items in flight)`, { what: 'memory network settle', limit: maxSteps })
      }
      await idle()
      if (this.#queue.size === 0) return steps
    }
  }

  stats(): NetworkStats {
    return {
      sent: this.#sent,
      delivered: this.#delivered,
      dropped: this.#dropped,
      duplicated: this.#duplicated,
      reordered: this.#reordered,
      inFlight: this.#queue.count((item) => item.kind === 'message'),
    }
  }

  tap(listener: (message: TappedMessage) => void): () => void {
    return this.#taps.on('message', listener)
  }

  inject(from: PeerId, to: PeerId, bytes: Uint8Array): boolean {
    if (!(bytes instanceof Uint8Array)) {
      throw new CabildoError('E_ARGUMENT', 'inject takes a Uint8Array', { argument: 'bytes', reason: 'not a Uint8Array' })
    }
    const target = this.#topology.member(to)?.end
    const session = this.#topology.session(from, to)
    if (this.#closed || target === undefined || session === undefined) return false
    const id = this.#record(from, to, bytes, true)
    this.#queue.push({ kind: 'message', at: this.#now, seq: ++this.#seq, id, from, to: target, session, bytes: new Uint8Array(bytes) })
    return true
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const end of [...this.#open]) end.shutdown('network closed')
    this.#dropped += this.#queue.removeWhere((item) => item.kind === 'message')
    this.#queue.clear()
  }

  // ---- MemoryHub: called by the transports ----

  attach(end: MemoryTransportEnd, self: PeerInfo): void {
    if (this.#closed) throw closedError()
    this.#apply(this.#topology.add(end, self))
  }

  detach(end: MemoryTransportEnd): void {
    this.#open.delete(end)
    const peerId = end.peerId
    if (peerId !== undefined && this.#topology.member(peerId)?.end === end) this.#apply(this.#topology.remove(peerId))
  }

  send(from: MemoryTransportEnd, to: PeerId, bytes: Uint8Array): void {
    const sender = from.peerId
    if (this.#closed || sender === undefined) return
    const id = this.#record(sender, to, bytes, false)
    const target = this.#topology.member(to)?.end
    const session = this.#topology.session(sender, to)
    const tooLarge = this.maxMessageBytes !== undefined && bytes.length > this.maxMessageBytes
    if (target === undefined || session === undefined || !from.knows(to) || tooLarge) {
      this.#dropped++
      return
    }
    const delays = drawFate(this.#random, this.#faults)
    if (delays.length === 0) this.#dropped++
    if (delays.length > 1) this.#duplicated += delays.length - 1
    delays.forEach((delay, copy) => {
      // Each copy gets its own array: a receiver that mutates one cannot change the other.
      const payload = copy === 0 ? bytes : new Uint8Array(bytes)
      this.#queue.push({ kind: 'message', at: this.#now + delay, seq: ++this.#seq, id, from: sender, to: target, session, bytes: payload })
    })
  }

  // ---- internals ----

  /** Counts a send, numbers it, and shows it to the taps. */
  #record(from: PeerId, to: PeerId, bytes: Uint8Array, injected: boolean): number {
    const id = ++this.#messageIds
    this.#sent++
    if (this.#taps.count('message') > 0) this.#taps.emit('message', { id, from, to, bytes: new Uint8Array(bytes), at: this.#now, injected })
    return id
  }

  #deliver(item: Extract<Item, { kind: 'message' }>): void {
    const receiver = item.to
    const to = receiver.peerId ?? ''
    // Links are cut eagerly (see #apply), so a stale session is only possible if a listener
    // re-entered the network mid-step; checked anyway, as is the receiver's view of the sender.
    if (receiver.closed || this.#topology.session(item.from, to) !== item.session || !receiver.knows(item.from)) {
      this.#dropped++
      return
    }
    this.#delivered++
    const direction = `${item.from}\u0000${to}`
    const newest = this.#newestDelivered.get(direction) ?? 0
    if (item.id < newest) this.#reordered++
    else this.#newestDelivered.set(direction, item.id)
    receiver.deliver(item.from, item.bytes)
  }

  /**
   * Turns link changes into traffic: a link that goes down loses what is in flight on it at once;
   * both ends learn of every change by an announcement queued at the current tick. Every message
   * on a link is queued after that link's `peer` announcement, at the same tick or later, so a
   * receiver always sees `peer` before the first message from a peer, and none after `peer-left`.
   */
  #apply(changes: ReadonlyArray<LinkChange<MemoryTransportEnd>>): void {
    for (const { up, a, b, session } of changes) {
      if (!up) this.#dropped += this.#queue.removeWhere((item) => item.kind === 'message' && item.session === session)
      for (const [end, about] of [[a.end, b.info], [b.end, a.info]] as const) {
        if (end.closed) continue
        if (up) this.#queue.push({ kind: 'peer', at: this.#now, seq: ++this.#seq, to: end, about })
        else this.#queue.push({ kind: 'peer-left', at: this.#now, seq: ++this.#seq, to: end, about: about.peerId })
      }
    }
  }
}

function closedError(): CabildoError<'E_CLOSED'> {
  return new CabildoError('E_CLOSED', 'this memory network is closed', { what: 'memory network' })
}
