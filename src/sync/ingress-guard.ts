/**
 * The ingress guard: every envelope from outside passes it before Yjs sees a byte.
 *
 * In order: size; canonical decoding; the document it was signed for; duplicates; signature;
 * the session's hash chain (sequence and previous hash); a complete, bounded V1 reading of the
 * update; every struct under the client id derived from the signer's session; clocks continuing
 * that client exactly; every dependency present (else the envelope waits); every deletion allowed
 * by the document's rule. Only then is the update applied, in one transaction whose origin is the
 * envelope. A refused envelope changes nothing, fires no event, and is kept in quarantine with
 * its code.
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
 * @module
 */
import * as Y from 'yjs'
import { toHex } from '../encoding/canonical'
import { decodeEnvelope, defaultEnvelopeLimits, sessionClientId, type Envelope, type EnvelopeLimits } from './envelope-codec'
import { verifyEnvelopeSignature, type SignatureCheck } from './envelope-signing'
import { civicDeleteRule, type DeleteRule, type DeleteTarget } from './delete-rules'
import { canonicalJson } from '../encoding/canonical'
import { defaultInspectLimits, inspectUpdate, type InspectedUpdate, type InspectLimits, type StructId } from './update-inspector'

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
}

interface Checked {
  readonly envelope: Envelope
  readonly hash: string
  readonly bytes: Uint8Array
  readonly peer: string
  readonly sessionKey: string
  readonly client: number
  readonly update: InspectedUpdate
}

type Verdict =
  | { readonly kind: 'apply' }
  | { readonly kind: 'wait'; readonly on: WaitFor; readonly what: string }
  | { readonly kind: 'reject'; readonly code: GuardRejectionCode; readonly reason: string }

/** What a waiting envelope waits for: its session's previous envelope, or a struct of a client. */
type WaitFor = { readonly session: string; readonly seq: number } | StructId

function sessionKeyOf(author: string, session: Uint8Array): string {
  return `${author} ${toHex(session)}`
}

/** Guards one document. */
export class IngressGuard {
  readonly #doc: Y.Doc
  readonly #docId: string
  readonly #check: SignatureCheck
  readonly #deleteRule: DeleteRule
  readonly #limits: GuardLimits
  /** Session → the hash of every applied envelope, by sequence number (index seq - 1). */
  readonly #chains = new Map<string, { author: string; session: string; hashes: string[] }>()
  /** Client id → the session that owns it. */
  readonly #owners = new Map<number, string>()
  readonly #applied = new Map<string, Uint8Array>()
  /** A waited-for predecessor (`<session> <seq>`) → the envelopes waiting for it. */
  readonly #waiting = new Map<string, Checked[]>()
  /** A client → the envelopes waiting for one of its clocks. */
  readonly #waitingOnClient = new Map<number, Array<{ readonly clock: number; readonly envelope: Checked }>>()
  readonly #pendingHashes = new Set<string>()
  #pendingBytes = 0
  readonly #pendingByPeer = new Map<string, number>()
  readonly #quarantine: QuarantineEntry[] = []
  #queue: Promise<unknown> = Promise.resolve()

  /** @param options - the document, its id, the signature check, the delete rule and limits */
  constructor(options: IngressGuardOptions) {
    this.#doc = options.doc
    this.#docId = options.docId
    this.#check = options.check
    this.#deleteRule = options.deleteRule ?? civicDeleteRule
    this.#limits = { ...defaultGuardLimits, ...options.limits }
  }

  /**
   * Checks an envelope received from `peer` and applies it when every check passes. Never
   * throws for bad input. Calls are processed one at a time, in call order.
   */
  receive(bytes: Uint8Array, peer: string): Promise<GuardOutcome> {
    const run = this.#queue.then(() => this.#receive(bytes, peer))
    this.#queue = run.catch(() => undefined)
    return run
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
    this.#owners.set(sessionClientId(envelope.author, envelope.session), key)
    this.#extendChain(key, envelope, hash, bytes)
  }

