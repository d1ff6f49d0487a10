/**
 * Vouching: a replica signs plain Yjs updates written by identities it admitted (a relay's plain
 * y-websocket clients) as version 2 envelopes with a `vouched` section, so that every cabildo
 * peer sees them as "vouched for by signer S, written by identity X" and checks them with its
 * ingress guard like any envelope.
 *
 * A {@link Voucher} keeps one session chain per document, apart from the replica's own
 * {@link SessionWriter} session, and for each plain update, one at a time:
 * 1. reads it completely as V1 (never V2) within the limits;
 * 2. trims it to what the document lacks ({@link trimUpdate});
 * 3. names every Yjs client it writes under as vouched for the writer's identity;
 * 4. asks the document's guard to judge the unsigned body ({@link IngressGuard.preview}): client
 *    ownership (a client belongs to the first cabildo session or vouched identity that wrote
 *    under it), clocks with no gap, dependencies present, and the delete rule with the signer as
 *    author;
 * 5. signs it and hands it to the guard, which applies it. Nothing is signed that the guard
 *    would refuse, so the chain never has a refused link.
 *
 * ```ts
 * const outcome = await space.signedDocs.applyVouched('process.p1', update, { identity: 'alice' })
 * if (outcome.status === 'rejected') console.warn(outcome.code, outcome.reason)
 * ```
 * @module
 */
import type * as Y from 'yjs'
import { digest } from 'lib0/hash/sha256'
import { CabildoError } from '../errors'
import { encodeEnvelope, encodeEnvelopeBody, MAX_VOUCHED, SESSION_BYTES, type EnvelopeBody } from './envelope-codec'
import { signEnvelope, type EnvelopeSigner } from './envelope-signing'
import type { GuardOutcome, GuardRejectionCode, IngressGuard } from './ingress-guard'
import { defaultInspectLimits, inspectUpdate, type InspectLimits } from './update-inspector'
import { trimUpdate } from './update-trim'

/** Who wrote a plain update, as the vouching replica admitted them. */
export interface VouchedWriter {
  /** The identity the replica admitted (e.g. a relay's token identity): 1 to 200 characters. */
  readonly identity: string
  /**
   * The Yjs client id the writer works under, if known (a y-websocket client's awareness id).
   * An update with no structs (only deletions) is vouched under it; without it, such an update
   * is refused, since nothing would name who deleted.
   */
  readonly client?: number
}

/** Options of one vouching call. */
export interface VouchOptions {
  /**
   * Who signs and vouches (a relay's identity key pair). Default: the document's own signer (the
   * Space's identity). Each signer keeps its own session chain per document.
   */
  readonly signer?: EnvelopeSigner
  /** Bounds on the update (default {@link defaultVouchLimits}). */
  readonly limits?: Partial<InspectLimits>
}

/** Refusal codes of a plain update. */
export type VouchRejectionCode = Extract<GuardRejectionCode, 'E_UPDATE_TOO_LARGE' | 'E_UPDATE_MALFORMED' | 'E_FORGED_CLIENT' | 'E_CLOCK' | 'E_FORBIDDEN_DELETE'>

/** What happened to a plain update. */
export type VouchOutcome =
  /** Signed as a vouched envelope (hex `hash`) and applied; `clients` are the vouched client ids. */
  | { readonly status: 'applied'; readonly hash: string; readonly clients: readonly number[] }
  /** The document already held everything in it: nothing was signed. */
  | { readonly status: 'unchanged' }
  /** Refused: nothing was signed or applied. */
  | { readonly status: 'rejected'; readonly code: VouchRejectionCode; readonly reason: string }

/** Limits on plain updates: those of `inspectUpdate`, with 4 MiB updates (a vouched envelope must fit 8 MiB). */
export const defaultVouchLimits: InspectLimits = { ...defaultInspectLimits, maxBytes: 4 * 1024 * 1024 }

/** Options of a {@link Voucher}. */
export interface VoucherOptions {
  readonly doc: Y.Doc
  /** `<space id>/<shard>`. */
  readonly docId: string
  readonly signer: EnvelopeSigner
  /** The document's guard: judges each body before it is signed. */
  readonly guard: IngressGuard
  /** Passes a signed envelope through the guard and into the document's log as the replica's own. */
  readonly commit: (bytes: Uint8Array, peer: string) => Promise<GuardOutcome>
}

function rejected(code: VouchRejectionCode, reason: string): VouchOutcome {
  return { status: 'rejected', code, reason }
}

/** A guard's refusal as a plain update's: chain codes cannot concern the voucher's own chain. */
function refusal(code: GuardRejectionCode, reason: string): VouchOutcome {
  return rejected(code === 'E_FORGED_CLIENT' || code === 'E_CLOCK' || code === 'E_FORBIDDEN_DELETE' || code === 'E_UPDATE_TOO_LARGE' ? code : 'E_UPDATE_MALFORMED', reason)
}

