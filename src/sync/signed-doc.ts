/**
 * One document with its signed history: a {@link SessionWriter} that signs the replica's own
 * transactions, an {@link IngressGuard} that checks everything that arrives, and the log of every
 * envelope the document holds (in the order they were applied, which is a causal order), kept
 * in storage next to the document so that it survives a restart.
 *
 * With storage, the envelope log is the only record of the content envelopes carry: the
 * document's own store appends only what no envelope carries ({@link SignedDoc.kept}), and its
 * snapshots are written once the envelopes they hold are durable. A crash can therefore never
 * keep an envelope's content without the envelope, and content whose envelope was kept comes
 * back from the envelope when the document opens.
 *
 * ```ts
 * const signed = new SignedDoc({ name: 'tickets.2026-11', docId: 'city/tickets.2026-11', doc, check, signer: identity.keyPair })
 * await signed.load(storage)                   // the stored envelopes, before the doc is used
 * const off = signed.on('envelopes', ({ envelopes, source }) => send(envelopes, source))
 * await signed.receive(bytes, { peerId: 'north', via: engine })
 * ```
 *
 * The sync engine reads heads and missing envelopes from here; it never touches the Y.Doc.
 *
 * The log also keeps **checkpoints** (envelopes that merge a session's envelopes from its first
 * to some `seq`): the writer signs one every `checkpointEvery` envelopes (default
 * {@link DEFAULT_CHECKPOINT_EVERY}) or on `checkpoint()`, and those received from peers are kept
 * too. A peer that lacks envelopes is sent the cheapest mix ({@link SignedDoc.envelopesAfter}).
 * @module
 */
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import { toHex } from '../encoding/canonical'
import { CabildoError } from '../errors'
import type { KeptElsewhere, StorageFailure } from '../storage/attach-store'
import type { Storage } from '../storage/storage'
import { createListenerSet } from '../transports/listener-set'
import type { DeleteRule } from './delete-rules'
import { decodeEnvelope } from './envelope-codec'
import type { EnvelopeSigner, SignatureCheck } from './envelope-signing'
import { openEnvelopeStore, type EnvelopeStore } from './envelope-store'
import { IngressGuard, type GuardLimits, type GuardOutcome } from './ingress-guard'
import { SessionLog } from './session-log'
import { SessionWriter } from './session-writer'
import { sessionKey, type WireHead } from './sync-protocol'
import { Voucher, type VouchedWriter, type VouchOptions, type VouchOutcome } from './vouching'

/** An envelope in a document's log. */
export interface LoggedEnvelope {
  /** The envelope's canonical bytes. */
  readonly bytes: Uint8Array
  /** The hex SHA-256 of its body. */
  readonly hash: string
  /** The author's `did:key`. */
  readonly author: string
  /** The session nonce, hex. */
  readonly session: string
  /** `<author> <session>` (see `sessionKey`). */
  readonly key: string
  /** Its sequence number in the session (a checkpoint's: the last envelope it merges). */
  readonly seq: number
  /**
   * Set when the envelope is a checkpoint: it merges the session's envelopes `from` to `seq`;
   * `last` is the hex hash of envelope `seq` (the session's head hash once it is applied).
   */
  readonly checkpoint?: { readonly from: number; readonly last: string }
  /** Its place in the document's log (it grows along it): envelopes with a lower position never depend on higher ones. */
  readonly position: number
}

/**
 * How many envelopes of a session a writer signs, at least, between two checkpoints, by default:
 * a replica catching up receives at most this many envelopes besides a checkpoint (about 200
 * bytes each, however small the edit), unless the checkpoint weighs more than they do.
 */
export const DEFAULT_CHECKPOINT_EVERY = 32

/** Where received envelopes came from: a peer of one sync engine (`via`). */
export interface EnvelopeSource {
  /** The peer that sent the envelope (as its transport names it). */
  readonly peerId: string
  /** The engine (or other receiver) it came through. */
  readonly via: object
}

/** The events of a {@link SignedDoc}. */
export interface SignedDocEvents {
  /**
   * Envelopes joined the log, in log order: made here (`source` undefined: signed local
   * transactions) or applied after arriving from `source` (with those they released).
   */
  envelopes: { readonly envelopes: readonly LoggedEnvelope[]; readonly source: EnvelopeSource | undefined }
}

