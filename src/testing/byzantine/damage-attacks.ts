/**
 * Attacks by damaged, misplaced or hostile bytes: truncated and bit-flipped copies of genuine
 * envelopes, a genuine envelope replayed into another document, an oversized envelope, the V2
 * amplification bomb, and a protocol message that is not one.
 *
 * ```ts
 * import { bitFlippedEnvelope, truncatedEnvelope } from 'cabildo/testing'
 * const genuine = peer.genuine(shard)[0]
 * peer.launch(truncatedEnvelope(genuine, shard)) // E_UPDATE_MALFORMED, and a strike
 * peer.launch(bitFlippedEnvelope(genuine, shard)) // E_SIGNATURE, and a strike
 * ```
 * @module
 */
import * as encoding from 'lib0/encoding'
import { CabildoError } from '../../errors'
import { decodeEnvelope, defaultEnvelopeLimits, sessionClientId } from '../../sync/envelope-codec'
import { MANIFEST_DOC } from '../../sync/shard-set'
import { SYNC_PROTOCOL_VERSION, SyncMessageType } from '../../sync/sync-protocol'
import { attackSession, craftUpdate, sealEnvelope, type AttackTarget, type EnvelopeAttack, type MessageAttack } from './attack'

function decoded(genuine: Uint8Array) {
  const result = decodeEnvelope(genuine)
  if (!result.ok) throw new CabildoError('E_ARGUMENT', `not an envelope: ${result.code}`, { argument: 'genuine', reason: 'not a well-formed envelope' })
  return result.envelope
}

/**
 * **Truncated envelope.** The first `keep` bytes of a genuine envelope (default: half of it).
 *
 * Plain Yjs, given a truncated update, can throw after changing the document (observers have
 * already fired). cabildo never gets that far: the envelope does not decode, so nothing is read
 * as Yjs; `E_UPDATE_MALFORMED`, and the sender earns a strike.
 */
export function truncatedEnvelope(genuine: Uint8Array, doc: string, keep = Math.floor(genuine.length / 2)): EnvelopeAttack {
  if (!(Number.isSafeInteger(keep) && keep >= 0 && keep < genuine.length)) {
    throw new CabildoError('E_ARGUMENT', `keep must be an integer in [0, ${genuine.length}), got ${keep}`, { argument: 'keep', reason: 'not a strict prefix length' })
  }
  return { name: 'truncated-envelope', doc, envelopes: [genuine.slice(0, keep)], expected: 'E_UPDATE_MALFORMED' }
}

/**
 * **Bit-flipped envelope.** A genuine envelope with one bit of its Yjs update flipped (`bit`
 * counts from the update's first byte; default: a bit in its middle).
 *
 * Plain Yjs accepts a fifth to a third of bit-flipped updates silently, with wrong content,
 * mostly forever. cabildo checks the author's signature over every byte first: `E_SIGNATURE`,
 * and a strike.
 */
export function bitFlippedEnvelope(genuine: Uint8Array, doc: string, bit?: number): EnvelopeAttack {
  const { update } = decoded(genuine)
  if (update.length === 0) throw new CabildoError('E_ARGUMENT', 'the envelope carries an empty update', { argument: 'genuine', reason: 'empty update' })
  const flip = bit ?? update.length * 4
  if (!(Number.isSafeInteger(flip) && flip >= 0 && flip < update.length * 8)) {
    throw new CabildoError('E_ARGUMENT', `bit must be an integer in [0, ${update.length * 8}), got ${flip}`, { argument: 'bit', reason: 'outside the update' })
  }
  // The update is the last field before the optional extensions and the 64-byte signature.
  let at = genuine.length - 65 - update.length
  while (at >= 0 && !sameAt(genuine, update, at)) at--
  const bytes = genuine.slice()
  const index = at + (flip >> 3)
  bytes[index] = (bytes[index] as number) ^ (1 << (flip & 7))
  return { name: 'bit-flipped-envelope', doc, envelopes: [bytes], expected: 'E_SIGNATURE' }
}

function sameAt(haystack: Uint8Array, needle: Uint8Array, at: number): boolean {
  for (let i = 0; i < needle.length; i++) if (haystack[at + i] !== needle[i]) return false
  return true
}

/**
 * **Replay into another document.** A genuine envelope, unchanged, sent as if it belonged to
 * document `intoDoc`: another shard of the same Space, or a shard of another Space (an envelope
 * signed for `town/tickets.2026-11` sent into `city`'s `tickets.2026-11`).
 *
 * Plain Yjs has no document identity in an update: it applies it. Every cabildo envelope names
 * the document it was signed for: `E_WRONG_DOC`, and a strike.
 */
export function replayedEnvelope(genuine: Uint8Array, intoDoc: string): EnvelopeAttack {
  decoded(genuine)
  return { name: 'replayed-envelope', doc: intoDoc, envelopes: [genuine], expected: 'E_WRONG_DOC' }
}

/**
 * **Oversized envelope.** A validly signed envelope of the attacker's own whose update inserts
 * `bytes` characters (default: one more than the default 8 MiB envelope limit).
 *
 * Plain Yjs decodes whatever it is given. cabildo refuses it on its length alone, before
 * reading a byte of it: `E_UPDATE_TOO_LARGE` (no strike: limits are the receiver's choice).
 */
