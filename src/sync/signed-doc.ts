/**
 * One document with its signed history: a {@link SessionWriter} that signs the replica's own
 * transactions, an {@link IngressGuard} that checks everything that arrives, and the log of every
 * envelope the document holds (in the order they were applied, which is a causal order), kept
 * in storage next to the document so that it survives a restart.
 *
 * ```ts
 * const signed = new SignedDoc({ name: 'tickets.2026-11', docId: 'city/tickets.2026-11', doc, check, signer: identity.keyPair })
 * await signed.load(storage)                   // the stored envelopes, before the doc is used
 * const off = signed.on('envelopes', ({ envelopes, source }) => send(envelopes, source))
 * await signed.receive(bytes, { peerId: 'north', via: engine })
 * ```
 *
 * The sync engine reads heads and missing envelopes from here; it never touches the Y.Doc.
 * @module
 */
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import { fromHexString } from 'lib0/buffer'
import { toHex } from '../encoding/canonical'
import { CabildoError } from '../errors'
import type { StorageFailure } from '../storage/attach-store'
import type { Storage } from '../storage/storage'
import { createListenerSet } from '../transports/listener-set'
import type { DeleteRule } from './delete-rules'
import { decodeEnvelope, sessionClientId } from './envelope-codec'
import type { EnvelopeSigner, SignatureCheck } from './envelope-signing'
import { openEnvelopeStore, type EnvelopeStore } from './envelope-store'
import { IngressGuard, type GuardLimits, type GuardOutcome } from './ingress-guard'
import { SessionWriter } from './session-writer'
import { sessionKey, type WireHead } from './sync-protocol'

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
  /** Its sequence number in the session. */
  readonly seq: number
  /** Its index in the document's log: envelopes with a lower position never depend on higher ones. */
  readonly position: number
}

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
}

