/**
 * The signed documents of one Space: every document (the manifest and each shard) gets a
 * {@link SignedDoc} the moment it is created, before it can receive a local edit, and its
 * envelope log is restored from storage before the document is handed out. Sync engines find
 * the documents to exchange here.
 *
 * ```ts
 * const signed = new SignedDocs({ spaceId: 'city', signer: identity.keyPair, storage })
 * const shards = new ShardSet({ ...options, prepare: (name, doc) => signed.attach(name, doc) })
 * signed.on('open', (doc) => console.log(doc.name, doc.heads()))
 * ```
 * @module
 */
import type * as Y from 'yjs'
import { CabildoError } from '../errors'
import type { StorageFailure } from '../storage/attach-store'
import type { Storage } from '../storage/storage'
import { createListenerSet } from '../transports/listener-set'
import type { DeleteRule } from './delete-rules'
import type { EnvelopeSigner, SignatureCheck } from './envelope-signing'
import type { GuardLimits, QuarantineEntry } from './ingress-guard'
import type { PreparedDoc } from './shard-set'
import { SignedDoc, type LoggedEnvelope } from './signed-doc'
import { createSignatureCheck } from './signature-check'
import type { VouchedWriter, VouchOptions, VouchOutcome } from './vouching'

/** Options of {@link SignedDocs}. */
export interface SignedDocsOptions {
  /** The Space's id: documents are signed for `<space id>/<name>`. */
  readonly spaceId: string
  /** Signs this replica's transactions (the identity's key pair); without it, documents only receive. */
  readonly signer?: EnvelopeSigner
  /** The signature check every guard shares (default: one `createSignatureCheck()`). */
  readonly check?: SignatureCheck
  /** Where envelope logs are kept (next to the documents); none for an in-memory Space. */
  readonly storage?: Storage
  /** Compact an envelope log after this many appends (default 500). */
  readonly compactEvery?: number
  /** Called with every storage failure of an envelope log. */
  readonly onStorageError?: (error: StorageFailure) => void
  /** Which deletions remote envelopes may make (default: the civic rule). */
  readonly deleteRule?: DeleteRule
  /** The guards' limits. */
  readonly guardLimits?: Partial<GuardLimits>
  /**
   * Each document's writer signs a checkpoint of its session once this many envelopes were
   * signed since the last one (and what they cost beyond their updates reaches its size); default
   * `DEFAULT_CHECKPOINT_EVERY` (32), 0 turns automatic checkpoints off.
   */
  readonly checkpointEvery?: number
  /** Each document's writer's session nonce, asked for when the document is attached (default: random; see `SpaceOptions.sessionNonce`). */
  readonly sessionNonce?: (doc: string) => Uint8Array
}

/** The events of {@link SignedDocs}. */
export interface SignedDocsEvents {
  /** A document's envelope log is loaded: it can sync from now on. */
  open: SignedDoc
  /** A failure in the background: a document's writer stopped, or stored envelopes could not be restored. */
  error: { readonly doc: string; readonly error: unknown }
  /** The Space is closing: sync engines stop. Emitted once. */
  close: { readonly spaceId: string }
}

/** A quarantined envelope and the document whose guard refused it. */
export interface DocQuarantineEntry extends QuarantineEntry {
  /** The document's name. */
  readonly doc: string
}

/** The signed documents of a Space. */
export class SignedDocs {
  /** The Space's id. */
  readonly spaceId: string
  /** The signature check all guards share. */
  readonly check: SignatureCheck
  readonly #options: SignedDocsOptions
  readonly #docs = new Map<string, SignedDoc>()
  readonly #listeners = createListenerSet<SignedDocsEvents>()
  #closed = false

  /** @param options - the Space's id, signer, storage and limits */
  constructor(options: SignedDocsOptions) {
    this.#options = options
    this.spaceId = options.spaceId
    this.check = options.check ?? createSignatureCheck()
  }

  /** Whether local transactions are signed (the Space has an identity). */
  get signs(): boolean {
    return this.#options.signer !== undefined
  }

