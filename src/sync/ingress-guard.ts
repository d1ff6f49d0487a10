/**
 * The ingress guard: every envelope from outside passes it before Yjs sees a byte.
 *
 * In order: size; canonical decoding; the document it was signed for; duplicates; signature;
 * the session's hash chain (sequence and previous hash); a complete, bounded V1 reading of the
 * update; every struct under the client id derived from the signer's session, or under a client
 * the signer vouches for (version 2 `vouched` section) that no other session or vouched identity
 * owns; clocks continuing each client exactly; every dependency present (else the envelope
 * waits); every deletion allowed by the document's rule. Only then is the update applied, in one
 * transaction whose origin is the envelope. A refused envelope changes nothing, fires no event,
 * and is kept in quarantine with its code.
 *
 * ```ts
 * const guard = new IngressGuard({ doc, docId: 'city/tickets.2026-11', check })
 * const outcome = await guard.receive(bytes, 'peer-7')
 * if (outcome.status === 'rejected') console.log(outcome.code, outcome.reason)
 * ```
 *
 * Envelopes whose predecessor or dependencies are missing wait in a bounded queue, indexed by
 * what they wait for, so that each is looked at again only when that arrives: applying n
 * envelopes that arrived out of order costs O(n), not O(n²).
 *
 * A **checkpoint** (an envelope with a `checkpoint` section: its author's envelopes `from`..`seq`
 * merged into one) links into its session's chain by its `prev` and `last`, may overlap what the
 * document holds, and is compared with the envelopes it merges where the guard holds them (see
 * `checkpoint-checks` and `checkpoint-content`); then the session's head is `seq`. Checkpoints of
 * authors who edited after each other wait on each other: the guard applies such a group as one
 * update once it closes (see `closedGroup`).
 * @module
 */
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import { toHex } from '../encoding/canonical'
import { decodeEnvelope, defaultEnvelopeLimits, readAcceptedEnvelope, sessionClientId, type Envelope, type EnvelopeBody, type EnvelopeLimits } from './envelope-codec'
import { verifyEnvelopeSignature, type SignatureCheck } from './envelope-signing'
import { civicDeleteRule, type DeleteRule, type DeleteTarget } from './delete-rules'
import { canonicalJson } from '../encoding/canonical'
import { defaultInspectLimits, inspectUpdate, type InspectedStruct, type InspectedUpdate, type InspectLimits, type StructId } from './update-inspector'
import { checkpointClockProblem, closedGroup, linkCheckpoint, type ChainView, type GroupMember } from './checkpoint-checks'
import { checkpointContentProblem } from './checkpoint-content'

/** Codes of refused envelopes. */
export type GuardRejectionCode =
  | 'E_UPDATE_TOO_LARGE'
  | 'E_UPDATE_MALFORMED'
  | 'E_WRONG_DOC'
  | 'E_SIGNATURE'
  | 'E_CHAIN'
  | 'E_EQUIVOCATION'
  | 'E_FORGED_CLIENT'
  | 'E_CLOCK'
  | 'E_FORBIDDEN_DELETE'
  | 'E_PENDING_FULL'

/** What happened to an envelope. */
export type GuardOutcome =
  | { readonly status: 'applied'; readonly hash: string; readonly released: readonly string[] }
  | { readonly status: 'duplicate'; readonly hash: string }
  | { readonly status: 'pending'; readonly hash: string; readonly waitingFor: string }
  | { readonly status: 'rejected'; readonly hash: string | undefined; readonly code: GuardRejectionCode; readonly reason: string }

/** A refused envelope, kept for inspection. */
export interface QuarantineEntry {
  readonly peer: string
  readonly hash: string | undefined
  readonly code: GuardRejectionCode
  readonly reason: string
  readonly bytes: Uint8Array
  /**
   * For `E_EQUIVOCATION`: the hash of the envelope at the same session and sequence number that
   * was applied first. With this entry, the pair is the evidence that the author signed both;
   * the applied one stays in the document's envelope log.
   */
  readonly conflictsWith?: string
  /** For `E_EQUIVOCATION`: the bytes of the envelope applied first, when the guard's owner still holds them ({@link IngressGuardOptions.applied}). */
  readonly conflicting?: Uint8Array
}

/** The latest envelope of one author session. */
export interface SessionHead {
  readonly author: string
  /** The session nonce, hex. */
  readonly session: string
  readonly seq: number
  readonly hash: string
}

/** Limits of the guard. */
export interface GuardLimits {
  readonly envelope: EnvelopeLimits
  readonly update: InspectLimits
  /** Most envelopes waiting for a predecessor or a dependency. */
  readonly pendingCount: number
  /** Most bytes waiting. */
  readonly pendingBytes: number
  /**
   * Most envelopes waiting that came from one peer: a peer that sends envelopes whose
   * predecessors never come cannot fill the queue for everyone else.
   */
  readonly pendingPerPeer: number
  /** Most quarantined envelopes kept (the oldest are forgotten first). */
  readonly quarantine: number
}

/** Default limits: 8 MiB envelopes, 10,000 / 64 MiB waiting (2,000 per peer), 1,000 quarantined. */
export const defaultGuardLimits: GuardLimits = {
  envelope: defaultEnvelopeLimits,
  update: defaultInspectLimits,
  pendingCount: 10_000,
  pendingBytes: 64 * 1024 * 1024,
  pendingPerPeer: 2_000,
  quarantine: 1_000,
}

/** Options of an {@link IngressGuard}. */
export interface IngressGuardOptions {
  /** The document the guard protects. */
  readonly doc: Y.Doc
  /** The id envelopes of this document are signed for (`<space id>/<shard>`). */
  readonly docId: string
  /** Checks Ed25519 signatures. */
  readonly check: SignatureCheck
  /** Which deletions are allowed (default: {@link civicDeleteRule}). */
  readonly deleteRule?: DeleteRule
  readonly limits?: Partial<GuardLimits>
  /**
   * The bytes of an envelope this document applied, by hash, if they are still held (its
   * envelope log): quarantined with an equivocation, so that the entry holds both envelopes.
   */
  readonly applied?: (hash: string) => Uint8Array | undefined
}

interface Checked {
  readonly envelope: Envelope
  readonly hash: string
  readonly bytes: Uint8Array
  readonly peer: string
  readonly sessionKey: string
  readonly client: number
  /** The clients the signer vouches for, each with its owner key ({@link vouchKeyOf}). */
  readonly vouched: ReadonlyMap<number, string>
  readonly update: InspectedUpdate
}