/** Signs plain updates of one document into a chain of vouched envelopes. */
export class Voucher {
  readonly #options: VoucherOptions
  readonly #session = globalThis.crypto.getRandomValues(new Uint8Array(SESSION_BYTES))
  #seq = 0
  #prev: Uint8Array = new Uint8Array(0)
  #queue: Promise<unknown> = Promise.resolve()

  /** @param options - the document, its id, the signer, the guard and how to commit */
  constructor(options: VoucherOptions) {
    this.#options = options
  }

  /**
   * Checks a plain V1 update written by `writer` and, if the guard would accept it, signs it as a
   * vouched envelope and applies it. Calls run one at a time, in call order. Never throws for
   * bad bytes. `limits` bound the update (default {@link defaultVouchLimits}).
   * @throws CabildoError `E_ARGUMENT` when the identity is empty or longer than 200 characters.
   */
  vouch(update: Uint8Array, writer: VouchedWriter, limits: Partial<InspectLimits> = {}): Promise<VouchOutcome> {
    if (typeof writer.identity !== 'string' || writer.identity.length === 0 || writer.identity.length > 200) {
      return Promise.reject(new CabildoError('E_ARGUMENT', 'A vouched identity must be 1 to 200 characters', { argument: 'identity', reason: 'length' }))
    }
    const run = this.#queue.then(() => this.#vouch(update, writer, { ...defaultVouchLimits, ...limits }))
    this.#queue = run.catch(() => undefined)
    return run
  }

  async #vouch(update: Uint8Array, writer: VouchedWriter, limits: InspectLimits): Promise<VouchOutcome> {
    const { doc, docId, signer, guard } = this.#options
    const read = inspectUpdate(update, limits)
    if (!read.ok) return read.code === 'E_UPDATE_TOO_LARGE' ? rejected(read.code, `update of ${read.size} bytes exceeds ${read.limit}`) : rejected(read.code, read.reason)
    if (read.update.structs.some((struct) => struct.kind === 'skip')) return rejected('E_UPDATE_MALFORMED', 'the update has a gap (skip struct)')
    const fresh = trimUpdate(doc, update, read.update)
    if (fresh === undefined) return { status: 'unchanged' }
    const trimmed = inspectUpdate(fresh, { ...limits, maxBytes: Number.MAX_SAFE_INTEGER })
    if (!trimmed.ok) return rejected('E_UPDATE_MALFORMED', trimmed.code === 'E_UPDATE_MALFORMED' ? trimmed.reason : 'unreadable once trimmed')
    const clients = [...trimmed.update.ranges.keys()]
    if (clients.length === 0) {
      if (writer.client === undefined) return rejected('E_FORGED_CLIENT', 'a deletion-only update needs the client id of its writer')
      clients.push(writer.client)
    }
    clients.sort((a, b) => a - b)
    if (clients.length > MAX_VOUCHED) return rejected('E_UPDATE_MALFORMED', `writes under ${clients.length} clients (limit ${MAX_VOUCHED})`)
    // The replica's own client: Yjs would give the document a new client id under the writer's feet.
    if (clients.includes(doc.clientID)) return rejected('E_FORGED_CLIENT', `client ${doc.clientID} is this replica's own`)
    const body: EnvelopeBody = {
      doc: docId,
      author: signer.did,
      session: this.#session,
      seq: this.#seq + 1,
      prev: this.#prev,
      update: fresh,
      vouched: clients.map((client) => ({ client, identity: writer.identity })),
    }
    const preview = guard.preview(body, trimmed.update)
    if (preview.status === 'rejected') return refusal(preview.code, preview.reason)
    // Everything it refers to must already be here: a plain client cannot hold content the
    // document lacks unless it came from elsewhere, and a vouched envelope never waits.
    if (preview.status === 'waits') return rejected('E_CLOCK', `depends on ${preview.waitingFor}, which the document lacks`)
    const envelope = await signEnvelope(signer, body)
    const hash = digest(encodeEnvelopeBody(envelope))
    const outcome = await this.#options.commit(encodeEnvelope(envelope), `vouched:${writer.identity}`)
    // Only a change between the preview and the guard's turn (another writer claimed a client
    // meanwhile) gets a refusal here; the envelope stays in this replica's quarantine, never sent,
    // and the chain does not advance. The guard cannot make it wait: its dependencies were
    // present at the preview and a document only gains content.
    if (outcome.status === 'rejected') return refusal(outcome.code, outcome.reason)
    this.#seq++
    this.#prev = hash
    return { status: 'applied', hash: outcome.hash, clients }
  }
}