  /**
   * Attaches a writer and a guard to a freshly created document (call it before anything else
   * touches the document), and returns what the shard set calls once the document's updates are
   * loaded (`load`), to make it durable (`flush`) and when it goes away (`close`).
   */
  attach(name: string, doc: Y.Doc): PreparedDoc {
    const { signer, deleteRule, guardLimits, storage, compactEvery, onStorageError, checkpointEvery, sessionNonce } = this.#options
    const signed = new SignedDoc({
      name,
      docId: `${this.spaceId}/${name}`,
      doc,
      check: this.check,
      ...(signer === undefined ? {} : { signer }),
      ...(deleteRule === undefined ? {} : { deleteRule }),
      ...(guardLimits === undefined ? {} : { guardLimits }),
      ...(checkpointEvery === undefined ? {} : { checkpointEvery }),
      ...(sessionNonce === undefined || signer === undefined ? {} : { session: sessionNonce(name) }),
      onError: (error) => this.#listeners.emit('error', { doc: name, error }),
    })
    return {
      load: async () => {
        await signed.load(storage, {
          ...(compactEvery === undefined ? {} : { compactEvery }),
          ...(onStorageError === undefined ? {} : { onStorageError }),
        })
        if (this.#closed) return
        this.#docs.set(name, signed)
        this.#listeners.emit('open', signed)
      },
      flush: () => signed.flush(),
      kept: signed.kept,
      close: async () => {
        if (this.#docs.get(name) === signed) this.#docs.delete(name)
        await signed.close()
      },
    }
  }

  /** The loaded signed document called `name`, if it is open. */
  get(name: string): SignedDoc | undefined {
    return this.#docs.get(name)
  }

  /**
   * Applies a plain Yjs V1 update to the open document `name` as an envelope signed by
   * `options.signer` (default: this Space's identity), vouching that `writer.identity` wrote it
   * (see `SignedDoc.applyVouched`).
   * @throws CabildoError `E_NOT_FOUND` when the document is not open, `E_ARGUMENT` without a signer.
   */
  applyVouched(name: string, update: Uint8Array, writer: VouchedWriter, options?: VouchOptions): Promise<VouchOutcome> {
    const signed = this.#docs.get(name)
    if (signed === undefined) return Promise.reject(new CabildoError('E_NOT_FOUND', `Document "${name}" is not open`, { kind: 'document', id: name }))
    return signed.applyVouched(update, writer, options)
  }

  /**
   * Signs a checkpoint of this replica's session of the open document `name` (see
   * `SignedDoc.checkpoint`): peers catching up later receive it instead of every envelope it merges.
   * Resolves with it, or `undefined` when there is nothing to merge or no identity.
   * @throws CabildoError `E_NOT_FOUND` when the document is not open.
   */
  checkpoint(name: string): Promise<LoggedEnvelope | undefined> {
    const signed = this.#docs.get(name)
    if (signed === undefined) return Promise.reject(new CabildoError('E_NOT_FOUND', `Document "${name}" is not open`, { kind: 'document', id: name }))
    return signed.checkpoint()
  }

  /** Every loaded signed document, in the order they were opened (the manifest first). */
  list(): SignedDoc[] {
    return [...this.#docs.values()]
  }

  /** Envelopes refused by the guards of the open documents, document by document, oldest first. */
  quarantine(): DocQuarantineEntry[] {
    return this.list().flatMap((signed) => signed.guard.quarantine().map((entry) => ({ ...entry, doc: signed.name })))
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof SignedDocsEvents>(event: E, listener: (payload: SignedDocsEvents[E]) => void): () => void {
    return this.#listeners.on(event, listener)
  }

  /** Whether {@link SignedDocs.close} was called. */
  get closed(): boolean {
    return this.#closed
  }

  /** Announces that the Space is closing (sync engines stop); the documents close with the shard set. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#listeners.emit('close', { spaceId: this.spaceId })
    this.#listeners.clear()
  }
}
