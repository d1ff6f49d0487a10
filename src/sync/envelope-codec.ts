/**
 * The wire form of a signed update envelope: one canonical binary encoding, so the bytes that
 * are signed, hashed and stored are the same on every replica.
 *
 * An envelope carries one Yjs (V1) update of one document by one author's session:
 *
 * | field | encoding |
 * | --- | --- |
 * | version | varuint, 1 |
 * | doc | varstring: `<space id>/<shard>`, so an envelope cannot be replayed into another document |
 * | author | varstring: the signer's `did:key` |
 * | session | varbytes, 16 random bytes: with the author, derives the session's Yjs client id |
 * | seq | varuint: the session's sequence number, from 1 |
 * | prev | varbytes: SHA-256 of the session's previous envelope body (empty when `seq` is 1) |
 * | update | varbytes: the Yjs V1 update |
 * | extensions | version 2 only: see below |
 * | sig | varbytes: the Ed25519 signature of the body (every field above) |
 *
 * Version 2 adds, after `update`, a varuint of flags (non-zero; unknown bits are refused) and
 * the sections they announce, in flag order:
 * - bit 0, **checkpoint**: varuint `from`, varbytes `last` (32 bytes). The envelope merges the
 *   session's envelopes `from`..`seq` into one update; `prev` is the `prev` of envelope `from`
 *   and `last` is the hash of envelope `seq`, so the session's chain carries on after it.
 * - bit 1, **vouched**: varuint count (1 to {@link MAX_VOUCHED}), then per entry, by ascending
 *   client id: varuint client id, varstring identity. The signer vouches for writes under those
 *   Yjs client ids made by the identities it names (a relay admitting plain Yjs clients).
 *
 * An envelope with no extension is written as version 1, so version 1 stays the common form.
 * The envelope's hash is the SHA-256 of its body. Decoding re-encodes what it read and refuses
 * bytes that are not the canonical encoding, so one envelope has exactly one byte form.
 * @module
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { digest } from 'lib0/hash/sha256'
import { encodeUtf8 } from 'lib0/string'
import { toHex } from '../encoding/canonical'

/** The envelope format version of envelopes without extensions. */
export const ENVELOPE_VERSION = 1

/** The envelope format version of envelopes with a checkpoint or vouched section. */
export const ENVELOPE_VERSION_EXTENDED = 2

/** Most vouched client ids in one envelope. */
export const MAX_VOUCHED = 1000

/** Bytes of a session nonce. */
export const SESSION_BYTES = 16

/** What an author signs: everything but the signature. */
export interface EnvelopeBody {
  /** `<space id>/<shard>`. */
  readonly doc: string
  /** The author's `did:key`. */
  readonly author: string
  /** The session nonce ({@link SESSION_BYTES} bytes). */
  readonly session: Uint8Array
  /** The session's sequence number, from 1. */
  readonly seq: number
  /** SHA-256 of the session's previous envelope body; empty for `seq` 1. */
  readonly prev: Uint8Array
  /** The Yjs V1 update. */
  readonly update: Uint8Array
  /** Present when the envelope is a checkpoint: it merges the session's envelopes `from`..`seq`. */
  readonly checkpoint?: EnvelopeCheckpoint
  /** Present when the signer vouches for writes under other Yjs client ids (ascending by client). */
  readonly vouched?: readonly VouchedClient[]
}

/** The checkpoint section of an envelope. */
export interface EnvelopeCheckpoint {
  /** The first sequence number the checkpoint merges (its `seq` is the last). */
  readonly from: number
  /** SHA-256 of the body of the session's envelope `seq`: what the next envelope's `prev` holds. */
  readonly last: Uint8Array
}

/** One Yjs client id a signer vouches for, and the identity it admitted as its writer. */
export interface VouchedClient {
  /** The Yjs client id. */
  readonly client: number
  /** The name of the identity the signer admitted for it (e.g. a relay's token identity). */
  readonly identity: string
}

/** A signed envelope. */
export interface Envelope extends EnvelopeBody {
  /** The Ed25519 signature of the body. */
  readonly sig: Uint8Array
}

/** Limits on decoded envelopes. */
export interface EnvelopeLimits {
  /** Largest encoded envelope, in bytes. */
  readonly maxBytes: number
}

/** Default limits: 8 MiB envelopes. */
export const defaultEnvelopeLimits: EnvelopeLimits = { maxBytes: 8 * 1024 * 1024 }

/** The canonical bytes of an envelope body (what is signed and hashed). */
export function encodeEnvelopeBody(body: EnvelopeBody): Uint8Array {
  const encoder = encoding.createEncoder()
  writeBody(encoder, body)
  return encoding.toUint8Array(encoder)
}