/** Options of a {@link SignedDoc}. */
export interface SignedDocOptions {
  /** The document's name in its Space (`_manifest`, `tickets.2026-11`). */
  readonly name: string
  /** The id envelopes are signed for: `<space id>/<name>`. */
  readonly docId: string
  readonly doc: Y.Doc
  /** Checks envelope signatures (share one per Space: it caches keys). */
  readonly check: SignatureCheck
  /** Signs the replica's own transactions; without it the document only receives. */
  readonly signer?: EnvelopeSigner
  /** Which deletions remote envelopes may make (default: the civic rule). */
  readonly deleteRule?: DeleteRule
  /** The guard's limits. */
  readonly guardLimits?: Partial<GuardLimits>
  /** The writer's session nonce (default: random). Tests pass a fixed one. */
  readonly session?: Uint8Array
  /**
   * The writer signs a checkpoint of its session once this many envelopes were signed since the
   * last one and what they cost beyond their updates reaches its size (default
   * {@link DEFAULT_CHECKPOINT_EVERY}); 0 turns automatic checkpoints off (`checkpoint()` still makes one).
   */
  readonly checkpointEvery?: number
  /** Called when the writer stops (a signing failure) or the envelope log cannot be restored whole. */
  readonly onError?: (error: unknown) => void
}

/** Options of {@link SignedDoc.load}. */
export interface SignedDocLoadOptions {
  /** Compact the envelope store after this many appends (default 500). */
  readonly compactEvery?: number
  /** Called with every storage failure of the envelope store. */
  readonly onStorageError?: (error: StorageFailure) => void
}

/** How much of a document is not covered by envelopes (and so cannot reach peers through sync). */
export interface UnsignedContent {
  /** Yjs client ids whose content in the document goes beyond their envelopes. */
  readonly clients: readonly number[]
  /** How many clocks (items, characters) those clients hold without an envelope. */
  readonly clocks: number
}

interface Header {
  readonly author: string
  readonly session: string
  readonly seq: number
  readonly update: Uint8Array
  readonly checkpoint?: { readonly from: number; readonly last: string }
}

/** The origin of the transaction that applies stored envelopes' content missing from their document. */
const RESTORED = Symbol('restored envelopes')

/**
 * How many updates one `Y.mergeUpdates` call merges at most: it re-sorts its inputs for every
 * run of structs it writes, so merging n updates of one session at once costs O(n²); merging
 * them this many at a time, level by level, costs O(n log n).
 */
const MERGE_FAN_IN = 32

/** Merges updates into one (see {@link MERGE_FAN_IN}). */
function mergeAll(updates: readonly Uint8Array[]): Uint8Array {
  let level = updates
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += MERGE_FAN_IN) next.push(Y.mergeUpdates(level.slice(i, i + MERGE_FAN_IN)))
    level = next
  }
  return level[0] ?? Y.mergeUpdates([])
}

type DeleteSet = ReturnType<typeof Y.createDeleteSetFromStructStore>

/** Whether the ranges of `held` (sorted by clock, adjacent ranges joined) cover `len` clocks from `clock`. */
function covers(held: ReturnType<DeleteSet['clients']['get']>, clock: number, len: number): boolean {
  if (held === undefined) return false
  let low = 0
  let high = held.length - 1
  while (low < high) {
    const middle = (low + high + 1) >> 1
    if ((held[middle]?.clock ?? 0) <= clock) low = middle
    else high = middle - 1
  }
  const range = held[low]
  return range !== undefined && range.clock <= clock && clock + len <= range.clock + range.len
}

/**
 * Whether `doc` holds everything `update` does: every struct it writes and every deletion it
 * makes (a snapshot taken between the transactions one envelope merges holds the first one's
 * structs without the second one's deletions). `deleted` is the document's delete set.
 */
function contentPresent(doc: Y.Doc, update: Uint8Array, deleted: () => DeleteSet): boolean {
  for (const [client, end] of Y.parseUpdateMeta(update).to) if (Y.getState(doc.store, client) < end) return false
  for (const [client, ranges] of Y.decodeUpdate(update).ds.clients) {
    const held = deleted().clients.get(client)
    for (const range of ranges) if (!covers(held, range.clock, range.len)) return false
  }
  return true
}

