/**
 * The shape of signed records and their two derived byte strings: what is signed and what is
 * hashed. Entry point for users: `signed-record.ts`.
 * @module
 */
import { z } from 'zod'
import { canonicalBytes, sha256Hex } from '../encoding/canonical'
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

/**
 * The bytes a record signature covers: the domain tag then the canonical JSON of the body.
 * @throws CabildoError `E_ARGUMENT` when the body has no canonical encoding.
 */
export function recordSigningBytes(body: RecordBody): Uint8Array {
  return withDomain(canonicalBytes(recordBody(body)))
}

/** The domain tag followed by the canonical bytes of a body. */
export function withDomain(bodyBytes: Uint8Array): Uint8Array {
  const tag = DOMAIN_BYTES
  const out = new Uint8Array(tag.length + bodyBytes.length)
  out.set(tag)
  out.set(bodyBytes, tag.length)
  return out
}

const DOMAIN_BYTES = new TextEncoder().encode(RECORD_SIGNATURE_DOMAIN)

/**
 * A record's content address: lowercase hex SHA-256 of the canonical JSON of its body (the
 * record without `sig`), i.e. `contentHash(body)`. Event logs key records by it. The signature
 * is not part of it, so the hash is known before signing and a record has one address.
 * @throws CabildoError `E_ARGUMENT` when the body has no canonical encoding.
 */
export function recordHash(record: RecordBody): string {
  return sha256Hex(canonicalBytes(recordBody(record)))
}