const FLAG_CHECKPOINT = 1
const FLAG_VOUCHED = 2

function extensionFlags(body: EnvelopeBody): number {
  return (body.checkpoint === undefined ? 0 : FLAG_CHECKPOINT) | (body.vouched === undefined ? 0 : FLAG_VOUCHED)
}

function writeBody(encoder: encoding.Encoder, body: EnvelopeBody): void {
  const flags = extensionFlags(body)
  encoding.writeVarUint(encoder, flags === 0 ? ENVELOPE_VERSION : ENVELOPE_VERSION_EXTENDED)
  encoding.writeVarString(encoder, body.doc)
  encoding.writeVarString(encoder, body.author)
  encoding.writeVarUint8Array(encoder, body.session)
  encoding.writeVarUint(encoder, body.seq)
  encoding.writeVarUint8Array(encoder, body.prev)
  encoding.writeVarUint8Array(encoder, body.update)
  if (flags === 0) return
  encoding.writeVarUint(encoder, flags)
  if (body.checkpoint !== undefined) {
    encoding.writeVarUint(encoder, body.checkpoint.from)
    encoding.writeVarUint8Array(encoder, body.checkpoint.last)
  }
  if (body.vouched !== undefined) {
    encoding.writeVarUint(encoder, body.vouched.length)
    for (const { client, identity } of body.vouched) {
      encoding.writeVarUint(encoder, client)
      encoding.writeVarString(encoder, identity)
    }
  }
}

function readExtensions(decoder: decoding.Decoder): Pick<EnvelopeBody, 'checkpoint' | 'vouched'> | string {
  const flags = decoding.readVarUint(decoder)
  if (flags === 0 || (flags & ~(FLAG_CHECKPOINT | FLAG_VOUCHED)) !== 0) return `unknown extension flags ${flags}`
  let checkpoint: EnvelopeCheckpoint | undefined
  let vouched: VouchedClient[] | undefined
  if ((flags & FLAG_CHECKPOINT) !== 0) {
    const from = decoding.readVarUint(decoder)
    const last = decoding.readVarUint8Array(decoder).slice()
    checkpoint = { from, last }
  }
  if ((flags & FLAG_VOUCHED) !== 0) {
    const count = decoding.readVarUint(decoder)
    if (count < 1 || count > MAX_VOUCHED) return `vouched count must be 1 to ${MAX_VOUCHED}`
    vouched = []
    for (let i = 0; i < count; i++) {
      const client = decoding.readVarUint(decoder)
      const identity = decoding.readVarString(decoder)
      vouched.push({ client, identity })
    }
  }
  return { ...(checkpoint === undefined ? {} : { checkpoint }), ...(vouched === undefined ? {} : { vouched }) }
}

function extensionProblem(envelope: Envelope): string | undefined {
  const { checkpoint, vouched, seq } = envelope
  if (checkpoint !== undefined) {
    if (!Number.isSafeInteger(checkpoint.from) || checkpoint.from < 1 || checkpoint.from > seq) return 'checkpoint from must be 1 to seq'
    if (checkpoint.last.length !== 32) return 'checkpoint last must be 32 bytes'
    if (checkpoint.from === 1 ? envelope.prev.length !== 0 : envelope.prev.length !== 32) return 'checkpoint prev must be the prev of its first envelope'
  }
  if (vouched !== undefined) {
    let previous = 0
    for (const { client, identity } of vouched) {
      if (!Number.isSafeInteger(client) || client <= previous) return 'vouched clients must be ascending safe integers > 0'
      if (identity.length === 0 || identity.length > 200) return 'vouched identity must be 1 to 200 characters'
      previous = client
    }
  }
  return undefined
}

/** The canonical bytes of a signed envelope. */
export function encodeEnvelope(envelope: Envelope): Uint8Array {
  const encoder = encoding.createEncoder()
  writeBody(encoder, envelope)
  encoding.writeVarUint8Array(encoder, envelope.sig)
  return encoding.toUint8Array(encoder)
}

/** The envelope's hash (hex SHA-256 of its body), which is also what the next envelope's `prev` holds. */
export function envelopeHash(body: EnvelopeBody): string {
  return toHex(digest(encodeEnvelopeBody(body)))
}

/** Why bytes are not an envelope. */
export type EnvelopeDecodeFailure =
  | { readonly ok: false; readonly code: 'E_UPDATE_TOO_LARGE'; readonly size: number; readonly limit: number }
  | { readonly ok: false; readonly code: 'E_UPDATE_MALFORMED'; readonly reason: string }

