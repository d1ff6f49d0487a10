/**
 * The shape of signed records and their two derived byte strings: what is signed and what is
 * hashed. Entry point for users: `signed-record.ts`.
 * @module
 */
import { z } from 'zod'
import { canonicalJson, sha256Hex } from '../encoding/canonical'
import { isoDateTime } from '../schema/common'
import { isDidKey } from './did-key'

/** The signed part of a record. */
export interface RecordBody<P = unknown> {
  /** The record format version. */
  v: 1
  /** What the record says, e.g. `'ticket.transition'`, `'ballot'`, `'roster.grant'`. */
  type: string
  /**
   * The document (shard) the record belongs to. It is signed, so a record cannot be replayed
   * into another document.
   */
  doc: string
  /** The `did:key` of the signer. */
  author: string
  /** The author's Lamport clock when signing: an integer >= 1 (see `nextClock`). */
  clock: number
  /** The data: any value with a canonical JSON encoding. */
  payload: P
  /** Optional wall-clock time (ISO 8601): shown to people, never used to decide anything. */
  at?: string
}

/** A record with its signature. */
export interface SignedRecord<P = unknown> extends RecordBody<P> {
  /** base64url (no padding) Ed25519 signature of {@link recordSigningBytes} of the body. */
  sig: string
}

/**
 * The domain tag prefixed to what a record signature covers, so that a record signature can
 * never be taken for the signature of anything else a key signs (an envelope, a message).
 */
export const RECORD_SIGNATURE_DOMAIN = 'cabildo/record/v1\n'

/**
 * The zod schema of a record body. Strict: a field it does not know is an error, so every byte
 * a record carries is covered by its signature.
 */
export const recordBodySchema = z.strictObject({
  v: z.literal(1),
  type: z.string().min(1).max(100),
  doc: z.string().min(1).max(200),
  author: z.string().refine(isDidKey, 'expected an Ed25519 did:key ("did:key:z6Mk…")'),
  clock: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  payload: z.custom<unknown>((value) => value !== undefined, 'payload is required'),
  at: isoDateTime.optional(),
})

/** The zod schema of a signed record: the body and a 64-byte signature in base64url (86 characters). */
export const signedRecordSchema = recordBodySchema.extend({
  sig: z.string().regex(/^[A-Za-z0-9_-]{85}[AQgw]$/, 'expected a 64-byte Ed25519 signature in base64url'),
})

// The declared interfaces and the schema must describe the same records.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const _sameShape: Same<Omit<z.infer<typeof signedRecordSchema>, 'payload'>, Omit<SignedRecord, 'payload'>> = true
void _sameShape

/** The body of a signed record: every field but `sig` (fields the schema does not know are left out). */
export function recordBody<P>(record: RecordBody<P>): RecordBody<P> {
  const { v, type, doc, author, clock, payload, at } = record
  return at === undefined ? { v, type, doc, author, clock, payload } : { v, type, doc, author, clock, payload, at }
}

/** The two byte strings of a record, built once: what its signature covers and what its hash covers. */
export interface RecordBytes {
  /** The domain tag then the canonical JSON of the body: what the signature covers. */
  readonly signed: Uint8Array
  /** The canonical JSON of the body alone (a view into `signed`): what the hash covers. */
  readonly body: Uint8Array
}

const DOMAIN_LENGTH = RECORD_SIGNATURE_DOMAIN.length // ASCII: as many bytes as characters
const utf8 = new TextEncoder()
/** Any UTF-16 surrogate: strings holding one take the general path, which refuses lone ones. */
const SURROGATE = /[\uD800-\uDFFF]/

/**
 * The canonical JSON of a body, written field by field in sorted key order (`at`, `author`,
 * `clock`, `doc`, `payload`, `type`, `v`): the same text as `canonicalJson(recordBody(body))`,
 * without sorting keys or walking the envelope. `undefined` when a field is not of the plain form
 * it handles (the caller then takes the general path, which also produces its errors).
 */
function envelopeJson(body: RecordBody): string | undefined {
  const { v, type, doc, author, clock, payload, at } = body
  if (v !== 1 || !Number.isSafeInteger(clock) || typeof type !== 'string' || typeof doc !== 'string' || typeof author !== 'string') {
    return undefined
  }
  if (at !== undefined && typeof at !== 'string') return undefined
  if (SURROGATE.test(type) || SURROGATE.test(doc) || SURROGATE.test(author) || (at !== undefined && SURROGATE.test(at))) {
    return undefined
  }
  let payloadJson: string
  try {
    payloadJson = canonicalJson(payload)
  } catch {
    return undefined // the general path reports it, with the field's path
  }
  const head = at === undefined ? '{' : `{"at":${JSON.stringify(at)},`
  return `${head}"author":${JSON.stringify(author)},"clock":${clock},"doc":${JSON.stringify(doc)},"payload":${payloadJson},"type":${JSON.stringify(type)},"v":1}`
}

/**
 * Both byte strings of a record in one buffer: the signing input, and the body bytes as a view
 * into it, so a verifier hashes and checks the signature without encoding twice.
 * @throws CabildoError `E_ARGUMENT` when the body has no canonical encoding.
 */
export function recordBytes(body: RecordBody): RecordBytes {
  const json = envelopeJson(body) ?? canonicalJson(recordBody(body))
  const signed = utf8.encode(RECORD_SIGNATURE_DOMAIN + json)
  return { signed, body: signed.subarray(DOMAIN_LENGTH) }
}

/**
 * The bytes a record signature covers: the domain tag then the canonical JSON of the body.
 * @throws CabildoError `E_ARGUMENT` when the body has no canonical encoding.
 */
export function recordSigningBytes(body: RecordBody): Uint8Array {
  return recordBytes(body).signed
}

/**
 * A record's content address: lowercase hex SHA-256 of the canonical JSON of its body (the
 * record without `sig`), i.e. `contentHash(body)`. Event logs key records by it. The signature
 * is not part of it, so the hash is known before signing and a record has one address.
 * @throws CabildoError `E_ARGUMENT` when the body has no canonical encoding.
 */
export function recordHash(record: RecordBody): string {
  return sha256Hex(recordBytes(record).body)
}