export async function oversizedEnvelope(target: AttackTarget & { readonly bytes?: number }): Promise<EnvelopeAttack> {
  const session = target.session ?? attackSession('oversized-envelope')
  const size = target.bytes ?? defaultEnvelopeLimits.maxBytes + 1
  const update = craftUpdate(target.base, sessionClientId(target.signer.did, session), (doc) => doc.getText('byzantine').insert(0, 'x'.repeat(size)))
  return { name: 'oversized-envelope', doc: target.doc, envelopes: [await sealEnvelope(target.signer, { docId: `${target.spaceId}/${target.doc}`, session, update })], expected: 'E_UPDATE_TOO_LARGE' }
}

/**
 * The V2 amplification bomb: a 24-byte Yjs **V2** update whose run-length decoders repeat one
 * GC struct of length 1 `structs` times (default 30,000,000) for one client. `Y.applyUpdateV2`
 * allocates an array of that many structs and the structs themselves before noticing anything:
 * the heap runs out. Never pass it to a V2 decoder.
 *
 * Read as V1, the same bytes are an empty update (no structs, no deletions) followed by bytes
 * a V1 reader never looks at.
 */
export function v2BombUpdate(structs = 30_000_000): Uint8Array {
  if (!(Number.isSafeInteger(structs) && structs >= 2)) {
    throw new CabildoError('E_ARGUMENT', `structs must be an integer >= 2, got ${structs}`, { argument: 'structs', reason: 'not an integer >= 2' })
  }
  const encoder = encoding.createEncoder()
  const section = (write: (e: encoding.Encoder) => void): void => {
    const inner = encoding.createEncoder()
    write(inner)
    encoding.writeVarUint8Array(encoder, encoding.toUint8Array(inner))
  }
  encoding.writeVarUint(encoder, 0) // feature flag
  section(() => undefined) // key clocks
  section((e) => encoding.writeVarInt(e, 1)) // client ids: client 1
  section(() => undefined) // left clocks
  section(() => undefined) // right clocks
  section((e) => encoding.writeUint8(e, 0)) // infos: 0 (GC), and no count: repeated forever
  section((e) => encoding.writeVarString(e, '')) // strings
  section(() => undefined) // parent infos
  section(() => undefined) // type refs
  section((e) => {
    // lengths: 1, repeated `structs` times (a negative value announces a run; its count is stored minus 2)
    encoding.writeVarInt(e, -1)
    encoding.writeVarUint(e, structs - 2)
  })
  encoding.writeVarUint(encoder, 1) // one client's structs
  encoding.writeVarUint(encoder, structs) // how many
  encoding.writeVarUint(encoder, 0) // starting at clock 0
  return encoding.toUint8Array(encoder)
}

/**
 * **V2 bomb, bare.** The {@link v2BombUpdate} sent where an envelope belongs, as a plain Yjs peer
 * would send its update.
 *
 * Plain Yjs peers that use the V2 encoding (`applyUpdateV2`) run out of memory. cabildo never
 * decodes V2 and reads nothing but envelopes: `E_UPDATE_MALFORMED`, and a strike.
 */
export function v2Bomb(doc: string, structs?: number): EnvelopeAttack {
  return { name: 'v2-bomb', doc, envelopes: [v2BombUpdate(structs)], expected: 'E_UPDATE_MALFORMED' }
}

/**
 * **V2 bomb, signed.** The {@link v2BombUpdate} as the update of a validly signed envelope of
 * the attacker's own.
 *
 * The guard reads updates as V1 only, where these bytes are an empty update followed by bytes
 * nobody reads: it refuses the envelope (`E_UPDATE_MALFORMED`) before Yjs sees it, and no V2
 * decoder ever runs.
 */
export async function signedV2Bomb(target: Omit<AttackTarget, 'base'> & { readonly structs?: number }): Promise<EnvelopeAttack> {
  const session = target.session ?? attackSession('signed-v2-bomb')
  const update = v2BombUpdate(target.structs)
  return { name: 'signed-v2-bomb', doc: target.doc, envelopes: [await sealEnvelope(target.signer, { docId: `${target.spaceId}/${target.doc}`, session, update })], expected: 'E_UPDATE_MALFORMED' }
}

/**
 * **Garbage message.** A sync-protocol message of the current version that announces a billion
 * envelopes for `doc` and carries none. (Yjs itself defines no sync protocol: this attacks
 * cabildo's own.)
 *
 * The protocol decoder bounds every count by the bytes left and by `limits.maxEntries`, so it
 * allocates nothing: the message is refused and the sender earns a strike (`malformed`); after
 * 16 strikes it is ignored until it reconnects.
 */
export function garbageMessage(doc: string = MANIFEST_DOC): MessageAttack {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, SYNC_PROTOCOL_VERSION)
  encoding.writeVarUint(encoder, SyncMessageType.envelopes)
  encoding.writeVarString(encoder, doc)
  encoding.writeVarUint(encoder, 1_000_000_000)
  return { name: 'garbage-message', message: encoding.toUint8Array(encoder), expected: 'strike' }
}