/** Reads the fields of an envelope the guard or the writer already validated. */
function readHeader(bytes: Uint8Array): Header | undefined {
  try {
    const decoder = decoding.createDecoder(bytes)
    decoding.readVarUint(decoder) // version
    decoding.readVarString(decoder) // doc
    const author = decoding.readVarString(decoder)
    const session = toHex(decoding.readVarUint8Array(decoder))
    const seq = decoding.readVarUint(decoder)
    decoding.readVarUint8Array(decoder) // prev
    return { author, session, seq, update: decoding.readVarUint8Array(decoder) }
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
  readonly #log: LoggedEnvelope[] = []
  readonly #sessions = new Map<string, LoggedEnvelope[]>()
  /** Bytes of envelopes the guard holds as pending, by hash, to log them once released. */
  readonly #held = new Map<string, Uint8Array>()
  readonly #listeners = createListenerSet<SignedDocEvents>()
  readonly #unsaved: Uint8Array[] = []
  #store: EnvelopeStore | undefined
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
    })
    this.writer = options.signer === undefined ? undefined : new SessionWriter({
      doc: options.doc,
      docId: options.docId,
      signer: options.signer,
      onEnvelope: (bytes, hash) => this.#local(bytes, hash),
      onError: (error) => options.onError?.(error),
      ...(options.session === undefined ? {} : { session: options.session }),
    })
  }

  /** Whether {@link SignedDoc.load} has completed (its stored envelopes are in the log). */
  get loaded(): boolean {
    return this.#loaded
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof SignedDocEvents>(event: E, listener: (payload: SignedDocEvents[E]) => void): () => void {
    return this.#listeners.on(event, listener)
  }

  /** The latest envelope of every session, sorted by session key. */
  heads(): WireHead[] {
    const heads: WireHead[] = []
    for (const chain of this.#sessions.values()) {
      const last = chain[chain.length - 1]
      if (last) heads.push({ author: last.author, session: last.session, seq: last.seq, hash: last.hash })
    }
    return heads.sort((a, b) => compareKeys(sessionKey(a.author, a.session), sessionKey(b.author, b.session)))
  }

  /** The sequence number of a session's latest envelope (0 when none). */
  headSeq(key: string): number {
    return this.#sessions.get(key)?.length ?? 0
  }

  /** The latest envelope of a session. */
  head(key: string): LoggedEnvelope | undefined {
    const chain = this.#sessions.get(key)
    return chain?.[chain.length - 1]
  }

  /** The envelope `seq` of a session, if the log holds it. */
  envelopeAt(key: string, seq: number): LoggedEnvelope | undefined {
    return this.#sessions.get(key)?.[seq - 1]
  }

  /** The envelopes of a session whose seq is greater than `after`, in order. */
  envelopesAfter(key: string, after: number): LoggedEnvelope[] {
    return this.#sessions.get(key)?.slice(Math.max(0, after)) ?? []
  }

  /** Every envelope of the document, in log (causal) order. */
  log(): readonly LoggedEnvelope[] {
    return this.#log
  }

  /**
   * Passes an envelope from `source` through the guard; an applied envelope (and every waiting
   * one it released) joins the log and is announced. Never throws for bad input.
   */
  async receive(bytes: Uint8Array, source: EnvelopeSource): Promise<GuardOutcome> {
    const outcome = await this.guard.receive(bytes, source.peerId)
    if (outcome.status === 'pending') {
      this.#held.set(outcome.hash, bytes)
    } else if (outcome.status === 'applied') {
      const fresh: LoggedEnvelope[] = []
      const first = this.#record(bytes, outcome.hash)
      if (first) fresh.push(first)
      for (const hash of outcome.released) {
        const held = this.#held.get(hash)
        this.#held.delete(hash)
        const entry = held && this.#record(held, hash)
        if (entry) fresh.push(entry)
      }
      this.#announce(fresh, source)
    }
    if (this.#held.size > this.guard.pending) this.#forgetRefusedHeld()
    return outcome
  }

  /** Waiting envelopes refused when released are in quarantine: stop holding their bytes. */
  #forgetRefusedHeld(): void {
    for (const entry of this.guard.quarantine()) if (entry.hash !== undefined) this.#held.delete(entry.hash)
  }

  #local(bytes: Uint8Array, hash: string): void {
    this.guard.recordLocal(bytes)
    const entry = this.#record(bytes, hash)
    if (entry) this.#announce([entry], undefined)
  }

  /** Appends an envelope to its session's chain and to the log; `undefined` if it does not extend the chain. */
  #record(bytes: Uint8Array, hash: string, header = readHeader(bytes)): LoggedEnvelope | undefined {
    if (!header) return undefined
    const key = sessionKey(header.author, header.session)
    let chain = this.#sessions.get(key)
    if (!chain) this.#sessions.set(key, (chain = []))
    if (header.seq !== chain.length + 1) return undefined
    const entry: LoggedEnvelope = { bytes, hash, author: header.author, session: header.session, key, seq: header.seq, position: this.#log.length }
    chain.push(entry)
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
   * Loads the stored envelopes into the log (and the guard's chains, as already applied: their
   * content came back with the document's Yjs updates), then keeps saving new ones. Call it once
   * the document's stored updates are loaded, before the document is used.
   * @throws `E_STORAGE` when the envelope store cannot be opened or read (nothing is written to it then).
   */
  async load(storage: Storage | undefined, options: SignedDocLoadOptions = {}): Promise<void> {
    if (storage !== undefined) {
      const store = await openEnvelopeStore(storage, this.name, {
        snapshot: () => this.#log.map((entry) => entry.bytes),
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
   * for it; any that never find it are reported (their content is in the document, but peers
   * cannot get it from here).
   */
  #restore(stored: readonly Uint8Array[]): void {
    const seen = new Set<string>()
    let waiting: Array<{ bytes: Uint8Array; hash: string; header: Header }> = []
    const place = (item: { bytes: Uint8Array; hash: string; header: Header }): boolean => {
      if (item.header.seq !== this.headSeq(sessionKey(item.header.author, item.header.session)) + 1) return false
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
      const { author, session, seq, update } = decoded.envelope
      const item = { bytes, hash: decoded.hash, header: { author, session: toHex(session), seq, update } }
      if (!place(item)) waiting.push(item)
    }
    for (let progress = true; progress && waiting.length > 0; ) {
      const before = waiting.length
      waiting = waiting.filter((item) => !place(item))
      progress = waiting.length < before
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
    for (const chain of this.#sessions.values()) {
      const first = chain[0]
      if (!first) continue
      const client = sessionClientId(first.author, fromHexString(first.session))
      for (const entry of chain) {
        const header = readHeader(entry.bytes)
        if (!header) continue
        const end = Y.parseUpdateMeta(header.update).to.get(client) ?? 0
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
    await store?.close()
  }
}

/** Plain string order (UTF-16 code units), the order `heads` ranges use on every replica. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
