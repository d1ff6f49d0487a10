/**
 * Attacks on authorship: validly signed envelopes (the attacker's own key, its own session) whose
 * Yjs content claims more than the signer may: writing under a victim's client id, hiding a
 * victim's future edits, deleting others' records, and telling two peers two different stories.
 *
 * ```ts
 * import { forgedClient } from 'cabildo/testing'
 * const attack = await forgedClient({ signer: mallory.keyPair, spaceId: 'city', doc: shard, base: peer.mirror(shard), victimClient, edit: (d) => d.getMap('tickets').set('x', 'forged') })
 * peer.launch(attack) // every replica refuses it: E_FORGED_CLIENT
 * ```
 * @module
 */
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { sessionClientId } from '../../sync/envelope-codec'
import { attackSession, craftUpdate, sealEnvelope, type AttackTarget, type EnvelopeAttack } from './attack'

function sessionOf(target: AttackTarget, name: string): Uint8Array {
  return target.session ?? attackSession(name)
}

/**
 * **Forged client id.** The attacker edits its copy of the document under a victim session's Yjs
 * client id and signs the update with its own key.
 *
 * Plain Yjs applies it: the edit is the victim's as far as anyone can tell, and since the victim
 * never made it, the two sides report equal state vectors with different content, a divergence
 * state-vector sync never repairs. cabildo's guard derives the only client id the signer may
 * write under from its did and session: refused, `E_FORGED_CLIENT`.
 */
export async function forgedClient(target: AttackTarget & {
  /** The victim session's client id (`sessionClientId(victim.did, session)`, or a `Y.Doc`'s `clientID`). */
  readonly victimClient: number
  /** The edit written in the victim's name. */
  readonly edit: (doc: Y.Doc) => void
}): Promise<EnvelopeAttack> {
  const session = sessionOf(target, 'forged-client')
  const update = craftUpdate(target.base, target.victimClient, target.edit)
  return { name: 'forged-client', doc: target.doc, envelopes: [await sealEnvelope(target.signer, { docId: `${target.spaceId}/${target.doc}`, session, update })], expected: 'E_FORGED_CLIENT' }
}

/**
 * **Censorship range.** A tiny update (a dozen bytes) holding one GC struct (a forged "already seen,
 * already garbage-collected" range) for the victim's client, from its next clock on, `length`
 * clocks long.
 *
 * Plain Yjs applies it: every replica then believes it holds the victim's next `length` clocks,
 * and silently drops the victim's future edits as duplicates. cabildo refuses it before reading
 * further: the struct is not under the signer's client, `E_FORGED_CLIENT` (a range longer than
 * the inspector's 8M-clock bound would be `E_UPDATE_MALFORMED`).
 */
export async function censorshipRange(target: AttackTarget & {
  /** The victim session's client id. */
  readonly victimClient: number
  /** How many of the victim's future clocks to claim (default 1,000,000). */
  readonly length?: number
}): Promise<EnvelopeAttack> {
  const session = sessionOf(target, 'censorship-range')
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1) // one client's structs
  encoding.writeVarUint(encoder, 1) // one struct
  encoding.writeVarUint(encoder, target.victimClient)
  encoding.writeVarUint(encoder, Y.getState(target.base.store, target.victimClient)) // from its next clock
  encoding.writeUint8(encoder, 0) // info 0: a GC struct
  encoding.writeVarUint(encoder, target.length ?? 1_000_000)
  encoding.writeVarUint(encoder, 0) // empty delete set
  const update = encoding.toUint8Array(encoder)
  return { name: 'censorship-range', doc: target.doc, envelopes: [await sealEnvelope(target.signer, { docId: `${target.spaceId}/${target.doc}`, session, update })], expected: 'E_FORGED_CLIENT' }
}

/**
 * **Anonymous delete.** An update with no structs, only a delete set naming entries of a root
 * map that others wrote: records of a collection (`tickets`, `proposals`, `budgets`) or signed
 * acts (`acts`).
 *
 * Plain Yjs applies it: the entries vanish everywhere, and the 7-byte delete set says nothing
 * of who deleted them. cabildo asks the document's delete rule about every deleted item first:
 * records and acts are never deleted, `E_FORBIDDEN_DELETE`.
 */
export async function anonymousDelete(target: AttackTarget & {
  /** The root map whose entries are deleted (`acts`, `tickets`, ...). */
  readonly root: string
  /** The keys to delete (default: every key of the map). */
  readonly keys?: readonly string[]
}): Promise<EnvelopeAttack> {
  const session = sessionOf(target, 'anonymous-delete')
  const map = target.base.getMap(target.root)
  const keys = target.keys ?? [...map.keys()]
  const update = craftUpdate(target.base, sessionClientId(target.signer.did, session), (doc) => {
    const copy = doc.getMap(target.root)
    for (const key of keys) copy.delete(key)
  })
  return { name: 'anonymous-delete', doc: target.doc, envelopes: [await sealEnvelope(target.signer, { docId: `${target.spaceId}/${target.doc}`, session, update })], expected: 'E_FORBIDDEN_DELETE' }
}

/**
 * **Equivocation.** Two different envelopes, both validly signed by the attacker, with the same
 * session and sequence number (1): one tells some peers one edit, the other tells others another.
 *
 * Plain Yjs has no notion of it. cabildo cannot tell the honest one (there is none): a replica
 * applies the first of the pair it sees and refuses every other as `E_EQUIVOCATION` (quarantined;
 * no strike, since an honest relay may forward either); a replica that only hears of the other
 * through heads counts a fork (`stats().forks`). Detected, not resolved: replicas that applied
 * different envelopes stay split on that session's content.
 */
export async function equivocation(target: AttackTarget & {
  /** The two edits, one per envelope; they must make different updates. */
  readonly edits: readonly [(doc: Y.Doc) => void, (doc: Y.Doc) => void]
}): Promise<EnvelopeAttack> {
  const session = sessionOf(target, 'equivocation')
  const client = sessionClientId(target.signer.did, session)
  const docId = `${target.spaceId}/${target.doc}`
  const envelopes = await Promise.all(target.edits.map((edit) => sealEnvelope(target.signer, { docId, session, update: craftUpdate(target.base, client, edit) })))
  return { name: 'equivocation', doc: target.doc, envelopes, expected: 'E_EQUIVOCATION' }
}