/** Reads the fields of an envelope the guard or the writer already validated. */
function readHeader(bytes: Uint8Array): Header | undefined {
  try {
    const decoder = decoding.createDecoder(bytes)
    const version = decoding.readVarUint(decoder)
    decoding.readVarString(decoder) // doc
    const author = decoding.readVarString(decoder)
    const session = toHex(decoding.readVarUint8Array(decoder))
    const seq = decoding.readVarUint(decoder)
    decoding.readVarUint8Array(decoder) // prev
    const update = decoding.readVarUint8Array(decoder)
    // Version 2: the extension flags; the checkpoint section comes first (see envelope-codec).
    if (version === 1 || (decoding.readVarUint(decoder) & 1) === 0) return { author, session, seq, update }
    const from = decoding.readVarUint(decoder)
    return { author, session, seq, update, checkpoint: { from, last: toHex(decoding.readVarUint8Array(decoder)) } }
  } catch {
    return undefined
  }
}

/** A document, its writer, its guard and its envelope log. */
export class SignedDoc {
  readonly name: string
  readonly docId: string
  readonly doc: Y.Doc
  /** Checks and applies every envelope from outside. */
  readonly guard: IngressGuard
  /** Signs local transactions; absent when the Space has no identity. */
  readonly writer: SessionWriter | undefined
  readonly #options: SignedDocOptions
  #log: LoggedEnvelope[] = []
  /** Checkpoints a larger one made useless, still in `#log` until it is next read (removing them at once would cost a pass each time). */
  readonly #superseded = new Set<LoggedEnvelope>()
  #nextPosition = 0
  readonly #sessions = new Map<string, SessionLog<LoggedEnvelope>>()
  /** Bytes of envelopes the guard holds as pending, by hash, to log them once released. */
  readonly #held = new Map<string, Uint8Array>()
  readonly #listeners = createListenerSet<SignedDocEvents>()
  readonly #unsaved: Uint8Array[] = []
  #store: EnvelopeStore | undefined
  /** The envelope store's closing (its last save), once `close()` let it go. */
  #closing: Promise<void> | undefined
  /** Runs of {@link SignedDoc.receive} and vouching not finished: what they apply is logged when they finish. */
  readonly #admitting = new Set<Promise<unknown>>()
  /** While stored envelopes' content is applied: how many envelopes that transaction carries. */
  #restoring = 0
  #loading: Promise<void> | undefined
  readonly #unkept = createListenerSet<{ unkept: Uint8Array }>()
  /** One vouching chain per signer did. */
  readonly #vouchers = new Map<string, Voucher>()
  #loaded = false
  #saveQueued = false
  #closed = false

  /** Attaches the writer at once (set the document's client id): create it before any local edit. */
  constructor(options: SignedDocOptions) {
    this.#options = options
    this.name = options.name
    this.docId = options.docId
    this.doc = options.doc
    this.guard = new IngressGuard({
      doc: options.doc,
      docId: options.docId,
      check: options.check,
      ...(options.deleteRule === undefined ? {} : { deleteRule: options.deleteRule }),
      ...(options.guardLimits === undefined ? {} : { limits: options.guardLimits }),
      applied: (hash) => this.#log.find((entry) => entry.hash === hash)?.bytes,
    })
    this.writer = options.signer === undefined ? undefined : new SessionWriter({
      doc: options.doc,
      docId: options.docId,
      signer: options.signer,
      onEnvelope: (bytes, hash) => this.#local(bytes, hash),
      onError: (error) => options.onError?.(error),
      onUnsigned: (update) => this.#unkept.emit('unkept', update),
      ...(options.session === undefined ? {} : { session: options.session }),
      checkpointEvery: options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY,
      // Peers are assumed to accept what this replica's guard accepts: no checkpoint is larger.
      ...(options.guardLimits === undefined ? {} : { checkpointLimits: options.guardLimits }),
    })
  }

