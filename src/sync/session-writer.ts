/**
 * Turns a replica's own edits of a document into signed envelopes, in a hash chain per session,
 * under a Yjs client id derived from the author and the session.
 *
 * One envelope per local transaction, except under load: transactions made while an envelope is
 * being signed are merged (`Y.mergeUpdates`, all of them this session's own structs) into the
 * next envelope. A burst of keystrokes therefore costs a few envelopes, not one each, without any
 * timer.
 *
 * A **checkpoint** merges the session's envelopes from the first to the latest into one signed
 * envelope (`Y.mergeUpdates` of the session's own updates, adjacent items joined: see
 * {@link mergeSessionUpdates}), so that a peer catching up receives it instead of every envelope.
 * Only the author can make one: it is signed with the session's key. `checkpoint()` makes one on
 * demand; with `checkpointEvery: K`, one is made once K envelopes were signed since the last
 * checkpoint and what they cost beyond their updates (headers, signatures) reaches the last
 * checkpoint's size: the next checkpoint weighs at most the last plus those updates, so
 * checkpoints never more than double the bytes a session sends. What they cost beyond their
 * updates must also reach an eighth of those updates: a checkpoint of a few large envelopes (an
 * import, a bulk edit) would merge all of them and save little.
 * Checkpoints go to `onEnvelope` like envelopes (their `checkpoint` section tells them apart).
 *
 * A checkpoint never exceeds what receivers accept (`checkpointLimits`, by default the guard's
 * default limits: 8 MiB envelopes, 200,000 structs): when merging from the first envelope would,
 * the writer closes that range at its last checkpoint and merges the envelopes after it into
 * checkpoints of consecutive ranges (`from` > 1, `prev` naming the envelope before), each as long
 * as the sizes of its envelopes' updates add up to what fits (a merge is never larger than its
 * parts, so a range is decided without merging more than it keeps). A catch-up then takes the
 * ranges' checkpoints one after the other.
 *
 * ```ts
 * const writer = new SessionWriter({ doc, docId: 'city/tickets.2026-11', signer: identity.keyPair, onEnvelope: send })
 * doc.getMap('tickets').set('t1', 'open') // → one signed envelope, handed to `send`
 * await writer.flush()
 * ```
 * @module
 */
import * as Y from 'yjs'
import { digest } from 'lib0/hash/sha256'
import { toHex } from '../encoding/canonical'
import { CabildoError } from '../errors'
import { mergeSessionUpdates } from './checkpoint-update'
import { defaultEnvelopeLimits, encodeEnvelope, encodeEnvelopeBody, sessionClientId, SESSION_BYTES, type EnvelopeBody, type EnvelopeLimits } from './envelope-codec'
import { signEnvelope, type EnvelopeSigner } from './envelope-signing'
import { checkUpdate, defaultInspectLimits, type InspectLimits } from './update-inspector'

/** What receivers accept of one envelope: a checkpoint is never made larger (see {@link SessionWriterOptions.checkpointLimits}). */
export interface CheckpointLimits {
  /** The largest encoded envelope. */
  readonly envelope: EnvelopeLimits
  /** The limits of its update (bytes, structs, delete ranges, struct length). */
  readonly update: InspectLimits
}

/** Default {@link CheckpointLimits}: the ingress guard's defaults (8 MiB envelopes and updates, 200,000 structs). */
export const defaultCheckpointLimits: CheckpointLimits = { envelope: defaultEnvelopeLimits, update: defaultInspectLimits }

/** An envelope signed since the last checkpoint, as a later checkpoint needs it. */
interface Signed {
  readonly seq: number
  /** Its body's hash: what a checkpoint starting after it names as `prev`. */
  readonly hash: Uint8Array
  readonly update: Uint8Array
}

/** A signature's bytes, to measure an envelope before signing it. */
const SIGNATURE_PLACEHOLDER = new Uint8Array(64)

