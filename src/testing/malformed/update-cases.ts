/**
 * Malformed Yjs updates and signed envelopes, built from genuine ones: what a broken or hostile
 * peer can send to `applyDocUpdate` (hand sync) and to a document's ingress guard (sync engine,
 * bundles). Every case carries the answers cabildo may give it.
 *
 * ```ts
 * import { malformedEnvelopes } from 'cabildo/testing'
 * const cases = await malformedEnvelopes({ random, signer: mallory.keyPair, docId, otherDocId, victim: alice.did, genuine, base })
 * for (const c of cases) expect(c.expect).toContain(verdictOf(await guard.receive(c.input, 'mallory')))
 * ```
 * @module
 */
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { encodeEnvelope, decodeEnvelope, sessionClientId, SESSION_BYTES, type Envelope } from '../../sync/envelope-codec'
import { signEnvelope, type EnvelopeSigner } from '../../sync/envelope-signing'
import type { GuardRejectionCode } from '../../sync/ingress-guard'
import type { SeededRandom } from '../../transports/seeded-random'
import { bitFlips, byteEdits, randomBytes, truncations, type MalformedCase } from './byte-mutations'

/**
 * What a document's guard may answer to a malformed envelope: a refusal code; `duplicate`
 * (bytes whose body is one already applied, e.g. a genuine envelope with its signature
 * damaged); `pending` (a well-formed envelope of the sender's own that waits for content the
 * receiver lacks); `applied-own` (a validly signed envelope of the sender's own, written under
 * its own client only: its damage is its author's content).
 */
export type EnvelopeVerdict = GuardRejectionCode | 'duplicate' | 'pending' | 'applied-own'

/** A malformed envelope and the verdicts that are correct for it. */
export interface EnvelopeCase extends MalformedCase<Uint8Array> {
  readonly expect: readonly EnvelopeVerdict[]
}

const anyRefusal: readonly EnvelopeVerdict[] = ['E_UPDATE_MALFORMED', 'E_UPDATE_TOO_LARGE', 'E_WRONG_DOC', 'E_SIGNATURE', 'E_CHAIN', 'E_EQUIVOCATION', 'E_FORGED_CLIENT', 'E_CLOCK', 'E_FORBIDDEN_DELETE']

/**
 * The updates a session writes: `edits` run one per transaction on a copy of `base` under
 * `client`, each returning the update it made (so the second depends on the first).
 */
export function updateChain(base: Y.Doc, client: number, edits: ReadonlyArray<(doc: Y.Doc) => void>): Uint8Array[] {
  const copy = new Y.Doc({ gc: base.gc })
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(base))
  copy.clientID = client
  const updates: Uint8Array[] = []
  for (const edit of edits) {
    const before = Y.encodeStateVector(copy)
    copy.transact(() => edit(copy))
    updates.push(Y.encodeStateAsUpdate(copy, before))
  }
  copy.destroy()
  return updates
}

/** Options of {@link malformedUpdates}. */
export interface MalformedUpdateOptions {
  readonly random: SeededRandom
  /** Genuine updates, each depending on the one before (see {@link updateChain}). */
  readonly chain: readonly Uint8Array[]
  /** The receiver's size limit: one case is a byte longer. */
  readonly maxBytes: number
  /** Bit flips per update (default 200). */
  readonly flips?: number
}

/**
 * Malformed Yjs V1 updates: every truncation (up to 256 per update), bit flips, byte edits,
 * random bytes, one just over `maxBytes`, the V2 encoding of a genuine update, and each later
 * update of the chain alone (its dependency missing).
 */
export function malformedUpdates(options: MalformedUpdateOptions): Array<MalformedCase<Uint8Array>> {
  const { random, chain, maxBytes, flips = 200 } = options
  const cases: Array<MalformedCase<Uint8Array>> = []
  chain.forEach((update, i) => {
    const label = `update ${i}`
    cases.push(...truncations(update, 256, label), ...bitFlips(update, random, flips, label), ...byteEdits(update, random, flips / 2, label))
    cases.push({ family: 'v2-encoding', name: `${label} in the V2 encoding`, input: Y.convertUpdateFormatV1ToV2(update) })
    if (i > 0) cases.push({ family: 'dependency-missing', name: `${label} without update ${i - 1}`, input: update })
  })
  cases.push(...randomBytes(random, 200, 64))
  cases.push({ family: 'oversized', name: `${maxBytes + 1} bytes, over the ${maxBytes}-byte limit`, input: new Uint8Array(maxBytes + 1) })
  return cases
}

