/**
 * The verifier's fast reading of a signed record: a hand-written twin of `signedRecordSchema`
 * (zod), which stays the documented schema. Running zod on every record costs more than hashing
 * it; these few `typeof` tests cost a fraction of that. `test/identity/record-shape.test.ts`
 * checks on random and malformed inputs that both accept exactly the same values.
 * Entry point for users: `signed-record.ts`.
 * @module
 */
import { isoDateTime } from '../schema/common'
import { isDidKey } from './did-key'
import type { SignedRecord } from './record-schema'

/** The members a signed record may have (the schema is strict). */
const MEMBERS: ReadonlySet<string> = new Set(['v', 'type', 'doc', 'author', 'clock', 'payload', 'at', 'sig'])

/** The schema's `sig` pattern: 64 bytes in canonical unpadded base64url. */
const SIGNATURE = /^[A-Za-z0-9_-]{85}[AQgw]$/

/**
 * The fields of a value that `signedRecordSchema` accepts, read once into a fresh object, or
 * `undefined` when the schema would reject it (ask the schema why). Like zod, it accepts any
 * non-array object, reads members with ordinary property access, and refuses any enumerable
 * member (own or inherited) that the schema does not know.
 * @param isAuthor - the `author` test, {@link isDidKey} by default; a verifier passes a cached one.
 */
export function readSignedRecord(value: unknown, isAuthor: (did: string) => boolean = isDidKey): SignedRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const record = value as Record<string, unknown>
  for (const member in record) if (!MEMBERS.has(member)) return undefined
  const { v, type, doc, author, clock, payload, at, sig } = record
  if (v !== 1) return undefined
  if (typeof type !== 'string' || type.length < 1 || type.length > 100) return undefined
  if (typeof doc !== 'string' || doc.length < 1 || doc.length > 200) return undefined
  // z.number().int().min(1).max(MAX_SAFE_INTEGER): finite, a safe integer, at least 1.
  if (typeof clock !== 'number' || !Number.isSafeInteger(clock) || clock < 1) return undefined
  if (payload === undefined) return undefined
  if (typeof sig !== 'string' || !SIGNATURE.test(sig)) return undefined
  if (at !== undefined && !isoDateTime.safeParse(at).success) return undefined
  if (typeof author !== 'string' || !isAuthor(author)) return undefined
  return at === undefined
    ? { v, type, doc, author, clock, payload, sig }
    : { v, type, doc, author, clock, payload, at: at as string, sig }
}