  /** The latest envelope of every session this document has applied. */
  heads(): SessionHead[] {
    return [...this.#chains.values()].map((c) => ({ author: c.author, session: c.session, seq: c.hashes.length, hash: c.hashes[c.hashes.length - 1] as string }))
  }

  /** The applied envelopes of a session after sequence number `after` (for peers that lack them). */
  envelopesAfter(author: string, sessionHex: string, after: number): Uint8Array[] {
    const chain = this.#chains.get(`${author} ${sessionHex}`)
    if (!chain) return []
    return chain.hashes.slice(after).map((h) => this.#applied.get(h) as Uint8Array)
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
    const checked: Checked = {
      envelope,
      hash,
      bytes,
      peer,
      sessionKey: sessionKeyOf(envelope.author, envelope.session),
      client: sessionClientId(envelope.author, envelope.session),
      update: inspected.update,
    }
    const verdict = this.#judge(checked)
    if (verdict.kind === 'reject') return this.#reject(peer, hash, bytes, verdict.code, verdict.reason)
    if (verdict.kind === 'wait') return this.#wait(checked, verdict.on, verdict.what)
    this.#apply(checked)
    return { status: 'applied', hash, released: this.#release(checked) }
  }

  /** The checks that depend on the document's state; re-run when a waiting envelope is released. */
  #judge(c: Checked): Verdict {
    const { envelope, update } = c
    // The session's chain: strictly the next sequence number, linked to the previous envelope.
    const chain = this.#chains.get(c.sessionKey)
    const length = chain?.hashes.length ?? 0
    if (envelope.seq <= length) {
      return { kind: 'reject', code: 'E_EQUIVOCATION', reason: `a different envelope #${envelope.seq} of this session was already applied` }
    }
    if (envelope.seq > length + 1) return { kind: 'wait', on: { session: c.sessionKey, seq: envelope.seq - 1 }, what: `envelope #${envelope.seq - 1} of its session` }
    const prev = envelope.seq === 1 ? '' : toHex(envelope.prev)
    if (envelope.seq > 1 && prev !== chain?.hashes[length - 1]) {
      return { kind: 'reject', code: 'E_CHAIN', reason: 'prev does not name the session\'s previous envelope' }
    }
    // Authorship: every struct under the client id derived from the signer's session.
    const owner = this.#owners.get(c.client)
    if (owner !== undefined && owner !== c.sessionKey) return { kind: 'reject', code: 'E_FORGED_CLIENT', reason: `client ${c.client} belongs to another session` }
    for (const client of update.ranges.keys()) {
      if (client !== c.client) return { kind: 'reject', code: 'E_FORGED_CLIENT', reason: `writes under client ${client}, not its own ${c.client}` }
    }
    for (const struct of update.structs) {
      if (struct.kind === 'skip') return { kind: 'reject', code: 'E_UPDATE_MALFORMED', reason: 'the update has a gap (skip struct)' }
      if (struct.content === 'doc') return { kind: 'reject', code: 'E_UPDATE_MALFORMED', reason: 'subdocuments are not allowed' }
    }
    // Clocks: the update continues the client exactly.
    const state = Y.getState(this.#doc.store, c.client)
    const range = update.ranges.get(c.client)
    if (range && range.start !== state) {
      return { kind: 'reject', code: 'E_CLOCK', reason: `client ${c.client} is at clock ${state}; the update starts at ${range.start}` }
    }
    // Dependencies: everything referenced exists, here or earlier in the update.
    const present = (client: number, clock: number): boolean =>
      clock < Y.getState(this.#doc.store, client) || (client === c.client && range !== undefined && clock >= range.start && clock < range.end)
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
      const root = this.#rootOf(c, struct)
      if (root === undefined) continue
      const type = this.#doc.share.get(root)
      const current = type?._map.get(struct.parentSub)
      if (!current || current.deleted) continue
      if (current.content instanceof Y.ContentAny && struct.values !== undefined && sameValues(current.content.arr, struct.values)) continue
      const target: DeleteTarget = { root, depth: 0, key: struct.parentSub, ownItem: this.#owners.get(current.id.client) === c.sessionKey }
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
      if (origin.client === c.client && origin.clock >= Y.getState(this.#doc.store, c.client)) {
        s = c.update.structs.find((x) => origin.clock >= x.clock && origin.clock < x.clock + x.length)
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
    const own = (client: number): boolean => this.#owners.get(client) === c.sessionKey || client === c.client
    for (const del of c.update.deletes) {
      for (let clock = del.clock; clock < del.clock + del.length; ) {
        let target: DeleteTarget
        let length = 1
        if (del.client === c.client && Y.getState(store, del.client) <= clock) {
          // An item written by this very update: find it among the update's structs.
          const struct = c.update.structs.find((s) => clock >= s.clock && clock < s.clock + s.length)
          length = struct ? struct.clock + struct.length - clock : 1
          target = { root: struct?.rootKey ?? '', depth: struct?.rootKey === undefined ? 1 : 0, key: struct?.parentSub, ownItem: true }
        } else {
          const item = Y.getItem(store, Y.createID(del.client, clock))
          length = item.id.clock + item.length - clock
          if (!(item instanceof Y.Item)) {
            clock += length
            continue // already garbage-collected: deleting it again changes nothing
          }
          target = locate(item, own(del.client))
        }
        if (!this.#deleteRule(target, c.envelope.author)) {
          return `deletes ${del.client}:${clock} in ${target.root}${target.key === undefined ? '' : `[${target.key}]`} at depth ${target.depth}`
        }
        clock += Math.max(1, length)
      }
    }
    return undefined
  }

  #apply(c: Checked): void {
    Y.applyUpdate(this.#doc, c.envelope.update, c.envelope)
    this.#owners.set(c.client, c.sessionKey)
    this.#extendChain(c.sessionKey, c.envelope, c.hash, c.bytes)
  }

  #extendChain(key: string, envelope: Envelope, hash: string, bytes: Uint8Array): void {
    let chain = this.#chains.get(key)
    if (!chain) this.#chains.set(key, (chain = { author: envelope.author, session: toHex(envelope.session), hashes: [] }))
    if (chain.hashes.length + 1 === envelope.seq) chain.hashes.push(hash)
    this.#applied.set(hash, bytes)
  }

  #wait(c: Checked, on: WaitFor, what: string): GuardOutcome {
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
      list.push(c)
    } else {
      let list = this.#waitingOnClient.get(on.client)
      if (!list) this.#waitingOnClient.set(on.client, (list = []))
      list.push({ clock: on.clock, envelope: c })
    }
    this.#pendingHashes.add(c.hash)
    this.#pendingBytes += c.bytes.length
    this.#pendingByPeer.set(c.peer, (this.#pendingByPeer.get(c.peer) ?? 0) + 1)
    return { status: 'pending', hash: c.hash, waitingFor: what }
  }

  /** Applies, transitively, the waiting envelopes that `applied` unblocks. */
  #release(applied: Checked): string[] {
    const released: string[] = []
    const stack: Checked[] = [applied]
    while (stack.length > 0) {
      const done = stack.pop() as Checked
      const woken: Checked[] = []
      const chainKey = `${done.sessionKey} ${done.envelope.seq}`
      woken.push(...(this.#waiting.get(chainKey) ?? []))
      this.#waiting.delete(chainKey)
      const range = done.update.ranges.get(done.client)
      const onClient = range ? this.#waitingOnClient.get(done.client) : undefined
      if (range && onClient) {
        const still = onClient.filter((w) => w.clock >= range.end)
        for (const w of onClient) if (w.clock < range.end) woken.push(w.envelope)
        if (still.length > 0) this.#waitingOnClient.set(done.client, still)
        else this.#waitingOnClient.delete(done.client)
      }
      for (const w of woken) {
        this.#pendingHashes.delete(w.hash)
        this.#pendingBytes -= w.bytes.length
        const left = (this.#pendingByPeer.get(w.peer) ?? 1) - 1
        if (left > 0) this.#pendingByPeer.set(w.peer, left)
        else this.#pendingByPeer.delete(w.peer)
        const verdict = this.#judge(w)
        if (verdict.kind === 'apply') {
          this.#apply(w)
          released.push(w.hash)
          stack.push(w)
        } else if (verdict.kind === 'wait') {
          this.#wait(w, verdict.on, verdict.what)
        } else {
          this.#reject(w.peer, w.hash, w.bytes, verdict.code, verdict.reason)
        }
      }
    }
    return released
  }

  #reject(peer: string, hash: string | undefined, bytes: Uint8Array, code: GuardRejectionCode, reason: string): GuardOutcome {
    this.#quarantine.push({ peer, hash, code, reason, bytes })
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