/**
 * A waiting envelope as the queue keeps it: its wire bytes and what indexes it. Its decoded
 * fields and inspected update weigh about 16 times its bytes in memory: they are read again from
 * the bytes when what it waits for arrives (see `#reread`).
 */
interface Waiting {
  readonly bytes: Uint8Array
  readonly hash: string
  readonly peer: string
  /** Its session's client id (a hash to compute). */
  readonly client: number
  readonly checkpoint: boolean
}

type Verdict =
  | { readonly kind: 'apply' }
  /** Nothing to apply: the content came with a checkpoint (a plain envelope it merged, or an older checkpoint). */
  | { readonly kind: 'covered' }
  /** A checkpoint whose content the document already holds: kept (to serve peers), nothing applied. */
  | { readonly kind: 'keep' }
  | { readonly kind: 'wait'; readonly on: WaitFor; readonly what: string }
  | { readonly kind: 'reject'; readonly code: GuardRejectionCode; readonly reason: string; readonly conflictsWith?: string }

/** What a waiting envelope waits for: its session's previous envelope, or a struct of a client. */
type WaitFor = { readonly session: string; readonly seq: number } | StructId

function sessionKeyOf(author: string, session: Uint8Array): string {
  return `${author} ${toHex(session)}`
}

/**
 * The owner key of clients a signer vouches for on behalf of one identity. Session keys are
 * `<did> <hex>`; a did has no line break, so the two kinds never collide.
 */
function vouchKeyOf(author: string, identity: string): string {
  return `${author}\n${identity}`
}

function vouchedOf(body: EnvelopeBody): ReadonlyMap<number, string> {
  return new Map((body.vouched ?? []).map(({ client, identity }) => [client, vouchKeyOf(body.author, identity)]))
}

/** Who owns a Yjs client id in a guarded document: an author's session, or an identity a signer vouched for. */
export type ClientOwner =
  | { readonly kind: 'session'; readonly author: string; readonly session: string }
  | { readonly kind: 'vouched'; readonly author: string; readonly identity: string }

/** What {@link IngressGuard.preview} foresees for an envelope body. */
export type GuardPreview =
  | { readonly status: 'ok' }
  | { readonly status: 'waits'; readonly waitingFor: string }
  | { readonly status: 'rejected'; readonly code: GuardRejectionCode; readonly reason: string }

/** Guards one document. */
export class IngressGuard {
  readonly #doc: Y.Doc
  readonly #docId: string
  readonly #check: SignatureCheck
  readonly #deleteRule: DeleteRule
  readonly #limits: GuardLimits
  /**
   * Session → the hash of every applied envelope, by sequence number (index seq - 1). The array's
   * length is the session's head; envelopes a checkpoint merged are holes (their hashes are not
   * known here), except its last and the one before its first.
   */
  readonly #chains = new Map<string, { author: string; session: string; hashes: Array<string | undefined> }>()
  /** Client id → the session that owns it. */
  readonly #owners = new Map<number, string>()
  readonly #applied = new Map<string, Uint8Array>()
  /** A waited-for predecessor (`<session> <seq>`) → the envelopes waiting for it. */
  readonly #waiting = new Map<string, Waiting[]>()
  /** A client → the envelopes waiting for one of its clocks. */
  readonly #waitingOnClient = new Map<number, Array<{ readonly clock: number; readonly envelope: Waiting }>>()
  readonly #pendingHashes = new Set<string>()
  /** How many waiting envelopes are checkpoints: only they can wait on each other (see `#settleGroups`). */
  #pendingCheckpoints = 0
  /** While a group is checked: per client, its members' structs in clock order, for items written by another member. */
  #group: ReadonlyMap<number, ReadonlyArray<{ readonly struct: InspectedStruct; readonly writer: Checked }>> | undefined
  /** Per session, the checkpoints applied or kept (none contained in another): what later ones are compared with. */
  readonly #checkpoints = new Map<string, Array<{ readonly from: number; readonly seq: number; readonly hash: string }>>()
  /** Per waiting envelope, how `closedGroup` sees it (computed once). */
  readonly #members = new WeakMap<Waiting, GroupMember & { readonly waiting: Waiting }>()
  /** `receive` calls not finished: groups are looked for once the queue drains (see `#settleGroups`). */
  #calls = 0
  /** Whether something waits or was applied since groups were last looked for. */
  #changed = false
  /** Hashes of waiting envelopes a group applied, not reported in the outcome of the call that applied it. */
  #unreported: string[] = []
  #pendingBytes = 0
  readonly #pendingByPeer = new Map<string, number>()
  readonly #quarantine: QuarantineEntry[] = []
  readonly #appliedBytes: ((hash: string) => Uint8Array | undefined) | undefined
  #queue: Promise<unknown> = Promise.resolve()
  /** The origins of the transactions that applied envelopes (see {@link IngressGuard.appliedWith}). */
  readonly #origins = new WeakSet<object>()

  /** @param options - the document, its id, the signature check, the delete rule and limits */
  constructor(options: IngressGuardOptions) {
    this.#doc = options.doc
    this.#docId = options.docId
    this.#check = options.check
    this.#deleteRule = options.deleteRule ?? civicDeleteRule
    this.#limits = { ...defaultGuardLimits, ...options.limits }
    this.#appliedBytes = options.applied
  }