  /**
   * The document's updates that the envelope log keeps (what the guard applied, what the writer
   * signs, what stored envelopes restored): the document's own store does not append them (see
   * `attachStore`), so that each transaction is stored once, as its envelope.
   */
  readonly kept: KeptElsewhere = {
    count: (transaction) => {
      const origin: unknown = transaction.origin
      if (origin === RESTORED) return this.#restoring
      if (this.guard.appliedWith(origin)) return Array.isArray(origin) ? origin.length : 1
      return transaction.local && this.writer?.signing === true ? 1 : 0
    },
    durable: () => this.#durable(),
    onUnkept: (listener) => this.#unkept.on('unkept', listener),
  }

  /** Whether {@link SignedDoc.load} has completed (its stored envelopes are in the log). */
  get loaded(): boolean {
    return this.#loaded
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof SignedDocEvents>(event: E, listener: (payload: SignedDocEvents[E]) => void): () => void {
    return this.#listeners.on(event, listener)
  }

  /** The head of every session (its latest sequence number, and the hash of that envelope), sorted by session key. */
  heads(): WireHead[] {
    const heads: WireHead[] = []
    for (const session of this.#sessions.values()) {
      const last = session.latest()
      if (last) heads.push({ author: last.author, session: last.session, seq: session.head, hash: session.headHash })
    }
    return heads.sort((a, b) => compareKeys(sessionKey(a.author, a.session), sessionKey(b.author, b.session)))
  }

  /** The sequence number of a session's latest envelope, held plainly or through a checkpoint (0 when none). */
  headSeq(key: string): number {
    return this.#sessions.get(key)?.head ?? 0
  }

  /** The latest envelope of a session: the plain one at its head, or the checkpoint that reaches it. */
  head(key: string): LoggedEnvelope | undefined {
    return this.#sessions.get(key)?.latest()
  }

  /** The plain envelope `seq` of a session, if the log holds it (not when a checkpoint brought it). */
  envelopeAt(key: string, seq: number): LoggedEnvelope | undefined {
    return this.#sessions.get(key)?.envelopeAt(seq)
  }

  /** The hex hash of envelope `seq` of a session, if known here (its own, or a checkpoint's `last`). */
  hashAt(key: string, seq: number): string | undefined {
    return this.#sessions.get(key)?.hashAt(seq)
  }

  /** The checkpoints the log holds of a session (none contains another). */
  checkpointsOf(key: string): readonly LoggedEnvelope[] {
    return this.#sessions.get(key)?.checkpoints ?? []
  }

  /**
   * What a peer whose head of a session is `after` lacks, at the fewest bytes, in the order to
   * apply it: the session's envelopes after `after`, or a checkpoint that reaches back to it
   * followed by the envelopes after the checkpoint (see `planCatchUp`).
   */
  envelopesAfter(key: string, after: number): LoggedEnvelope[] {
    return this.#sessions.get(key)?.plan(after) ?? []
  }

  /**
   * Signs a checkpoint of this replica's session (its envelopes from the first to the latest,
   * once every local transaction so far is signed), logs it and announces it like a local
   * envelope. Resolves with it, or `undefined` when there is nothing to merge or no writer.
   */
  async checkpoint(): Promise<LoggedEnvelope | undefined> {
    const hash = await this.writer?.checkpoint()
    if (hash === undefined) return undefined
    const log = this.log()
    for (let i = log.length - 1; i >= 0; i--) if (log[i]?.hash === hash) return log[i]
    return undefined
  }

  /** Every envelope of the document, in log (causal) order. */
  log(): readonly LoggedEnvelope[] {
    if (this.#superseded.size > 0) {
      this.#log = this.#log.filter((entry) => !this.#superseded.has(entry))
      this.#superseded.clear()
    }
    return this.#log
  }

  /**
   * Passes an envelope from `source` through the guard; an applied envelope (and every waiting
   * one it released) joins the log and is announced. Never throws for bad input.
   */
  receive(bytes: Uint8Array, source: EnvelopeSource): Promise<GuardOutcome> {
    return this.#admit(bytes, source.peerId, source)
  }

  /**
   * Applies a plain Yjs V1 update written by an identity this replica admitted (a relay's plain
   * y-websocket client), as an envelope signed by `options.signer` (default: the document's own
   * signer) with a `vouched` section naming the writer's identity for every Yjs client the update
   * writes under (see `Voucher`). The envelope passes this document's guard and joins the log as
   * the replica's own, so every sync engine sends it on. Refusals change nothing and come back as
   * `rejected` with their code.
   * @throws CabildoError `E_ARGUMENT` when there is no signer (none given, and the Space has no identity) or the identity is unusable.
   */
  applyVouched(update: Uint8Array, writer: VouchedWriter, options: VouchOptions = {}): Promise<VouchOutcome> {
    const signer = options.signer ?? this.#options.signer
    if (signer === undefined) {
      return Promise.reject(new CabildoError('E_ARGUMENT', `"${this.name}" has no signer to vouch for plain updates with`, { argument: 'signer', reason: 'missing' }))
    }
    let voucher = this.#vouchers.get(signer.did)
    if (voucher === undefined) {
      voucher = new Voucher({ doc: this.doc, docId: this.docId, signer, guard: this.guard, commit: (bytes, peer) => this.#admit(bytes, peer, undefined) })
      this.#vouchers.set(signer.did, voucher)
    }
    return voucher.vouch(update, writer, options.limits)
  }

  /** Passes an envelope through the guard; what it applies joins the log, announced as from `source` (undefined: made here). */
  #admit(bytes: Uint8Array, peer: string, source: EnvelopeSource | undefined): Promise<GuardOutcome> {
    const run = this.#admitNow(bytes, peer, source)
    this.#admitting.add(run)
    void run.finally(() => this.#admitting.delete(run)).catch(() => undefined)
    return run
  }

  async #admitNow(bytes: Uint8Array, peer: string, source: EnvelopeSource | undefined): Promise<GuardOutcome> {
    const outcome = await this.guard.receive(bytes, peer)
    const items: Array<{ bytes: Uint8Array; hash: string }> = []
    // Held on its own: a view into a larger message would keep the whole message alive while it waits.
    if (outcome.status === 'pending') this.#held.set(outcome.hash, bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice())
    else if (outcome.status === 'applied') items.push({ bytes, hash: outcome.hash })
    // Waiting envelopes it released, and those a group applied that no outcome lists.
    for (const hash of [...(outcome.status === 'applied' ? outcome.released : []), ...this.guard.takeReleased()]) {
      const held = this.#held.get(hash)
      this.#held.delete(hash)
      if (held) items.push({ bytes: held, hash })
    }
    if (items.length > 0) this.#announce(this.#recordAll(items), source)
    if (this.#held.size > this.guard.pending) this.#forgetSettledHeld()
    return outcome
  }

  /** Waiting envelopes refused when released, or found covered by a checkpoint, no longer wait: stop holding their bytes. */
  #forgetSettledHeld(): void {
    for (const hash of this.#held.keys()) if (!this.guard.isPending(hash)) this.#held.delete(hash)
  }

  /**
   * Records envelopes the guard applied together; a group released at once (see the guard's
   * groups) may list an envelope before the one it follows in its session, so each is recorded
   * once its session's log can take it.
   */
  #recordAll(items: ReadonlyArray<{ readonly bytes: Uint8Array; readonly hash: string }>): LoggedEnvelope[] {
    const fresh: LoggedEnvelope[] = []
    let waiting = items.map((item) => ({ ...item, header: readHeader(item.bytes) }))
    for (let progress = true; progress && waiting.length > 0; ) {
      const before = waiting.length
      waiting = waiting.filter((item) => {
        if (!item.header || !this.#fits(item.header)) return true
        const entry = this.#record(item.bytes, item.hash, item.header)
        if (entry) fresh.push(entry)
        return false
      })
      progress = waiting.length < before
    }
    return fresh
  }

  /** Whether the log of the envelope's session can take it now. */
  #fits(header: Header): boolean {
    const head = this.headSeq(sessionKey(header.author, header.session))
    return header.checkpoint === undefined ? header.seq === head + 1 : header.checkpoint.from - 1 <= head
  }

  #local(bytes: Uint8Array, hash: string): void {
    this.guard.recordLocal(bytes)
    const entry = this.#record(bytes, hash)
    if (entry) this.#announce([entry], undefined)
  }

  /**
   * Appends an envelope to its session and to the log; `undefined` if it does not extend the
   * session (or is a checkpoint contained in one already held). Checkpoints it contains leave the log.
   */
  #record(bytes: Uint8Array, hash: string, header = readHeader(bytes)): LoggedEnvelope | undefined {
    if (!header) return undefined
    const key = sessionKey(header.author, header.session)
    let session = this.#sessions.get(key)
    if (!session) this.#sessions.set(key, (session = new SessionLog()))
    const entry: LoggedEnvelope = {
      bytes,
      hash,
      author: header.author,
      session: header.session,
      key,
      seq: header.seq,
      ...(header.checkpoint === undefined ? {} : { checkpoint: header.checkpoint }),
      position: this.#nextPosition,
    }
    const { added, superseded } = session.add(entry)
    if (!added) return undefined
    this.#nextPosition++
    for (const gone of superseded) this.#superseded.add(gone)
    this.#log.push(entry)
    return entry
  }