/** Options of {@link malformedEnvelopes}. */
export interface MalformedEnvelopeOptions {
  readonly random: SeededRandom
  /** The hostile author: envelopes it signs verify under its key. */
  readonly signer: EnvelopeSigner
  /** The receiving document's id (`<space id>/<doc>`). */
  readonly docId: string
  /** Another document's id, for envelopes signed for the wrong one. */
  readonly otherDocId: string
  /** An honest author's did, named as the author of envelopes the signer signs. */
  readonly victim: string
  /** Genuine envelopes of the document, already applied by the receiver. */
  readonly genuine: readonly Uint8Array[]
  /** The receiver's document (read only): signed updates are built on it. */
  readonly base: Y.Doc
  /** Bit flips and byte edits per genuine envelope (default 100). */
  readonly flips?: number
  /** The receiver's envelope size limit (default 8 MiB): one case is a byte longer. */
  readonly maxBytes?: number
}

/** A session nonce drawn from `random`. */
function session(random: SeededRandom): Uint8Array {
  const bytes = new Uint8Array(SESSION_BYTES)
  for (let i = 0; i < bytes.length; i++) bytes[i] = random.int(0, 255)
  return bytes
}

/** A varuint written with one byte more than it needs (a non-canonical, still decodable form). */
function overlongVarUint(encoder: encoding.Encoder, value: number): void {
  const plain = encoding.createEncoder()
  encoding.writeVarUint(plain, value)
  const bytes = encoding.toUint8Array(plain)
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) | 0x80
  encoding.writeUint8Array(encoder, bytes)
  encoding.writeUint8(encoder, 0)
}

/** A version-1 envelope written field by field, with the seq or the doc length over-long. */
function nonCanonical(envelope: Envelope, field: 'seq' | 'doc'): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1)
  if (field === 'doc') {
    const doc = new TextEncoder().encode(envelope.doc)
    overlongVarUint(encoder, doc.length)
    encoding.writeUint8Array(encoder, doc)
  } else encoding.writeVarString(encoder, envelope.doc)
  encoding.writeVarString(encoder, envelope.author)
  encoding.writeVarUint8Array(encoder, envelope.session)
  if (field === 'seq') overlongVarUint(encoder, envelope.seq)
  else encoding.writeVarUint(encoder, envelope.seq)
  encoding.writeVarUint8Array(encoder, envelope.prev)
  encoding.writeVarUint8Array(encoder, envelope.update)
  encoding.writeVarUint8Array(encoder, envelope.sig)
  return encoding.toUint8Array(encoder)
}

/**
 * Malformed envelopes: truncations, bit flips and byte edits of genuine envelopes; random bytes;
 * non-canonical encodings (over-long varints, a trailing byte, unknown versions and flags);
 * envelopes signed for another document, naming another author, with a damaged signature;
 * fields over their limits; and validly signed envelopes of the signer's own carrying malformed
 * or dependency-missing Yjs updates.
 */