  /**
   * Checks an envelope received from `peer` and applies it when every check passes. Never
   * throws for bad input. Calls are processed one at a time, in call order.
   */
  receive(bytes: Uint8Array, peer: string): Promise<GuardOutcome> {
    this.#calls++
    const run = this.#queue.then(async () => {
      try {
        const outcome = await this.#receive(bytes, peer)
        return this.#calls === 1 ? this.#settleGroups(outcome) : outcome
      } finally {
        this.#calls--
      }
    })
    this.#queue = run.catch(() => undefined)
    return run
  }

  /**
   * The hashes of waiting envelopes that were applied, together with others, by a later `receive`
   * whose outcome does not list them (it was no part of their group), since the last call; the
   * list is emptied. A caller that logs what the guard applies reads it after every `receive`.
   */
  takeReleased(): string[] {
    return this.#unreported.splice(0)
  }

  /**
   * Whether a transaction with this origin applied envelopes that passed this guard (its origin
   * is the envelope, or the list of a group's envelopes).
   */
  appliedWith(origin: unknown): boolean {
    return typeof origin === 'object' && origin !== null && this.#origins.has(origin)
  }

  /**
   * Records an envelope made locally, whose update is already in the document: it extends its
   * session's chain, so that later envelopes of the session are checked against it.
   */
  recordLocal(bytes: Uint8Array): void {
    const decoded = decodeEnvelope(bytes, this.#limits.envelope)
    if (!decoded.ok) return
    const { envelope, hash } = decoded
    const key = sessionKeyOf(envelope.author, envelope.session)
    this.#claim(sessionClientId(envelope.author, envelope.session), key, vouchedOf(envelope))
    this.#extendChain(key, envelope, hash, bytes)
  }

  /** Binds a session's client id, and the clients it vouches for, to their owners (first claim wins). */
  #claim(client: number, sessionKey: string, vouched: ReadonlyMap<number, string>): void {
    this.#owners.set(client, sessionKey)
    for (const [vouchedClient, owner] of vouched) if (!this.#owners.has(vouchedClient)) this.#owners.set(vouchedClient, owner)
  }

  /** Who owns a Yjs client id here: the first session that wrote under it, or the first vouched identity. */
  clientOwner(client: number): ClientOwner | undefined {
    const key = this.#owners.get(client)
    if (key === undefined) return undefined
    const newline = key.indexOf('\n')
    if (newline >= 0) return { kind: 'vouched', author: key.slice(0, newline), identity: key.slice(newline + 1) }
    const space = key.indexOf(' ')
    return { kind: 'session', author: key.slice(0, space), session: key.slice(space + 1) }
  }

  /**
   * Judges an envelope body against the document as it is now, without a signature and without
   * applying anything: what a writer runs before it signs, so that it never signs an envelope its
   * own guard would refuse. `update` is the body's update as {@link inspectUpdate} read it.
   */
  preview(body: EnvelopeBody, update: InspectedUpdate): GuardPreview {
    const verdict = this.#judge({
      envelope: { ...body, sig: new Uint8Array(0) },
      hash: '',
      bytes: new Uint8Array(0),
      peer: '',
      sessionKey: sessionKeyOf(body.author, body.session),
      client: sessionClientId(body.author, body.session),
      vouched: vouchedOf(body),
      update,
    })
    if (verdict.kind === 'apply' || verdict.kind === 'keep' || verdict.kind === 'covered') return { status: 'ok' }
    if (verdict.kind === 'wait') return { status: 'waits', waitingFor: verdict.what }
    return { status: 'rejected', code: verdict.code, reason: verdict.reason }
  }

  /** The latest envelope of every session this document has applied. */
  heads(): SessionHead[] {
    return [...this.#chains.values()].map((c) => ({ author: c.author, session: c.session, seq: c.hashes.length, hash: c.hashes[c.hashes.length - 1] as string }))
  }

  /** The applied envelopes of a session after sequence number `after` (for peers that lack them). */
  envelopesAfter(author: string, sessionHex: string, after: number): Uint8Array[] {
    const chain = this.#chains.get(`${author} ${sessionHex}`)
    if (!chain) return []
    const out: Uint8Array[] = []
    for (const hash of chain.hashes.slice(after)) {
      const bytes = hash === undefined ? undefined : this.#applied.get(hash)
      if (bytes) out.push(bytes)
    }
    return out
  }

  /** Whether the envelope with this hash waits for a predecessor or a dependency. */
  isPending(hash: string): boolean {
    return this.#pendingHashes.has(hash)
  }

  /** Refused envelopes, oldest first. */
  quarantine(): readonly QuarantineEntry[] {
    return this.#quarantine
  }

  /** How many envelopes wait for a predecessor or a dependency. */
  get pending(): number {
    return this.#pendingHashes.size
  }

  async #receive(bytes: Uint8Array, peer: string): Promise<GuardOutcome> {
    const decoded = decodeEnvelope(bytes, this.#limits.envelope)
    if (!decoded.ok) {
      return this.#reject(peer, undefined, bytes, decoded.code, decoded.code === 'E_UPDATE_TOO_LARGE' ? `${decoded.size} bytes exceed ${decoded.limit}` : decoded.reason)
    }
    const { envelope, hash } = decoded
    if (envelope.doc !== this.#docId) return this.#reject(peer, hash, bytes, 'E_WRONG_DOC', `signed for ${envelope.doc}, not ${this.#docId}`)
    if (this.#applied.has(hash) || this.#pendingHashes.has(hash)) return { status: 'duplicate', hash }
    if (!(await verifyEnvelopeSignature(envelope, this.#check))) return this.#reject(peer, hash, bytes, 'E_SIGNATURE', `not signed by ${envelope.author}`)
    const inspected = inspectUpdate(envelope.update, this.#limits.update)
    if (!inspected.ok) {
      return this.#reject(peer, hash, bytes, inspected.code, inspected.code === 'E_UPDATE_TOO_LARGE' ? `update of ${inspected.size} bytes exceeds ${inspected.limit}` : inspected.reason)
    }
    const checked = checkedOf(envelope, hash, bytes, peer, inspected.update)
    let verdict = this.#judge(checked)
    if (verdict.kind === 'wait' && this.#pendingCheckpoints > 0 && this.#changed && this.#queueFull(checked)) {
      // Before refusing for want of room, apply what waits on each other: it may free the room, or what this one waits for.
      this.#unreported.push(...this.#applyGroups())
      verdict = this.#judge(checked)
    }
    if (verdict.kind === 'reject') return this.#reject(peer, hash, bytes, verdict.code, verdict.reason, verdict.conflictsWith)
    if (verdict.kind === 'covered') return { status: 'duplicate', hash }
    if (verdict.kind === 'keep') {
      this.#extendChain(checked.sessionKey, envelope, hash, bytes)
      return { status: 'applied', hash, released: [] }
    }
    if (verdict.kind === 'wait') {
      const outcome = this.#wait(checked, verdict.on, verdict.what)
      // A checkpoint may be what closes a group: look now, not only when the queue drains.
      return envelope.checkpoint === undefined ? outcome : this.#settleGroups(outcome)
    }
    this.#apply(checked)
    return { status: 'applied', hash, released: this.#release(checked) }
  }

  /** The checks that depend on the document's state; re-run when a waiting envelope is released. */
  #judge(c: Checked): Verdict {
    const { envelope, update } = c
    if (envelope.checkpoint !== undefined) return this.#judgeCheckpoint(c)
    // The session's chain: strictly the next sequence number, linked to the previous envelope.
    const chain = this.#chains.get(c.sessionKey)
    const length = chain?.hashes.length ?? 0
    if (envelope.seq <= length) {
      // Envelopes a checkpoint merged are unknown here: their content came with it.
      const known = chain?.hashes[envelope.seq - 1]
      if (known === undefined || known === c.hash) return { kind: 'covered' }
      return { kind: 'reject', code: 'E_EQUIVOCATION', reason: `a different envelope #${envelope.seq} of this session was already applied`, conflictsWith: known }
    }
    if (envelope.seq > length + 1) return { kind: 'wait', on: { session: c.sessionKey, seq: envelope.seq - 1 }, what: `envelope #${envelope.seq - 1} of its session` }
    const prev = envelope.seq === 1 ? '' : toHex(envelope.prev)
    if (envelope.seq > 1 && prev !== chain?.hashes[length - 1]) {
      return { kind: 'reject', code: 'E_CHAIN', reason: 'prev does not name the session\'s previous envelope' }
    }
    // Authorship: every struct under the client id derived from the signer's session, or under
    // a client the signer vouches for, owned by nobody else (first claim wins).
    const owner = this.#owners.get(c.client)
    if (owner !== undefined && owner !== c.sessionKey) return { kind: 'reject', code: 'E_FORGED_CLIENT', reason: `client ${c.client} belongs to another session` }
    for (const [client, key] of c.vouched) {
      const claimed = this.#owners.get(client)
      if (client === c.client || (claimed !== undefined && claimed !== key)) {
        return { kind: 'reject', code: 'E_FORGED_CLIENT', reason: `vouches for client ${client}, which belongs to another writer` }
      }
    }
    for (const client of update.ranges.keys()) {
      if (client !== c.client && !c.vouched.has(client)) return { kind: 'reject', code: 'E_FORGED_CLIENT', reason: `writes under client ${client}, neither its own ${c.client} nor vouched for` }
    }
    for (const struct of update.structs) {
      if (struct.kind === 'skip') return { kind: 'reject', code: 'E_UPDATE_MALFORMED', reason: 'the update has a gap (skip struct)' }
      if (struct.content === 'doc') return { kind: 'reject', code: 'E_UPDATE_MALFORMED', reason: 'subdocuments are not allowed' }
    }
    // Clocks: the update continues each client it writes exactly.
    for (const [client, range] of update.ranges) {
      const state = Y.getState(this.#doc.store, client)
      if (range.start !== state) return { kind: 'reject', code: 'E_CLOCK', reason: `client ${client} is at clock ${state}; the update starts at ${range.start}` }
    }
    // Dependencies: everything referenced exists, here or earlier in the update.
    const present = (client: number, clock: number): boolean => {
      const range = update.ranges.get(client)
      return clock < Y.getState(this.#doc.store, client) || (range !== undefined && clock >= range.start && clock < range.end)
    }
    for (const struct of update.structs) {
      for (const dep of struct.deps) {
        if (!present(dep.client, dep.clock)) return { kind: 'wait', on: dep, what: `struct ${dep.client}:${dep.clock}` }
      }
    }
    for (const del of update.deletes) {
      const last = { client: del.client, clock: del.clock + del.length - 1 }
      if (!present(last.client, last.clock)) return { kind: 'wait', on: last, what: `struct ${last.client}:${last.clock}` }
    }
    const forbidden = this.#forbiddenDelete(c) ?? this.#forbiddenReplace(c)
    if (forbidden) return { kind: 'reject', code: 'E_FORBIDDEN_DELETE', reason: forbidden }
    return { kind: 'apply' }
  }

  /**
   * A map entry written where one already is replaces it without any delete set: Yjs drops the
   * older entry while integrating. At the root of a document (records, acts, the manifest's
   * shards) that would be an anonymous deletion, so the delete rule is asked about it too;
   * writing a plain value equal to the current one changes nothing and is always allowed.
   */
  #forbiddenReplace(c: Checked): string | undefined {
    for (const struct of c.update.structs) {
      if (struct.kind !== 'item' || struct.parentSub === undefined) continue
      if (struct.clock < Y.getState(this.#doc.store, struct.client)) continue // already here: a checkpoint's overlap
      const root = this.#rootOf(c, struct)
      if (root === undefined) continue
      const type = this.#doc.share.get(root)
      const current = type?._map.get(struct.parentSub)
      if (!current || current.deleted) continue
      if (current.content instanceof Y.ContentAny && struct.values !== undefined && sameValues(current.content.arr, struct.values)) continue
      const target: DeleteTarget = { root, depth: 0, key: struct.parentSub, ownItem: this.#ownClient(c, current.id.client) }
      if (!this.#deleteRule(target, c.envelope.author)) return `replaces ${root}[${struct.parentSub}]`
    }
    return undefined
  }

  /** The root type a map entry of the update sits in directly, or `undefined` when it is nested. */
  #rootOf(c: Checked, struct: InspectedUpdate['structs'][number]): string | undefined {
    for (let s: InspectedUpdate['structs'][number] | undefined = struct, hops = 0; s && hops < 10_000; hops++) {
      if (s.rootKey !== undefined) return s.rootKey
      if (s.parentId !== undefined || s.origin === undefined) return undefined
      const origin: StructId = s.origin
      if (c.update.ranges.has(origin.client) && origin.clock >= Y.getState(this.#doc.store, origin.client)) {
        s = structAt(c.update, origin.client, origin.clock)
        continue
      }
      const held = this.#groupStruct(origin.client, origin.clock)
      if (held) {
        s = held.struct
        continue
      }
      const item = Y.getItem(this.#doc.store, Y.createID(origin.client, origin.clock))
      if (!(item instanceof Y.Item)) return undefined
      const parent = item.parent as Y.AbstractType<unknown>
      return parent._item === null ? Y.findRootTypeKey(parent) : undefined
    }
    return undefined
  }

  /** The first deletion the rule refuses, described; `undefined` when every deletion is allowed. */
  #forbiddenDelete(c: Checked): string | undefined {
    const store = this.#doc.store
    for (const del of c.update.deletes) {
      for (let clock = del.clock; clock < del.clock + del.length; ) {
        let target: DeleteTarget
        let length = 1
        if (c.update.ranges.has(del.client) && Y.getState(store, del.client) <= clock) {
          // An item written by this very update: find it among the update's structs.
          const struct = structAt(c.update, del.client, clock)
          length = struct ? struct.clock + struct.length - clock : 1
          target = { root: struct?.rootKey ?? '', depth: struct?.rootKey === undefined ? 1 : 0, key: struct?.parentSub, ownItem: true }
        } else if (this.#groupStruct(del.client, clock) !== undefined) {
          // An item written by another envelope of the group being applied (see `#settleGroups`).
          const { struct, writer } = this.#groupStruct(del.client, clock) as { struct: InspectedStruct; writer: Checked }
          length = struct.clock + struct.length - clock
          target = { root: struct.rootKey ?? '', depth: struct.rootKey === undefined ? 1 : 0, key: struct.parentSub, ownItem: writer.sessionKey === c.sessionKey }
        } else {
          const item = Y.getItem(store, Y.createID(del.client, clock))
          length = item.id.clock + item.length - clock
          if (!(item instanceof Y.Item)) {
            clock += length
            continue // already garbage-collected: deleting it again changes nothing
          }
          target = locate(item, this.#ownClient(c, del.client))
        }
        if (!this.#deleteRule(target, c.envelope.author)) {
          return `deletes ${del.client}:${clock} in ${target.root}${target.key === undefined ? '' : `[${target.key}]`} at depth ${target.depth}`
        }
        clock += Math.max(1, length)
      }
    }
    return undefined
  }

  /** Whether items under `client` are the writer's own: its session's, or those of an identity it vouches for here. */
  #ownClient(c: Checked, client: number): boolean {
    if (client === c.client) return true
    const owner = this.#owners.get(client)
    return owner !== undefined && (owner === c.sessionKey || [...c.vouched.values()].includes(owner))
  }

  #apply(c: Checked): void {
    this.#origins.add(c.envelope)
    Y.applyUpdate(this.#doc, c.envelope.update, c.envelope)
    this.#claim(c.client, c.sessionKey, c.vouched)
    this.#extendChain(c.sessionKey, c.envelope, c.hash, c.bytes)
  }

  #extendChain(key: string, envelope: Envelope, hash: string, bytes: Uint8Array): void {
    let chain = this.#chains.get(key)
    if (!chain) this.#chains.set(key, (chain = { author: envelope.author, session: toHex(envelope.session), hashes: [] }))
    const checkpoint = envelope.checkpoint
    if (checkpoint !== undefined) {
      // The head moves to its last; what lies between stays unknown, except the hash its prev names.
      const { from } = checkpoint
      if (from > 1 && from - 1 <= chain.hashes.length && chain.hashes[from - 2] === undefined) chain.hashes[from - 2] = toHex(envelope.prev)
      if (envelope.seq > chain.hashes.length) {
        chain.hashes.length = envelope.seq
        chain.hashes[envelope.seq - 1] = toHex(checkpoint.last)
      }
      // A checkpoint contained in another is of no more use here: forget its bytes too.
      const held: Array<{ readonly from: number; readonly seq: number; readonly hash: string }> = []
      for (const c of this.#checkpoints.get(key) ?? []) {
        if (c.from >= from && c.seq <= envelope.seq) this.#applied.delete(c.hash)
        else held.push(c)
      }
      if (!held.some((c) => c.from <= from && c.seq >= envelope.seq)) held.push({ from, seq: envelope.seq, hash })
      this.#checkpoints.set(key, held)
    } else if (chain.hashes.length + 1 === envelope.seq) chain.hashes.push(hash)
    this.#applied.set(hash, bytes)
    this.#changed = true
  }

  #wait(c: Checked, on: WaitFor, what: string): GuardOutcome {
    // Kept on its own: a view into a larger message would keep the whole message alive while it waits.
    const w: Waiting = { bytes: c.bytes.byteLength === c.bytes.buffer.byteLength ? c.bytes : c.bytes.slice(), hash: c.hash, peer: c.peer, client: c.client, checkpoint: c.envelope.checkpoint !== undefined }
    if ((this.#pendingByPeer.get(c.peer) ?? 0) >= this.#limits.pendingPerPeer) {
      return this.#reject(c.peer, c.hash, c.bytes, 'E_PENDING_FULL', `waiting for ${what}, but ${c.peer} already has ${this.#limits.pendingPerPeer} envelopes waiting`)
    }
    if (this.#pendingHashes.size >= this.#limits.pendingCount || this.#pendingBytes + c.bytes.length > this.#limits.pendingBytes) {
      return this.#reject(c.peer, c.hash, c.bytes, 'E_PENDING_FULL', `waiting for ${what}, but the pending queue is full`)
    }
    if ('session' in on) {
      const key = `${on.session} ${on.seq}`
      let list = this.#waiting.get(key)
      if (!list) this.#waiting.set(key, (list = []))
      list.push(w)
    } else {
      let list = this.#waitingOnClient.get(on.client)
      if (!list) this.#waitingOnClient.set(on.client, (list = []))
      list.push({ clock: on.clock, envelope: w })
    }
    this.#pendingHashes.add(c.hash)
    this.#pendingBytes += c.bytes.length
    this.#pendingByPeer.set(c.peer, (this.#pendingByPeer.get(c.peer) ?? 0) + 1)
    if (w.checkpoint) this.#pendingCheckpoints++
    this.#changed = true
    return { status: 'pending', hash: c.hash, waitingFor: what }
  }

  /** Takes an envelope out of the waiting counts (the caller takes it out of the queue). */
  #forget(w: Waiting): void {
    this.#pendingHashes.delete(w.hash)
    this.#pendingBytes -= w.bytes.length
    const left = (this.#pendingByPeer.get(w.peer) ?? 1) - 1
    if (left > 0) this.#pendingByPeer.set(w.peer, left)
    else this.#pendingByPeer.delete(w.peer)
    if (w.checkpoint) this.#pendingCheckpoints--
  }

  /**
   * A waiting envelope read again from its bytes. They passed decoding, the signature check and
   * the update's inspection when they arrived; only the fields and the inspection are redone.
   */
  #reread(w: Waiting): Checked {
    const envelope = readAcceptedEnvelope(w.bytes) as Envelope
    const { update } = inspectUpdate(envelope.update, this.#limits.update) as Extract<ReturnType<typeof inspectUpdate>, { ok: true }>
    return { envelope, hash: w.hash, bytes: w.bytes, peer: w.peer, sessionKey: sessionKeyOf(envelope.author, envelope.session), client: w.client, vouched: vouchedOf(envelope), update }
  }

  /** Applies, transitively, the waiting envelopes that `applied` unblocks. */
  #release(applied: Checked): string[] {
    const released: string[] = []
    const stack: Checked[] = [applied]
    while (stack.length > 0) {
      const done = stack.pop() as Checked
      const woken: Waiting[] = []
      // A checkpoint brings its session to its last envelope at once: wake whoever waited for any of them.
      for (let seq = done.envelope.checkpoint?.from ?? done.envelope.seq; seq <= done.envelope.seq; seq++) {
        const chainKey = `${done.sessionKey} ${seq}`
        const waiters = this.#waiting.get(chainKey)
        if (waiters === undefined) continue
        woken.push(...waiters)
        this.#waiting.delete(chainKey)
      }
      // Every client the envelope wrote (its session's, and those it vouched for) wakes its waiters.
      for (const [client, range] of done.update.ranges) {
        const onClient = this.#waitingOnClient.get(client)
        if (!onClient) continue
        const still = onClient.filter((w) => w.clock >= range.end)
        for (const w of onClient) if (w.clock < range.end) woken.push(w.envelope)
        if (still.length > 0) this.#waitingOnClient.set(client, still)
        else this.#waitingOnClient.delete(client)
      }
      for (const waiting of woken) {
        this.#forget(waiting)
        const w = this.#reread(waiting)
        const verdict = this.#judge(w)
        if (verdict.kind === 'apply') {
          this.#apply(w)
          released.push(w.hash)
          stack.push(w)
        } else if (verdict.kind === 'keep') {
          this.#extendChain(w.sessionKey, w.envelope, w.hash, w.bytes)
          released.push(w.hash)
        } else if (verdict.kind === 'covered') {
          // Its content came with a checkpoint meanwhile: nothing to do.
        } else if (verdict.kind === 'wait') {
          this.#wait(w, verdict.on, verdict.what)
        } else {
          this.#reject(w.peer, w.hash, w.bytes, verdict.code, verdict.reason, verdict.conflictsWith)
        }
      }
    }
    return released
  }

  // ---- checkpoints ----

  /** What the guard knows of a session's chain. */
  #chainView(key: string): ChainView {
    const hashes = this.#chains.get(key)?.hashes ?? []
    return { head: hashes.length, hashAt: (seq) => (seq === 0 ? '' : hashes[seq - 1]) }
  }

  /**
   * The checks of a checkpoint (see `checkpoint-checks`): it links into its session's chain on
   * both ends; every struct is under the session's own client (it vouches for nobody), the
   * structs the document already holds included; its clocks start where its first envelope
   * started and leave no gap; every dependency is present; every deletion is allowed. A
   * checkpoint the document already holds the content of is kept, not applied.
   */
  #judgeCheckpoint(c: Checked): Verdict {
    const { envelope, update } = c
    const checkpoint = envelope.checkpoint as NonNullable<Envelope['checkpoint']>
    if (c.vouched.size > 0) return { kind: 'reject', code: 'E_UPDATE_MALFORMED', reason: 'a checkpoint cannot vouch for other clients' }
    const link = { from: checkpoint.from, seq: envelope.seq, prev: toHex(envelope.prev), last: toHex(checkpoint.last) }
    const chain = this.#chainView(c.sessionKey)
    const linked = linkCheckpoint(link, chain)
    if (linked.kind === 'wait') return { kind: 'wait', on: { session: c.sessionKey, seq: linked.seq }, what: `envelope #${linked.seq} of its session` }
    if (linked.kind === 'reject' || linked.kind === 'covered') return linked
    const owner = this.#owners.get(c.client)
    if (owner !== undefined && owner !== c.sessionKey) return { kind: 'reject', code: 'E_FORGED_CLIENT', reason: `client ${c.client} belongs to another session` }
    for (const client of update.ranges.keys()) {
      if (client !== c.client) return { kind: 'reject', code: 'E_FORGED_CLIENT', reason: `writes under client ${client}, not its own ${c.client}` }
    }
    for (const struct of update.structs) {
      if (struct.kind === 'skip') return { kind: 'reject', code: 'E_UPDATE_MALFORMED', reason: 'the update has a gap (skip struct)' }
      if (struct.content === 'doc') return { kind: 'reject', code: 'E_UPDATE_MALFORMED', reason: 'subdocuments are not allowed' }
    }
    const range = update.ranges.get(c.client)
    const clock = checkpointClockProblem(link, chain.head, Y.getState(this.#doc.store, c.client), range)
    if (clock !== undefined) return { kind: 'reject', code: 'E_CLOCK', reason: clock }
    // Holding the envelopes it merges (up to the head), compare: the author cannot say two things.
    const held = this.#heldUpdates(c.sessionKey, checkpoint.from, Math.min(envelope.seq, chain.head))
    const content = held === undefined ? undefined : checkpointContentProblem(envelope.update, held, chain.head >= envelope.seq)
    if (content !== undefined) return { kind: 'reject', code: 'E_EQUIVOCATION', reason: `it says something else than the envelopes it merges: ${content}` }
    const store = this.#doc.store
    const present = (client: number, at: number): boolean => at < Y.getState(store, client) || (client === c.client && range !== undefined && at >= range.start && at < range.end)
    for (const struct of update.structs) {
      for (const dep of struct.deps) if (!present(dep.client, dep.clock)) return { kind: 'wait', on: dep, what: `struct ${dep.client}:${dep.clock}` }
    }
    for (const del of update.deletes) {
      const last = { client: del.client, clock: del.clock + del.length - 1 }
      if (!present(last.client, last.clock)) return { kind: 'wait', on: last, what: `struct ${last.client}:${last.clock}` }
    }
    const forbidden = this.#forbiddenDelete(c) ?? this.#forbiddenReplace(c)
    if (forbidden) return { kind: 'reject', code: 'E_FORBIDDEN_DELETE', reason: forbidden }
    return linked.kind === 'known' ? { kind: 'keep' } : { kind: 'apply' }
  }

  /**
   * The updates that make up a session's envelopes `from`..`to` when this guard holds all of it
   * (none when `to < from`): a checkpoint it holds from `from` (the longest within `to`), then
   * the envelopes after it, so that comparing a session's successive checkpoints stays cheap.
   */
  #heldUpdates(key: string, from: number, to: number): Uint8Array[] | undefined {
    if (to < from) return undefined
    const hashes = this.#chains.get(key)?.hashes ?? []
    const checkpoints = this.#checkpoints.get(key) ?? []
    const updates: Uint8Array[] = []
    for (let seq = from; seq <= to; seq++) {
      const merged = checkpoints.filter((c) => c.from === seq && c.seq <= to).sort((a, b) => b.seq - a.seq)[0]
      const hash = merged?.hash ?? hashes[seq - 1]
      if (merged) seq = merged.seq
      const bytes = hash === undefined ? undefined : this.#applied.get(hash)
      const update = bytes === undefined ? undefined : updateOf(bytes)
      if (update === undefined) return undefined
      updates.push(update)
    }
    return updates
  }

  /**
   * Applies the waiting envelopes that wait only on each other (see `closedGroup`). Only
   * checkpoints make such cycles, so this runs while one waits: when a checkpoint arrives, when
   * the waiting queue is full, and once the queue of `receive` calls drains if something waited
   * or was applied since the last look. A batch of envelopes (a sync message, a bundle) costs a
   * look per checkpoint, not one per envelope: in log order, whatever a checkpoint needs arrived
   * before it. What a group applies is reported as released by this call's outcome when it can be
   * (the envelope is applied, or was itself in the group), else by {@link IngressGuard.takeReleased}.
   */
  #settleGroups(outcome: GuardOutcome): GuardOutcome {
    if (this.#pendingCheckpoints === 0 || !this.#changed) return outcome
    const released = this.#applyGroups()
    if (released.length === 0) return outcome
    if (outcome.status === 'applied') return { ...outcome, released: [...outcome.released, ...released] }
    if (outcome.status === 'pending' && released.includes(outcome.hash)) return { status: 'applied', hash: outcome.hash, released: released.filter((h) => h !== outcome.hash) }
    this.#unreported.push(...released)
    return outcome
  }

  /** Applies every group that closes, one after the other; returns the hashes applied (the groups' and what they released). */
  #applyGroups(): string[] {
    const released: string[] = []
    for (let group = this.#closedGroup(); group.length > 0; group = this.#closedGroup()) released.push(...this.#applyGroup(group))
    this.#changed = false
    return released
  }

  /** Whether the waiting queue has no room for one more envelope from this peer (see `#wait`). */
  #queueFull(c: Checked): boolean {
    return (
      (this.#pendingByPeer.get(c.peer) ?? 0) >= this.#limits.pendingPerPeer ||
      this.#pendingHashes.size >= this.#limits.pendingCount ||
      this.#pendingBytes + c.bytes.length > this.#limits.pendingBytes
    )
  }

  /** The largest group of waiting envelopes that applies together, read again and checked: members the delete rule refuses are quarantined. */
  #closedGroup(): Array<{ readonly waiting: Waiting; readonly checked: Checked }> {
    const waiting: Array<GroupMember & { readonly waiting: Waiting }> = []
    for (const list of this.#waiting.values()) for (const w of list) waiting.push(this.#member(w))
    for (const list of this.#waitingOnClient.values()) for (const w of list) waiting.push(this.#member(w.envelope))
    for (;;) {
      const closed = closedGroup(waiting, { chain: (key) => this.#chainView(key), state: (client) => Y.getState(this.#doc.store, client) })
      const group = closed.map((m) => ({ waiting: m.waiting, checked: this.#reread(m.waiting) }))
      if (group.length === 0) return group
      const refused = this.#refusedInGroup(group.map((m) => m.checked))
      if (refused === undefined) return group
      const member = group.find((m) => m.checked === refused.member) as { readonly waiting: Waiting }
      this.#unqueue(new Set([member.waiting]))
      this.#reject(refused.member.peer, refused.member.hash, refused.member.bytes, 'E_FORBIDDEN_DELETE', refused.reason)
      waiting.splice(waiting.findIndex((m) => m.waiting === member.waiting), 1)
    }
  }

  /** How `closedGroup` sees a waiting envelope: computed once (reading it again), and small. */
  #member(w: Waiting): GroupMember & { readonly waiting: Waiting } {
    const known = this.#members.get(w)
    if (known !== undefined) return known
    const c = this.#reread(w)
    const needs = new Map<number, number>()
    const need = (client: number, clock: number): void => {
      if (clock > (needs.get(client) ?? -1)) needs.set(client, clock)
    }
    for (const struct of c.update.structs) for (const dep of struct.deps) need(dep.client, dep.clock)
    for (const del of c.update.deletes) need(del.client, del.clock + del.length - 1)
    const { envelope } = c
    const member = {
      waiting: w,
      sessionKey: c.sessionKey,
      client: c.client,
      seq: envelope.seq,
      hash: c.hash,
      prev: toHex(envelope.prev),
      checkpoint: envelope.checkpoint === undefined ? undefined : { from: envelope.checkpoint.from, last: toHex(envelope.checkpoint.last) },
      ranges: c.update.ranges,
      needs,
    }
    this.#members.set(w, member)
    return member
  }

  /** The first member of a group whose deletions (or root entries) the delete rule refuses, with the refusal. */
  #refusedInGroup(group: readonly Checked[]): { member: Checked; reason: string } | undefined {
    const byClient = new Map<number, Array<{ readonly struct: InspectedStruct; readonly writer: Checked }>>()
    for (const writer of group) {
      for (const struct of writer.update.structs) {
        let list = byClient.get(struct.client)
        if (!list) byClient.set(struct.client, (list = []))
        list.push({ struct, writer })
      }
    }
    for (const list of byClient.values()) list.sort((a, b) => a.struct.clock - b.struct.clock)
    this.#group = byClient
    try {
      // Root entries the group writes, by root and key, with the sessions that write them.
      const entries = new Map<string, Set<string>>()
      const rootEntries = (member: Checked): Array<{ root: string; key: string }> => {
        const out: Array<{ root: string; key: string }> = []
        for (const struct of member.update.structs) {
          if (struct.kind !== 'item' || struct.parentSub === undefined || struct.clock < Y.getState(this.#doc.store, struct.client)) continue
          const root = this.#rootOf(member, struct)
          if (root !== undefined) out.push({ root, key: struct.parentSub })
        }
        return out
      }
      const written = new Map(group.map((member) => [member, rootEntries(member)]))
      for (const [member, list] of written) {
        for (const { root, key } of list) {
          let writers = entries.get(`${root}\n${key}`)
          if (!writers) entries.set(`${root}\n${key}`, (writers = new Set()))
          writers.add(member.sessionKey)
        }
      }
      for (const member of group) {
        const forbidden = this.#forbiddenDelete(member) ?? this.#forbiddenReplace(member)
        if (forbidden !== undefined) return { member, reason: forbidden }
        // Two sessions of the group writing one root entry: one replaces the other (the document holds neither yet).
        for (const { root, key } of written.get(member) ?? []) {
          const others = [...(entries.get(`${root}\n${key}`) ?? [])].some((writer) => writer !== member.sessionKey)
          if (others && !this.#deleteRule({ root, depth: 0, key, ownItem: false }, member.envelope.author)) return { member, reason: `replaces ${root}[${key}]` }
        }
      }
      return undefined
    } finally {
      this.#group = undefined
    }
  }

  /** The struct at `client:clock` written by a member of the group being checked (only beyond the document's clock). */
  #groupStruct(client: number, clock: number): { struct: InspectedStruct; writer: Checked } | undefined {
    if (this.#group === undefined || clock < Y.getState(this.#doc.store, client)) return undefined
    const list = this.#group.get(client) ?? []
    // The last struct starting at or before `clock` (binary search).
    let low = 0
    let high = list.length - 1
    while (low < high) {
      const middle = (low + high + 1) >> 1
      if ((list[middle] as { struct: InspectedStruct }).struct.clock <= clock) low = middle
      else high = middle - 1
    }
    // Usually the first one looked at; a checkpoint's long struct may start before shorter ones it overlaps.
    for (let i = low; i >= 0; i--) {
      const found = list[i] as { readonly struct: InspectedStruct; readonly writer: Checked }
      if (found.struct.clock <= clock && clock < found.struct.clock + found.struct.length) return found
    }
    return undefined
  }

  /** Applies a checked group as one update (Yjs integrates its members in whatever order their structs need), then what it releases. */
  #applyGroup(members: ReadonlyArray<{ readonly waiting: Waiting; readonly checked: Checked }>): string[] {
    this.#unqueue(new Set(members.map((m) => m.waiting)))
    const group = members.map((m) => m.checked)
    const origin = group.map((c) => c.envelope)
    this.#origins.add(origin)
    Y.applyUpdate(this.#doc, Y.mergeUpdates(group.map((c) => c.envelope.update)), origin)
    for (const c of group) {
      this.#claim(c.client, c.sessionKey, c.vouched)
      this.#extendChain(c.sessionKey, c.envelope, c.hash, c.bytes)
    }
    const released = group.map((c) => c.hash)
    for (const c of group) released.push(...this.#release(c))
    return released
  }

  /** Takes waiting envelopes out of the queue. */
  #unqueue(members: ReadonlySet<Waiting>): void {
    for (const [key, list] of this.#waiting) {
      const still = list.filter((w) => !members.has(w))
      if (still.length === list.length) continue
      if (still.length > 0) this.#waiting.set(key, still)
      else this.#waiting.delete(key)
    }
    for (const [client, list] of this.#waitingOnClient) {
      const still = list.filter((w) => !members.has(w.envelope))
      if (still.length === list.length) continue
      if (still.length > 0) this.#waitingOnClient.set(client, still)
      else this.#waitingOnClient.delete(client)
    }
    for (const member of members) this.#forget(member)
  }


  #reject(peer: string, hash: string | undefined, bytes: Uint8Array, code: GuardRejectionCode, reason: string, conflictsWith?: string): GuardOutcome {
    const conflicting = conflictsWith === undefined ? undefined : this.#appliedBytes?.(conflictsWith)
    this.#quarantine.push(conflictsWith === undefined ? { peer, hash, code, reason, bytes } : conflicting === undefined ? { peer, hash, code, reason, bytes, conflictsWith } : { peer, hash, code, reason, bytes, conflictsWith, conflicting })
    if (this.#quarantine.length > this.#limits.quarantine) this.#quarantine.shift()
    return { status: 'rejected', hash, code, reason }
  }
}

function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false
  try {
    return a.every((v, i) => canonicalJson(v) === canonicalJson(b[i]))
  } catch {
    return false
  }
}

function checkedOf(envelope: Envelope, hash: string, bytes: Uint8Array, peer: string, update: InspectedUpdate): Checked {
  return {
    envelope,
    hash,
    bytes,
    peer,
    sessionKey: sessionKeyOf(envelope.author, envelope.session),
    client: sessionClientId(envelope.author, envelope.session),
    vouched: vouchedOf(envelope),
    update,
  }
}

/** The update of an envelope this guard already decoded once (read without checking it again). */
function updateOf(bytes: Uint8Array): Uint8Array | undefined {
  try {
    const decoder = decoding.createDecoder(bytes)
    decoding.readVarUint(decoder) // version
    decoding.readVarString(decoder) // doc
    decoding.readVarString(decoder) // author
    decoding.readVarUint8Array(decoder) // session
    decoding.readVarUint(decoder) // seq
    decoding.readVarUint8Array(decoder) // prev
    return decoding.readVarUint8Array(decoder)
  } catch {
    return undefined
  }
}

/** The struct of an update that covers `client:clock`. */
function structAt(update: InspectedUpdate, client: number, clock: number): InspectedStruct | undefined {
  return update.structs.find((s) => s.client === client && clock >= s.clock && clock < s.clock + s.length)
}

/** Where an existing item sits: its root type, its depth below it, its map key. */
function locate(item: Y.Item, ownItem: boolean): DeleteTarget {
  let depth = 0
  let type = item.parent as Y.AbstractType<unknown>
  while (type._item !== null) {
    depth++
    type = type._item.parent as Y.AbstractType<unknown>
  }
  return { root: Y.findRootTypeKey(type), depth, key: item.parentSub ?? undefined, ownItem }
}
