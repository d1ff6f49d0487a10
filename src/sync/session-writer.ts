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
 * checkpoints never more than double the bytes a session sends.
 * Checkpoints go to `onEnvelope` like envelopes (their `checkpoint` section tells them apart).
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
import { mergeSessionUpdates } from './checkpoint-update'
import { encodeEnvelope, encodeEnvelopeBody, sessionClientId, SESSION_BYTES } from './envelope-codec'
import { signEnvelope, type EnvelopeSigner } from './envelope-signing'

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
  /** The session nonce (default: 16 random bytes). Tests pass a fixed one. */
  readonly session?: Uint8Array
  /**
   * Sign a checkpoint once this many envelopes were signed since the last one (and what they cost
   * beyond their updates reaches its size). 0, the default, makes checkpoints only when
   * `checkpoint()` is called.
   */
  readonly checkpointEvery?: number
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
  /** The updates of the envelopes signed since the last checkpoint (all of them before the first). */
  #sinceCheckpoint: Uint8Array[] = []
  /** The bytes of those envelopes, less those of their updates. */
  #bytesSinceCheckpoint = 0
  /** The last checkpoint's merged update and size. */
  #lastCheckpoint: { readonly update: Uint8Array; readonly size: number } | undefined
  readonly #onUpdate: (update: Uint8Array, origin: unknown, doc: Y.Doc, tr: Y.Transaction) => void

  /** Sets the document's client id to the session's and starts signing its local updates. */
  constructor(options: SessionWriterOptions) {
    this.#options = options
    this.#session = options.session ?? globalThis.crypto.getRandomValues(new Uint8Array(SESSION_BYTES))
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
      this.#sinceCheckpoint.push(update)
      // The next checkpoint weighs at most the last one plus these updates: checkpoint once the
      // envelopes outweigh that, so that checkpoints cost no more than the envelopes did.
      this.#bytesSinceCheckpoint += bytes.length - update.length
      this.#options.onEnvelope(bytes, toHex(hash))
    } catch (error) {
      this.#failed = error
      this.#options.onError?.(error)
      return
    }
    const every = this.#options.checkpointEvery ?? 0
    if (every > 0 && this.#sinceCheckpoint.length >= every && this.#bytesSinceCheckpoint >= (this.#lastCheckpoint?.size ?? 0)) await this.#signCheckpoint()
  }

  /**
   * Signs a checkpoint of the session (envelopes 1 to the latest), after every local update so
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
    const parts = this.#lastCheckpoint === undefined ? this.#sinceCheckpoint : [this.#lastCheckpoint.update, ...this.#sinceCheckpoint]
    try {
      const update = mergeSessionUpdates(parts)
      const envelope = await signEnvelope(this.#options.signer, {
        doc: this.#options.docId,
        session: this.#session,
        seq: this.#seq,
        prev: new Uint8Array(0),
        update,
        checkpoint: { from: 1, last: this.#prev },
      })
      const bytes = encodeEnvelope(envelope)
      const hash = toHex(digest(encodeEnvelopeBody(envelope)))
      this.#lastCheckpoint = { update, size: bytes.length }
      this.#sinceCheckpoint = []
      this.#bytesSinceCheckpoint = 0
      this.#options.onEnvelope(bytes, hash)
      return hash
    } catch (error) {
      this.#options.onError?.(error)
      return undefined
    }
  }

  /**
   * Resolves once every local update so far was signed and handed over.
   * @throws the error that stopped the writer, if any.
   */
  async flush(): Promise<void> {
    await this.#chain
    if (this.#failed !== undefined) throw this.#failed
  }

  /** Stops signing (pending envelopes still complete). */
  dispose(): void {
    this.#options.doc.off('update', this.#onUpdate)
  }
}