/** Options of a {@link SessionWriter}. */
export interface SessionWriterOptions {
  readonly doc: Y.Doc
  /** `<space id>/<shard>`. */
  readonly docId: string
  readonly signer: EnvelopeSigner
  /** Receives every envelope, in order, with its hash. A throw is reported through `onError`. */
  readonly onEnvelope: (bytes: Uint8Array, hash: string) => void
  /** Called when signing or `onEnvelope` fails; the writer stops (a gap in the chain cannot be repaired). */
  readonly onError?: (error: unknown) => void
  /** Receives, when the writer stops on a failure, the local updates it was given and did not sign (merged). */
  readonly onUnsigned?: (update: Uint8Array) => void
  /**
   * The session nonce ({@link SESSION_BYTES} bytes; default: random). Tests pass a fixed one; a
   * nonce must never serve one author twice in a document (see `SpaceOptions.sessionNonce`).
   */
  readonly session?: Uint8Array
  /**
   * Sign a checkpoint once this many envelopes were signed since the last one (and what they cost
   * beyond their updates reaches its size). 0, the default, makes checkpoints only when
   * `checkpoint()` is called.
   */
  readonly checkpointEvery?: number
  /**
   * What receivers accept: no checkpoint is larger (default {@link defaultCheckpointLimits}, the
   * guard's defaults). Give the receivers' limits when they differ.
   */
  readonly checkpointLimits?: Partial<CheckpointLimits>
}

/** Signs a document's local updates into a chain of envelopes. */
export class SessionWriter {
  /** The session's Yjs client id, set on the document. */
  readonly clientId: number
  readonly #options: SessionWriterOptions
  readonly #session: Uint8Array
  #seq = 0
  #prev: Uint8Array = new Uint8Array(0)
  #chain: Promise<void> = Promise.resolve()
  readonly #queued: Uint8Array[] = []
  #failed: unknown = undefined
  #disposed = false
  /** The envelopes signed since the last checkpoint (all of them before the first). */
  #sinceCheckpoint: Signed[] = []
  /** The bytes of those envelopes, less those of their updates. */
  #bytesSinceCheckpoint = 0
  /** The bytes of those envelopes' updates. */
  #updateBytesSinceCheckpoint = 0
  /**
   * The range checkpoints merge from: envelope `from` (1, until a checkpoint from there would be
   * too large) and the hash of the envelope before it (empty for 1).
   */
  #range: { readonly from: number; readonly prev: Uint8Array } = { from: 1, prev: new Uint8Array(0) }
  /** The last checkpoint of that range: its merged update, size, last seq and that envelope's hash. */
  #lastCheckpoint: { readonly update: Uint8Array; readonly size: number; readonly seq: number; readonly last: Uint8Array } | undefined
  readonly #onUpdate: (update: Uint8Array, origin: unknown, doc: Y.Doc, tr: Y.Transaction) => void

