/**
 * What every Byzantine attack helper returns, and the few primitives they share: a named attacker
 * session, an edit made on a copy of a real document under any Yjs client id, and signing.
 *
 * An attack is bytes, exactly as a hostile peer would put them on the wire, plus the answer
 * cabildo gives them. Nothing here touches a victim's replica: send the bytes with a
 * {@link ByzantinePeer} (or any transport) and watch the receiver's engine.
 *
 * ```ts
 * import { sessionClientId } from 'cabildo'
 * import { attackSession, craftUpdate, sealEnvelope } from 'cabildo/testing'
 * const session = attackSession('my-attack')
 * const update = craftUpdate(doc, sessionClientId(mallory.did, session), (d) => d.getMap('notes').set('n', 1))
 * const bytes = await sealEnvelope(mallory.keyPair, { docId: 'city/tickets.2026-11', session, update })
 * ```
 * @module
 */
import * as Y from 'yjs'
import { digest } from 'lib0/hash/sha256'
import { encodeUtf8 } from 'lib0/string'
import { encodeEnvelope, SESSION_BYTES } from '../../sync/envelope-codec'
import { signEnvelope, type EnvelopeSigner } from '../../sync/envelope-signing'
import type { GuardRejectionCode } from '../../sync/ingress-guard'

/** The attacks the helpers craft. */
export type AttackName =
  | 'forged-client'
  | 'censorship-range'
  | 'anonymous-delete'
  | 'truncated-envelope'
  | 'bit-flipped-envelope'
  | 'v2-bomb'
  | 'signed-v2-bomb'
  | 'replayed-envelope'
  | 'equivocation'
  | 'oversized-envelope'
  | 'garbage-message'

/**
 * How cabildo answers an attack:
 * - a guard refusal code: every envelope is refused before Yjs sees it and quarantined with
 *   that code (for `E_EQUIVOCATION`: every envelope of the pair after the first a replica sees);
 * - `strike`: the message is refused by the protocol decoder before any guard; the sender earns
 *   a strike (`malformed` event);
 */
export type AttackAnswer = GuardRejectionCode | 'strike'

/** Envelopes to send inside an `envelopes` message of one document. */
export interface EnvelopeAttack {
  readonly name: AttackName
  /** The document's name in the Space (`tickets.2026-11`): the `doc` of the message that carries them. */
  readonly doc: string
  /** The envelope bytes, in sending order. */
  readonly envelopes: readonly Uint8Array[]
  /** What a cabildo replica answers. */
  readonly expected: AttackAnswer
}

/** A whole sync-protocol message. */
export interface MessageAttack {
  readonly name: 'garbage-message'
  /** The message bytes. */
  readonly message: Uint8Array
  /** Refused by the protocol decoder: a strike. */
  readonly expected: 'strike'
}

/** An attack, as bytes and the expected answer. */
export type Attack = EnvelopeAttack | MessageAttack

/** What every envelope-crafting helper needs: who attacks, which document, as the attacker knows it. */
export interface AttackTarget {
  /** The attacker's real key (an `Identity.keyPair`): every crafted envelope verifies under it. */
  readonly signer: EnvelopeSigner
  /** The Space's id: envelopes are signed for `<spaceId>/<doc>`. */
  readonly spaceId: string
  /** The document's name in the Space (`tickets.2026-11`, `process.pb2027`, `budget.<key>`). */
  readonly doc: string
  /** The document as the attacker holds it (e.g. `ByzantinePeer.mirror(doc)`); never modified. */
  readonly base: Y.Doc
  /** The attacker's session nonce (default: `attackSession(<attack name>)`). */
  readonly session?: Uint8Array
}

/**
 * A 16-byte session nonce named by `label`: the same label always gives the same session, so an
 * attack replays byte for byte, and distinct labels give distinct sessions (each attack can start
 * its own chain at sequence number 1).
 */
export function attackSession(label: string): Uint8Array {
  return digest(encodeUtf8(`cabildo/byzantine/${label}`)).slice(0, SESSION_BYTES)
}

/**
 * The Yjs V1 update a peer whose client id is `clientId` would send after making `edit` on its
 * copy of `base`: `edit` runs in one transaction on a copy, and the update it produced (its
 * structs and its deletions only) is returned. `base` is not modified.
 */
export function craftUpdate(base: Y.Doc, clientId: number, edit: (doc: Y.Doc) => void): Uint8Array {
  const copy = new Y.Doc({ gc: base.gc })
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(base))
  copy.clientID = clientId
  const updates: Uint8Array[] = []
  const off = (update: Uint8Array): void => void updates.push(update)
  copy.on('update', off)
  try {
    copy.transact(() => edit(copy))
  } finally {
    copy.off('update', off)
    copy.destroy()
  }
  return updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates)
}

/** Fields of an envelope to seal; `seq` defaults to 1 and `prev` to empty (a session's first envelope). */
export interface SealOptions {
  /** `<space id>/<doc>`. */
  readonly docId: string
  readonly session: Uint8Array
  readonly update: Uint8Array
  readonly seq?: number
  readonly prev?: Uint8Array
}

/** Signs an envelope as `signer` and returns its canonical bytes: a genuine envelope of the attacker's own. */
export async function sealEnvelope(signer: EnvelopeSigner, options: SealOptions): Promise<Uint8Array> {
  const { docId, session, update, seq = 1, prev = new Uint8Array(0) } = options
  return encodeEnvelope(await signEnvelope(signer, { doc: docId, session, seq, prev, update }))
}
