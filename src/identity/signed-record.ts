/**
 * Signed records: the unit of authorship in cabildo. A record says who (`author`, a did:key) said
 * what (`type`, `payload`) in which document (`doc`) at which logical time (`clock`), signed so
 * that no relay, transport or peer can forge or alter it.
 *
 * ```ts
 * import { createIdentity, signRecord, verifyRecord, nextClock } from 'cabildo'
 * const me = await createIdentity()
 * const record = await signRecord(me, {
 *   type: 'ticket.transition', doc: 'tickets/2026-03', clock: nextClock(0),
 *   payload: { ticket: 't1', to: 'closed' },
 * })
 * const result = await verifyRecord(record, { doc: 'tickets/2026-03' })
 * if (result.ok) console.log(result.hash) // the record's key in an event log
 * ```
 *
 * What is signed: `"cabildo/record/v1\n"` followed by the canonical JSON (RFC 8785 style) of the
 * body, i.e. the record without `sig`. What is hashed: the canonical JSON of the body alone
 * (`contentHash(body)`), so a record has one address whoever re-serializes it.
 * @module
 */
import { CabildoError } from '../errors'
import { encodeBase64url } from './base64url'
import type { KeyPair } from './keys'
import { recordBody, recordBodySchema, recordSigningBytes, type RecordBody, type SignedRecord } from './record-schema'
import {
  defaultVerifier,
  type FilterOptions,
  type RejectedRecord,
  type VerifiedRecord,
  type Verifier,
  type VerifyOptions,
  type VerifyResult,
} from './verifier'

export {
  RECORD_SIGNATURE_DOMAIN,
  recordBodySchema,
  recordBytes,
  recordHash,
  recordSigningBytes,
  signedRecordSchema,
  type RecordBody,
  type RecordBytes,
  type SignedRecord,
} from './record-schema'
export {
  Verifier,
  createVerifier,
  defaultVerifier,
  type FilterOptions,
  type RejectedRecord,
  type VerifiedRecord,
  type VerifierOptions,
  type VerifierStats,
  type VerifyOptions,
  type VerifyResult,
} from './verifier'

/** What {@link signRecord} takes: a body whose `v` and `author` may be left for it to fill in. */
export type UnsignedRecord<P = unknown> = Omit<RecordBody<P>, 'v' | 'author'> & { v?: 1; author?: string }

/** Who can sign: a key pair, or anything holding one (an `Identity`). */
export type RecordSigner = KeyPair | { readonly keyPair: KeyPair }

/**
 * Signs a record body. `v` defaults to 1 and `author` to the signer's did.
 * @throws CabildoError `E_SCHEMA` when the body is malformed (e.g. clock 0, empty doc),
 * `E_ARGUMENT` when `author` names another key or the payload has no canonical JSON encoding,
 * `E_KEY` when the signing backend refuses the key.
 */
export async function signRecord<P>(signer: RecordSigner, body: UnsignedRecord<P>): Promise<SignedRecord<P>> {
  const keyPair = 'keyPair' in signer ? signer.keyPair : signer
  if (body.author !== undefined && body.author !== keyPair.did) {
    throw new CabildoError('E_ARGUMENT', 'A record can only be signed by its author', {
      argument: 'body.author',
      reason: `author is ${body.author} but the signing key is ${keyPair.did}`,
    }, { path: ['author'] })
  }
  const full = recordBody({ ...body, v: 1, author: keyPair.did } as RecordBody<P>)
  const parsed = recordBodySchema.safeParse(full)
  if (!parsed.success) {
    throw new CabildoError('E_SCHEMA', 'The record body is malformed', {
      issues: parsed.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), code: i.code, message: i.message })),
      recordType: typeof body.type === 'string' ? body.type : undefined,
    })
  }
  const sig = await keyPair.sign(recordSigningBytes(full))
  return { ...full, sig: encodeBase64url(sig) }
}

/**
 * The Lamport clock of a new record: one more than the highest clock the author has seen (in the
 * document, its own records included). Integers from 1 up; a record made after seeing another
 * therefore sorts after it.
 * @throws CabildoError `E_ARGUMENT` when `seenMax` is not a non-negative safe integer.
 */
export function nextClock(seenMax: number): number {
  if (!Number.isSafeInteger(seenMax) || seenMax < 0 || seenMax >= Number.MAX_SAFE_INTEGER) {
    throw new CabildoError('E_ARGUMENT', 'seenMax is a non-negative safe integer', { argument: 'seenMax', reason: `got ${seenMax}` })
  }
  return seenMax + 1
}

/** Options of the verification helpers: the checks of {@link VerifyOptions} and, optionally, whose caches to use. */
export interface VerifyWithOptions extends VerifyOptions {
  /** The verifier (and caches) to use; {@link defaultVerifier} by default. */
  readonly verifier?: Verifier
}

/**
 * Verifies one record: its shape (`signedRecordSchema`), its document (`opts.doc`: anything else
 * is a replay), and its Ed25519 signature by its author. Never throws for a bad record.
 * @throws CabildoError `E_KEY` only when the verifier's backend cannot be used on this platform.
 */
export function verifyRecord(record: unknown, opts: VerifyWithOptions = {}): Promise<VerifyResult> {
  return (opts.verifier ?? defaultVerifier).verify(record, opts)
}

/**
 * Verifies many records at once (parallel signature checks, duplicates checked once); results
 * are in input order.
 * @throws CabildoError `E_KEY` only when the verifier's backend cannot be used on this platform.
 */
export function verifyRecords(records: readonly unknown[], opts: VerifyWithOptions = {}): Promise<VerifyResult[]> {
  return (opts.verifier ?? defaultVerifier).verifyMany(records, opts)
}

/**
 * Verifies records and splits them into `verified` (with hashes, payloads checked against
 * `opts.payload` when given) and `rejected` (with codes and reasons): the input policies want.
 * @throws CabildoError `E_KEY` only when the verifier's backend cannot be used on this platform.
 */
export function filterVerified<P = unknown>(
  records: readonly unknown[],
  opts: FilterOptions<P> & { readonly verifier?: Verifier } = {},
): Promise<{ verified: VerifiedRecord<P>[]; rejected: RejectedRecord[] }> {
  return (opts.verifier ?? defaultVerifier).filter(records, opts)
}