function malformed(reason: string): EnvelopeDecodeFailure {
  return { ok: false, code: 'E_UPDATE_MALFORMED', reason }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** An envelope's fields as written, or why they cannot be read. */
function readFields(bytes: Uint8Array): Envelope | string {
  try {
    const decoder = decoding.createDecoder(bytes)
    const version = decoding.readVarUint(decoder)
    if (version !== ENVELOPE_VERSION && version !== ENVELOPE_VERSION_EXTENDED) return `unknown envelope version ${version}`
    const doc = decoding.readVarString(decoder)
    const author = decoding.readVarString(decoder)
    const session = decoding.readVarUint8Array(decoder)
    const seq = decoding.readVarUint(decoder)
    const prev = decoding.readVarUint8Array(decoder)
    const update = decoding.readVarUint8Array(decoder)
    const extensions = version === ENVELOPE_VERSION ? {} : readExtensions(decoder)
    if (typeof extensions === 'string') return extensions
    const sig = decoding.readVarUint8Array(decoder)
    if (decoding.hasContent(decoder)) return 'trailing bytes'
    return { doc, author, session: session.slice(), seq, prev: prev.slice(), update: update.slice(), ...extensions, sig: sig.slice() }
  } catch (error) {
    return `undecodable: ${error instanceof Error ? error.message : String(error)}`
  }
}

/**
 * Reads again the fields of bytes {@link decodeEnvelope} accepted, without checking them again
 * and without hashing (a receiver that keeps only the bytes of an envelope it already checked).
 * `undefined` for bytes that are not an envelope at all; anything else is not checked.
 */
export function readAcceptedEnvelope(bytes: Uint8Array): Envelope | undefined {
  const envelope = readFields(bytes)
  return typeof envelope === 'string' ? undefined : envelope
}

/**
 * Decodes an envelope. Never throws: anything but the canonical encoding of a well-formed
 * envelope is refused. It does not verify the signature.
 */
export function decodeEnvelope(
  bytes: Uint8Array,
  limits: EnvelopeLimits = defaultEnvelopeLimits,
): { readonly ok: true; readonly envelope: Envelope; readonly hash: string } | EnvelopeDecodeFailure {
  if (!(bytes instanceof Uint8Array)) return malformed('not a Uint8Array')
  if (bytes.byteLength > limits.maxBytes) return { ok: false, code: 'E_UPDATE_TOO_LARGE', size: bytes.byteLength, limit: limits.maxBytes }
  const envelope = readFields(bytes)
  if (typeof envelope === 'string') return malformed(envelope)
  const { doc, author, session, seq, prev, sig } = envelope
  if (doc.length === 0 || doc.length > 300) return malformed('doc must be 1 to 300 characters')
  if (!author.startsWith('did:key:') || author.length > 200) return malformed('author must be a did:key')
  if (session.length !== SESSION_BYTES) return malformed(`session must be ${SESSION_BYTES} bytes`)
  if (!Number.isSafeInteger(seq) || seq < 1) return malformed('seq must be an integer >= 1')
  if (envelope.checkpoint === undefined && (seq === 1 ? prev.length !== 0 : prev.length !== 32)) return malformed(seq === 1 ? 'prev must be empty at seq 1' : 'prev must be 32 bytes')
  const problem = extensionProblem(envelope)
  if (problem !== undefined) return malformed(problem)
  if (sig.length !== 64) return malformed('sig must be 64 bytes')
  // Strings decode leniently (a short read is clamped, invalid UTF-8 replaced): re-encoding
  // exposes every such case, so only canonical bytes are accepted.
  if (!equalBytes(encodeEnvelope(envelope), bytes)) return malformed('not the canonical encoding')
  return { ok: true, envelope, hash: envelopeHash(envelope) }
}

/**
 * The Yjs client id of an author's session: the first 53 bits of SHA-256(author, 0, session).
 * A receiver recomputes it from the envelope, so a struct written under any other client id is
 * not the signer's. Claiming a victim's id means finding a session whose hash under one's own
 * did hits it: a 2^53 preimage search per victim session, on top of which a receiver binds each
 * client id to the first author it saw use it.
 */
export function sessionClientId(author: string, session: Uint8Array): number {
  const authorBytes = encodeUtf8(author)
  const input = new Uint8Array(authorBytes.length + 1 + session.length)
  input.set(authorBytes)
  input.set(session, authorBytes.length + 1)
  const hash = digest(input)
  // 53 bits: the 7 first bytes, top 3 bits of the first dropped (Yjs ids are safe integers).
  let id = (hash[0] as number) & 0x1f
  for (let i = 1; i < 7; i++) id = id * 256 + (hash[i] as number)
  return id === 0 ? 1 : id
}
