/**
 * Turns a replica's own edits of a document into signed envelopes, in a hash chain per session,
 * under a Yjs client id derived from the author and the session.
 *
 * One envelope per local transaction, except under load: transactions made while an envelope is
 * being signed are merged (`Y.mergeUpdates`, all of them this session's own structs) into the
 * next envelope. A burst of keystrokes therefore costs a few envelopes, not one each, without any
 * timer.
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
      this.#options.onEnvelope(encodeEnvelope(envelope), toHex(hash))
    } catch (error) {
      this.#failed = error
      this.#options.onError?.(error)
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
