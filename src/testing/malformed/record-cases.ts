/**
 * Malformed signed records (acts): what a hostile writer can put in a document's act log, where
 * every replica verifies it before any policy counts it. Built from one genuine record.
 *
 * ```ts
 * import { malformedRecords } from 'cabildo/testing'
 * for (const c of await malformedRecords({ random, genuine, signer: mallory, victim: alice.did, otherDoc })) {
 *   expect(await verifyRecord(c.input, { doc: genuine.doc })).toMatchObject({ ok: false })
 * }
 * ```
 * @module
 */
import type { Identity } from '../../identity/identity'
import type { SignedRecord } from '../../identity/record-schema'
import type { SeededRandom } from '../../transports/seeded-random'
import type { MalformedCase } from './byte-mutations'

/**
 * What verification may answer: a code, or `valid` for a well-formed record its signer really
 * signed (a huge payload is the signer's own business; policies decide what it counts for).
 */
export type RecordVerdict = 'E_SIGNATURE' | 'E_INVALID' | 'valid'

/** A malformed record and the verification answers that are correct for it. */
export interface RecordCase extends MalformedCase<unknown> {
  readonly expect: readonly RecordVerdict[]
}

/** Options of {@link malformedRecords}. */
export interface MalformedRecordOptions {
  readonly random: SeededRandom
  /** A genuine record, signed for its `doc`. */
  readonly genuine: SignedRecord
  /** A hostile signer. */
  readonly signer: Identity
  /** An honest author's did, named as the author of records the signer signs. */
  readonly victim: string
  /** Another document: a record signed for it is a replay where `genuine.doc` is read. */
  readonly otherDoc: string
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Malformed records: damaged signatures (one character changed, a non-canonical last
 * character, padding, another record's), a replay into another document, another author named,
 * bodies the schema refuses (missing, extra and mistyped fields, huge values), and values that
 * are not records at all.
 */
export async function malformedRecords(options: MalformedRecordOptions): Promise<RecordCase[]> {
  const { random, genuine, signer, victim, otherDoc } = options
  const cases: RecordCase[] = []
  const add = (family: string, name: string, input: unknown, expect: RecordCase['expect']): void => {
    cases.push({ family, name, input, expect })
  }
  for (let i = 0; i < 20; i++) {
    const at = random.int(0, genuine.sig.length - 2)
    const replacement = BASE64URL.replace(genuine.sig[at] ?? '', '')[random.int(0, 62)] ?? 'A'
    add('bad-signature', `signature character ${at} changed`, { ...genuine, sig: genuine.sig.slice(0, at) + replacement + genuine.sig.slice(at + 1) }, ['E_SIGNATURE', 'E_INVALID'])
  }
  const last = genuine.sig.at(-1) ?? 'A'
  // The last character carries 2 unused bits: a second spelling of the same signature bytes.
  const sibling = BASE64URL[(BASE64URL.indexOf(last) & ~3) | ((BASE64URL.indexOf(last) + 1) & 3)] ?? 'B'
  add('non-canonical', 'signature whose last character sets unused bits', { ...genuine, sig: genuine.sig.slice(0, -1) + sibling }, ['E_INVALID', 'E_SIGNATURE'])
  add('non-canonical', 'signature with base64 padding', { ...genuine, sig: `${genuine.sig}==` }, ['E_INVALID'])
  // Standard base64's '+' and '/' for base64url's '-' and '_'; a signature with neither (about one
  // in fifteen) is spelled the same in both, so one character becomes '+' instead.
  const standard = genuine.sig.replace(/-/g, '+').replace(/_/g, '/')
  add('non-canonical', 'signature in standard base64', { ...genuine, sig: standard === genuine.sig ? `+${genuine.sig.slice(1)}` : standard }, ['E_INVALID'])
  add('non-canonical', 'clock written as a string', { ...genuine, clock: String(genuine.clock) }, ['E_INVALID'])
  add('non-canonical', 'clock with a fraction', { ...genuine, clock: genuine.clock + 0.5 }, ['E_INVALID'])
  add('non-canonical', 'an extra field', { ...genuine, extra: true }, ['E_INVALID'])
  add('non-canonical', 'version 2', { ...genuine, v: 2 }, ['E_INVALID'])
  add('bad-signature', 'another record\'s signature', { ...genuine, clock: genuine.clock + 1 }, ['E_SIGNATURE'])
  add('wrong-doc', 'signed for another document', await signer.sign({ type: genuine.type, doc: otherDoc, clock: genuine.clock, payload: genuine.payload }), ['E_INVALID'])
  add('wrong-doc', 'the genuine record with its doc changed', { ...genuine, doc: otherDoc }, ['E_SIGNATURE', 'E_INVALID'])
  add('wrong-author', 'naming an honest author, signed by another key', { ...(await signer.sign({ type: genuine.type, doc: genuine.doc, clock: genuine.clock, payload: genuine.payload })), author: victim }, ['E_SIGNATURE'])
  add('wrong-author', 'an author that is no did:key', { ...genuine, author: 'did:web:example.org' }, ['E_INVALID'])
  add('huge-field', 'a type of 10,000 characters', { ...genuine, type: 't'.repeat(10_000) }, ['E_INVALID'])
  add('huge-field', 'a doc of 10,000 characters', { ...genuine, doc: 'd'.repeat(10_000) }, ['E_INVALID'])
  add('huge-field', 'a clock beyond 2^53', { ...genuine, clock: 2 ** 60 }, ['E_INVALID'])
  add('huge-field', 'a signed payload of 1 MB', await signer.sign({ type: genuine.type, doc: genuine.doc, clock: genuine.clock, payload: { note: 'x'.repeat(1_000_000) } }), ['valid'])
  add('huge-field', 'a payload nested 10,000 deep', { ...genuine, payload: nested(10_000) }, ['E_INVALID', 'E_SIGNATURE'])
  for (const field of ['v', 'type', 'doc', 'author', 'clock', 'payload', 'sig'] as const) {
    const { [field]: _dropped, ...rest } = genuine
    add('missing-field', `without ${field}`, rest, ['E_INVALID'])
  }
  for (const [name, value] of [['null', null], ['a string', 'record'], ['a number', 7], ['an array', [genuine]], ['an empty object', {}], ['undefined', undefined]] as const) {
    add('not-a-record', name, value, ['E_INVALID'])
  }
  add('not-a-record', 'an object with a __proto__ key', JSON.parse(`{"__proto__": {"polluted": true}, "v": 1}`), ['E_INVALID'])
  return cases
}

function nested(depth: number): unknown {
  let value: unknown = 'deep'
  for (let i = 0; i < depth; i++) value = { value }
  return value
}