  #announce(entries: LoggedEnvelope[], source: EnvelopeSource | undefined): void {
    if (entries.length === 0) return
    for (const entry of entries) this.#unsaved.push(entry.bytes)
    this.#queueSave()
    if (!this.#closed) this.#listeners.emit('envelopes', { envelopes: entries, source })
  }

  /** Saves what joined the log in one record per microtask, once the stored log is loaded. */
  #queueSave(): void {
    if (this.#saveQueued) return
    this.#saveQueued = true
    queueMicrotask(() => {
      this.#saveQueued = false
      this.#saveNow()
    })
  }

  #saveNow(): void {
    if (!this.#loaded) return
    const batch = this.#unsaved.splice(0)
    this.#store?.save(batch)
  }

  /**
   * Loads the stored envelopes into the log (and the guard's chains, as already applied), applies
   * the content of those whose content the document lacks, then keeps saving new ones. Call it
   * once the document's stored updates (snapshot and unenveloped updates) are loaded, before the
   * document is used.
   * @throws `E_STORAGE` when the envelope store cannot be opened or read (nothing is written to it then).
   */
  load(storage: Storage | undefined, options: SignedDocLoadOptions = {}): Promise<void> {
    this.#loading ??= this.#load(storage, options)
    return this.#loading
  }