  /**
   * Sets the document's client id to the session's and starts signing its local updates.
   * @throws CabildoError `E_ARGUMENT` when `session` is not {@link SESSION_BYTES} bytes.
   */
  constructor(options: SessionWriterOptions) {
    this.#options = options
    const session = options.session
    if (session !== undefined && !(session instanceof Uint8Array && session.length === SESSION_BYTES)) {
      throw new CabildoError('E_ARGUMENT', `A session nonce must be ${SESSION_BYTES} bytes`, { argument: 'session', reason: `not ${SESSION_BYTES} bytes` })
    }
    this.#session = session ?? globalThis.crypto.getRandomValues(new Uint8Array(SESSION_BYTES))
    this.clientId = sessionClientId(options.signer.did, this.#session)
    options.doc.clientID = this.clientId
    this.#onUpdate = (update, _origin, _doc, tr) => {
      if (tr.local) this.#enqueue(update)
    }
    options.doc.on('update', this.#onUpdate)
  }

  #enqueue(update: Uint8Array): void {
    if (this.#failed !== undefined) return
    this.#queued.push(update)
    // One drain step per queued batch: the first takes everything queued by then, the rest find
    // an empty queue and return at once.
    this.#chain = this.#chain.then(() => this.#signQueued())
  }

  async #signQueued(): Promise<void> {
    if (this.#failed !== undefined || this.#queued.length === 0) return
    const batch = this.#queued.splice(0)
    const update = batch.length === 1 ? (batch[0] as Uint8Array) : Y.mergeUpdates(batch)
    try {
      const envelope = await signEnvelope(this.#options.signer, {
        doc: this.#options.docId,
        session: this.#session,
        seq: this.#seq + 1,
        prev: this.#prev,
        update,
      })
      const hash = digest(encodeEnvelopeBody(envelope))
      this.#seq++
      this.#prev = hash
      const bytes = encodeEnvelope(envelope)
      this.#sinceCheckpoint.push({ seq: this.#seq, hash, update })
      this.#updateBytesSinceCheckpoint += update.length
      // The next checkpoint weighs at most the last one plus these updates: checkpoint once the
      // envelopes outweigh that, so that checkpoints cost no more than the envelopes did.
      this.#bytesSinceCheckpoint += bytes.length - update.length
      this.#options.onEnvelope(bytes, toHex(hash))
    } catch (error) {
      this.#failed = error
      const unsigned = [update, ...this.#queued.splice(0)]
      this.#options.onUnsigned?.(unsigned.length === 1 ? update : Y.mergeUpdates(unsigned))
      this.#options.onError?.(error)
      return
    }
    const every = this.#options.checkpointEvery ?? 0
    // A checkpoint of a few large envelopes (an import, a bulk edit) would cost a merge of all of
    // them and save little: one is due only once the envelopes' own bytes are an eighth of their updates'.
    const due = Math.max(this.#lastCheckpoint?.size ?? 0, this.#updateBytesSinceCheckpoint / 8)
    if (every > 0 && this.#sinceCheckpoint.length >= every && this.#bytesSinceCheckpoint >= due) await this.#signCheckpoint()
  }

  /**
   * Signs a checkpoint of the session (envelopes 1 to the latest, or from the start of the
   * current range when that would be too large: see the module's note), after every local update so
   * far is signed, and hands it to `onEnvelope`. Resolves with its hex hash, or `undefined` when
   * there is nothing to merge (fewer than two envelopes, or none since the last checkpoint) or the
   * writer stopped. A failure to sign it is reported through `onError`; the session goes on.
   */
  checkpoint(): Promise<string | undefined> {
    const run = this.#chain.then(() => this.#signCheckpoint())
    this.#chain = run.then(() => undefined)
    return run
  }

  async #signCheckpoint(): Promise<string | undefined> {
    if (this.#failed !== undefined || this.#sinceCheckpoint.length === 0 || this.#seq < 2) return undefined
    try {
      const last = this.#lastCheckpoint
      if (last !== undefined) {
        const parts = [last.update, ...this.#sinceCheckpoint]
        if (this.#prefixBySize(parts) === parts.length) {
          const body = this.#checkpointBody(this.#range.from, this.#range.prev, parts)
          if (this.#fits(body)) return await this.#sign(body)
        }
        // Too large from the range's start: the range ends at its last checkpoint, the next starts after it.
        this.#range = { from: last.seq + 1, prev: last.last }
        this.#lastCheckpoint = undefined
      }
      let hash: string | undefined
      for (;;) {
        const since = this.#sinceCheckpoint
        if (since.length < 2) return hash // one envelope is its own cheapest checkpoint
        // The longest run of envelopes from the range's start whose updates' sizes add up to what
        // fits (a merge is never larger than its parts) is merged; it closes the range unless it
        // holds every envelope. Only when a merge does not fit (too many structs) is the run
        // searched for by merging.
        let low = this.#prefixBySize(since)
        if (low >= 2) {
          const body = this.#checkpointBody(this.#range.from, this.#range.prev, since.slice(0, low))
          if (this.#fits(body)) {
            if (low === since.length) return await this.#sign(body)
            hash = await this.#sign(body)
          } else {
            let high = low - 1
            low = 1
            while (low < high) {
              const middle = (low + high + 1) >> 1
              if (this.#fits(this.#checkpointBody(this.#range.from, this.#range.prev, since.slice(0, middle)))) low = middle
              else high = middle - 1
            }
            if (low >= 2) hash = await this.#sign(this.#checkpointBody(this.#range.from, this.#range.prev, since.slice(0, low)))
          }
        }
        const end = since[low - 1] as Signed
        this.#range = { from: end.seq + 1, prev: end.hash }
        this.#lastCheckpoint = undefined
        this.#setSinceCheckpoint(since.slice(low))
      }
    } catch (error) {
      this.#options.onError?.(error)
      return undefined
    }
  }

  /**
   * How many of `parts`, from the first, a checkpoint can merge by their updates' sizes alone (at
   * least 1): their sum and an envelope's header stay within the limits.
   */
  #prefixBySize(parts: ReadonlyArray<Signed | Uint8Array>): number {
    const limits = { ...defaultCheckpointLimits, ...this.#options.checkpointLimits }
    const header = encodeEnvelope({
      doc: this.#options.docId,
      session: this.#session,
      seq: this.#seq,
      prev: new Uint8Array(32),
      update: new Uint8Array(0),
      checkpoint: { from: this.#range.from, last: new Uint8Array(32) },
      author: this.#options.signer.did,
      sig: SIGNATURE_PLACEHOLDER,
    }).length
    // Room for the update's length prefix and an integer field one byte longer than measured.
    const budget = Math.min(limits.envelope.maxBytes - header - 16, limits.update.maxBytes)
    let total = 0
    let count = 0
    for (const part of parts) {
      total += part instanceof Uint8Array ? part.length : part.update.length
      if (total > budget) break
      count++
    }
    return Math.max(1, count)
  }

  /** The body of a checkpoint merging `parts`, the session's envelopes from `from` to the last of them. */
  #checkpointBody(from: number, prev: Uint8Array, parts: ReadonlyArray<Signed | Uint8Array>): Omit<EnvelopeBody, 'author'> {
    const updates = parts.map((part) => (part instanceof Uint8Array ? part : part.update))
    const lastPart = parts[parts.length - 1]
    const seq = lastPart instanceof Uint8Array || lastPart === undefined ? this.#seq : lastPart.seq
    const last = lastPart instanceof Uint8Array || lastPart === undefined ? this.#prev : lastPart.hash
    return { doc: this.#options.docId, session: this.#session, seq, prev: from === 1 ? new Uint8Array(0) : prev, update: mergeSessionUpdates(updates), checkpoint: { from, last } }
  }

  /** Whether receivers accept a checkpoint of this body: its envelope's size, and its update read as the guard reads it. */
  #fits(body: Omit<EnvelopeBody, 'author'>): boolean {
    const limits = { ...defaultCheckpointLimits, ...this.#options.checkpointLimits }
    const size = encodeEnvelope({ ...body, author: this.#options.signer.did, sig: SIGNATURE_PLACEHOLDER }).length
    return size <= limits.envelope.maxBytes && checkUpdate(body.update, limits.update).ok
  }

  #setSinceCheckpoint(signed: Signed[]): void {
    this.#sinceCheckpoint = signed
    this.#updateBytesSinceCheckpoint = signed.reduce((sum, s) => sum + s.update.length, 0)
  }

  /** Signs a checkpoint, hands it over, and makes it the range's last; returns its hex hash. */
  async #sign(body: Omit<EnvelopeBody, 'author'>): Promise<string> {
    const envelope = await signEnvelope(this.#options.signer, body)
    const bytes = encodeEnvelope(envelope)
    const hash = toHex(digest(encodeEnvelopeBody(envelope)))
    const checkpoint = body.checkpoint as NonNullable<EnvelopeBody['checkpoint']>
    this.#lastCheckpoint = { update: body.update, size: bytes.length, seq: body.seq, last: checkpoint.last }
    this.#setSinceCheckpoint(this.#sinceCheckpoint.filter((signed) => signed.seq > body.seq))
    this.#bytesSinceCheckpoint = 0
    this.#options.onEnvelope(bytes, hash)
    return hash
  }

  /**
   * Resolves once every local update so far was signed and handed over.
   * @throws the error that stopped the writer, if any.
   */
  async flush(): Promise<void> {
    await this.#chain
    if (this.#failed !== undefined) throw this.#failed
  }

  /** Whether local transactions are signed from now on: neither a failure nor `dispose()` stopped the writer. */
  get signing(): boolean {
    return this.#failed === undefined && !this.#disposed
  }

  /** Stops signing (pending envelopes still complete). */
  dispose(): void {
    this.#disposed = true
    this.#options.doc.off('update', this.#onUpdate)
  }
}