export async function malformedEnvelopes(options: MalformedEnvelopeOptions): Promise<EnvelopeCase[]> {
  const { random, signer, docId, otherDocId, victim, genuine, base, flips = 100, maxBytes = 8 * 1024 * 1024 } = options
  const cases: EnvelopeCase[] = []
  const add = (list: ReadonlyArray<MalformedCase<Uint8Array>>, expect: readonly EnvelopeVerdict[]): void => {
    for (const c of list) cases.push({ ...c, expect })
  }
  genuine.forEach((bytes, i) => {
    const label = `envelope ${i}`
    add(truncations(bytes, 128, label), ['E_UPDATE_MALFORMED'])
    add(bitFlips(bytes, random, flips, label), [...anyRefusal, 'duplicate'])
    add(byteEdits(bytes, random, flips / 2, label), [...anyRefusal, 'duplicate'])
    const decoded = decodeEnvelope(bytes)
    if (!decoded.ok) return
    const envelope = decoded.envelope
    cases.push({ family: 'non-canonical', name: `${label} with an over-long seq`, input: nonCanonical(envelope, 'seq'), expect: ['E_UPDATE_MALFORMED'] })
    cases.push({ family: 'non-canonical', name: `${label} with an over-long doc length`, input: nonCanonical(envelope, 'doc'), expect: ['E_UPDATE_MALFORMED'] })
    cases.push({ family: 'non-canonical', name: `${label} and a trailing byte`, input: Uint8Array.of(...bytes, 0), expect: ['E_UPDATE_MALFORMED'] })
    cases.push({ family: 'non-canonical', name: `${label} as version 3`, input: Uint8Array.of(3, ...bytes.subarray(1)), expect: ['E_UPDATE_MALFORMED'] })
    cases.push({ family: 'bad-signature', name: `${label} with its signature zeroed (its body is applied)`, input: encodeEnvelope({ ...envelope, sig: new Uint8Array(64) }), expect: ['duplicate'] })
  })
  add(randomBytes(random, 200, 96), anyRefusal)

  // The signer's own envelopes, each in a fresh session: what a hostile author can sign.
  const sign = async (body: Partial<Omit<Envelope, 'sig' | 'author'>> & { update: Uint8Array }, author?: string): Promise<Envelope> => {
    const full = { doc: docId, session: session(random), seq: 1, prev: new Uint8Array(0), ...body }
    const signed = await signEnvelope(signer, full)
    return author === undefined ? signed : { ...signed, author }
  }
  const own = (s: Uint8Array): number => sessionClientId(signer.did, s)
  const fresh = session(random)
  const [first = new Uint8Array(), second = new Uint8Array()] = updateChain(base, own(fresh), [
    (d) => d.getMap('notes').set(`n${random.int(0, 1e9)}`, new Y.Text('hostile note')),
    (d) => d.getMap('notes').forEach((value) => value instanceof Y.Text && value.insert(0, '!')),
  ])
  const once = async (name: string, family: string, body: Parameters<typeof sign>[0], expect: readonly EnvelopeVerdict[], author?: string): Promise<void> => {
    cases.push({ family, name, input: encodeEnvelope(await sign(body, author)), expect })
  }
  await once('signed for another document', 'wrong-doc', { doc: otherDocId, update: first }, ['E_WRONG_DOC'])
  await once('naming an honest author, signed by another key', 'wrong-author', { update: first }, ['E_SIGNATURE'], victim)
  const damaged = await sign({ update: first })
  const sig = damaged.sig.slice()
  const at = random.int(0, 63)
  sig[at] = (sig[at] as number) ^ (1 << random.int(0, 7))
  cases.push({ family: 'bad-signature', name: 'a fresh envelope with one signature bit flipped', input: encodeEnvelope({ ...damaged, sig }), expect: ['E_SIGNATURE'] })
  await once('a doc id of 301 characters', 'huge-field', { doc: 'x'.repeat(301), update: first }, ['E_UPDATE_MALFORMED'])
  await once('a session of 17 bytes', 'huge-field', { session: new Uint8Array(17), update: first }, ['E_UPDATE_MALFORMED'])
  await once('a seq beyond 2^53', 'huge-field', { seq: 2 ** 53 + 2, prev: new Uint8Array(32), update: first }, ['E_UPDATE_MALFORMED'])
  const author = `did:key:z${'6'.repeat(300)}`
  cases.push({ family: 'huge-field', name: 'an author of 309 characters', input: encodeEnvelope({ ...(await sign({ update: first })), author }), expect: ['E_UPDATE_MALFORMED'] })
  cases.push({ family: 'oversized', name: `an envelope of ${maxBytes + 1} bytes`, input: encodeEnvelope({ ...(await sign({ update: new Uint8Array(maxBytes) })) }), expect: ['E_UPDATE_TOO_LARGE'] })
  await once('a second envelope of a session whose first never came', 'dependency-missing', { seq: 2, prev: new Uint8Array(32), update: second }, ['pending'])
  // Edits of content the receiver never got: they wait for it.
  const unknown = session(random)
  const [unseen = new Uint8Array()] = updateChain(base, own(unknown), [(d) => d.getMap('notes').set('unseen', new Y.Text('never sent'))])
  const withUnseen = new Y.Doc()
  Y.applyUpdate(withUnseen, Y.encodeStateAsUpdate(base))
  Y.applyUpdate(withUnseen, unseen)
  const third = session(random)
  const [dependent = new Uint8Array()] = updateChain(withUnseen, own(third), [(d) => (d.getMap('notes').get('unseen') as Y.Text).insert(0, 'edited: ')])
  cases.push({ family: 'dependency-missing', name: 'an edit inside content the receiver never got', input: encodeEnvelope(await sign({ session: third, update: dependent })), expect: ['pending'] })
  // Signed garbage: damaged updates under the signer's own key and session.
  const garbage = [...truncations(first, 64, 'own update').slice(1), ...bitFlips(first, random, flips, 'own update'), ...randomBytes(random, 50, 48)]
  for (const c of garbage) {
    // Two flips of the same bit sign the same body: the second is a duplicate.
    cases.push({ family: `signed-${c.family}`, name: `a validly signed envelope carrying ${c.name}`, input: encodeEnvelope(await sign({ session: fresh, update: c.input })), expect: [...anyRefusal, 'pending', 'applied-own', 'duplicate'] })
  }
  return cases
}