  async #load(storage: Storage | undefined, options: SignedDocLoadOptions): Promise<void> {
    if (storage !== undefined) {
      const store = await openEnvelopeStore(storage, this.name, {
        snapshot: () => this.log().map((entry) => entry.bytes),
        ...(options.compactEvery === undefined ? {} : { compactEvery: options.compactEvery }),
        ...(options.onStorageError === undefined ? {} : { onError: options.onStorageError }),
      })
      let stored: Uint8Array[]
      try {
        stored = await store.load()
      } catch (error) {
        await store.close().catch(() => undefined)
        throw error
      }
      this.#restore(stored)
      this.#store = store
    }
    this.#loaded = true
    this.#saveNow() // envelopes made while loading
  }

  /**
   * Replays stored envelopes in their stored order. A session's envelopes normally come in
   * sequence; after a lost append an envelope may come before its predecessor, so those wait
   * for it; any that never find it are reported (peers cannot get them from here, and their
   * content is not applied).
   *
   * The document's store holds a snapshot and what no envelope carries: the content of the
   * envelopes made or received after that snapshot comes back from the envelopes themselves (as
   * trusted as the document's own records), merged into one update applied once. So does a
   * deletion whose envelope was kept, and the content of envelopes another process sharing the
   * store (a cluster's database) appended meanwhile: the chains never run ahead of the content.
   */
  #restore(stored: readonly Uint8Array[]): void {
    const seen = new Set<string>()
    const lacking: Uint8Array[] = []
    let deleteSet: DeleteSet | undefined
    const deleted = (): DeleteSet => (deleteSet ??= Y.createDeleteSetFromStructStore(this.doc.store))
    let waiting: Array<{ bytes: Uint8Array; hash: string; header: Header }> = []
    const place = (item: { bytes: Uint8Array; hash: string; header: Header }): boolean => {
      if (!this.#fits(item.header)) return false
      // Checked against the document as loaded: content that an earlier envelope of `lacking`
      // writes and a later one (a checkpoint) writes again is merged twice, which Yjs absorbs.
      if (!contentPresent(this.doc, item.header.update, deleted)) lacking.push(item.header.update)
      this.guard.recordLocal(item.bytes)
      this.#record(item.bytes, item.hash, item.header)
      return true
    }
    let refused = 0
    for (const bytes of stored) {
      const decoded = decodeEnvelope(bytes)
      if (!decoded.ok || decoded.envelope.doc !== this.docId) {
        refused++
        continue
      }
      if (seen.has(decoded.hash)) continue
      seen.add(decoded.hash)
      const { author, session, seq, update, checkpoint } = decoded.envelope
      const header: Header = { author, session: toHex(session), seq, update, ...(checkpoint === undefined ? {} : { checkpoint: { from: checkpoint.from, last: toHex(checkpoint.last) } }) }
      const item = { bytes, hash: decoded.hash, header }
      if (!place(item)) waiting.push(item)
    }
    for (let progress = true; progress && waiting.length > 0; ) {
      const before = waiting.length
      waiting = waiting.filter((item) => !place(item))
      progress = waiting.length < before
    }
    if (lacking.length > 0) {
      this.#restoring = lacking.length
      try {
        Y.applyUpdate(this.doc, mergeAll(lacking), RESTORED)
      } finally {
        this.#restoring = 0
      }
    }
    if (refused + waiting.length > 0) {
      this.#options.onError?.(new CabildoError('E_STORAGE', `${refused + waiting.length} stored envelopes of "${this.name}" could not be restored`, {
        operation: 'load',
        key: this.name,
        cause: refused > 0 ? 'EDECODE' : 'EGAP',
      }))
    }
  }

  /**
   * What the document holds beyond its envelopes: content written without an identity, applied
   * by hand (`applyDocUpdate`), or stored before envelopes were kept. Such content stays local;
   * it is computed on demand (it reads every envelope).
   */
  unsigned(): UnsignedContent {
    const covered = new Map<number, number>()
    for (const entry of this.log()) {
      const header = readHeader(entry.bytes)
      if (!header) continue
      // The session's own client, or a client the envelope vouched for: the guard let no other in.
      for (const [client, end] of Y.parseUpdateMeta(header.update).to) {
        if (end > (covered.get(client) ?? 0)) covered.set(client, end)
      }
    }
    const clients: number[] = []
    let clocks = 0
    for (const [client, state] of Y.decodeStateVector(Y.encodeStateVector(this.doc))) {
      const missing = state - (covered.get(client) ?? 0)
      if (missing > 0) {
        clients.push(client)
        clocks += missing
      }
    }
    return { clients: clients.sort((a, b) => a - b), clocks }
  }

  /**
   * Resolves once the envelope of every update the document held at the call (made here,
   * applied by the guard, restored) is durable in the envelope log: local transactions are
   * signed, envelopes being received are logged, and the log is flushed. What a compaction of
   * the document's store waits for before it writes a snapshot holding that content.
   * @throws the storage failure when the envelope log could not be written.
   */
  async #durable(): Promise<void> {
    const admitting = [...this.#admitting]
    await this.#loading?.catch(() => undefined)
    await this.writer?.flush().catch(() => undefined) // a writer failure handed its updates to `kept.onUnkept`
    await Promise.allSettled(admitting)
    this.#saveNow()
    await (this.#store?.flush() ?? this.#closing)
  }

  /**
   * Resolves once every local transaction so far is signed and every envelope is durable (at
   * once without storage).
   * @throws the storage failure when the envelope log could not be written.
   */
  async flush(): Promise<void> {
    await this.writer?.flush().catch(() => undefined) // a writer failure was reported through onError
    this.#saveNow()
    await this.#store?.flush()
  }

  /**
   * Stops signing (transactions already made are still signed and saved), then closes the
   * envelope store. Idempotent.
   * @throws the failure of the final save.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.writer?.dispose()
    await this.writer?.flush().catch(() => undefined)
    this.#closed = true
    this.#listeners.clear()
    this.#saveNow()
    const store = this.#store
    this.#store = undefined
    this.#closing = store?.close()
    await this.#closing
  }
}

/** Plain string order (UTF-16 code units), the order `heads` ranges use on every replica. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
