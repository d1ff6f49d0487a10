/**
 * The act log of a shard: signed records of policy-relevant acts (a ticket closed, a ballot cast,
 * a role granted), stored in one Y.Map of the shard document keyed by each record's hash.
 *
 * Keyed by content hash, the log is append-only, idempotent and order-free: the same act written
 * twice, or received from two peers, is one entry; acts merge whatever order they arrive in. The
 * log holds records as they are; whether they count is decided when it is read, by verifying
 * each signature and letting a merge policy fold what passed.
 * @module
 */
import type * as Y from 'yjs'
import { recordHash, type SignedRecord } from '../identity/signed-record'
import { defaultVerifier, type Verifier } from '../identity/verifier'
import { isFailedRecord, type FailedRecord, type PolicyEntry, type PolicyRecord } from '../policy/policy-record'

/** The name of the top-level Y.Map holding a shard's act log. */
export const ACT_LOG = 'acts'

/** The act log map of a shard document. */
export function actLogOf(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>(ACT_LOG)
}

/**
 * Appends a signed record to a shard's act log, in one transaction with `origin`.
 * Appending a record that is already there changes nothing.
 * @returns the record's hash (its key in the log).
 */
export function appendAct(doc: Y.Doc, record: SignedRecord, origin: unknown): string {
  const hash = recordHash(record)
  const log = actLogOf(doc)
  if (!log.has(hash)) doc.transact(() => log.set(hash, record), origin)
  return hash
}

/** The largest Lamport clock in an act log, counting every entry whatever its validity (0 when empty). */
export function maxActClock(doc: Y.Doc): number {
  let max = 0
  for (const value of actLogOf(doc).values()) {
    const clock = (value as { clock?: unknown } | null)?.clock
    if (typeof clock === 'number' && Number.isSafeInteger(clock) && clock > max) max = clock
  }
  return max
}

function partialOf(value: unknown): Partial<Omit<PolicyRecord, 'hash'>> {
  if (typeof value !== 'object' || value === null) return {}
  const v = value as Record<string, unknown>
  const out: { author?: string; clock?: number; type?: string; payload?: unknown } = {}
  if (typeof v['author'] === 'string') out.author = v['author']
  if (typeof v['clock'] === 'number') out.clock = v['clock']
  if (typeof v['type'] === 'string') out.type = v['type']
  if ('payload' in v) out.payload = v['payload']
  return out
}

/**
 * Reads and verifies the acts of a shard as policy entries: verified records, and failed ones
 * (bad signature, malformed, signed for another document, stored under a key that is not its
 * hash) so that policies report them instead of silently dropping them.
 * @param docId - the id records of this document are signed for (a record for any other is a replay)
 * @param filter - keeps only the entries a policy needs (e.g. of one ticket); applied before verification
 */
export async function readActs(
  doc: Y.Doc,
  docId: string,
  filter: (value: unknown) => boolean = () => true,
  verifier: Verifier = defaultVerifier,
): Promise<PolicyEntry[]> {
  const pairs: Array<readonly [string, unknown]> = []
  for (const [key, value] of actLogOf(doc).entries()) {
    if (filter(value)) pairs.push([key, value])
  }
  return verifyActs(pairs, docId, verifier)
}

/**
 * Verifies some entries of an act log, given as `[key, value]` pairs (e.g. the entries a
 * transaction just added), exactly as {@link readActs} verifies the whole log.
 * @param docId - the id records of this document are signed for (a record for any other is a replay)
 */
export async function verifyActs(
  pairs: ReadonlyArray<readonly [string, unknown]>,
  docId: string,
  verifier: Verifier = defaultVerifier,
): Promise<PolicyEntry[]> {
  const values = pairs.map(([, value]) => value)
  const results = await verifier.verifyMany(values, { doc: docId })
  return results.map((result, i): PolicyEntry => {
    const key = (pairs[i] as readonly [string, unknown])[0]
    const value = values[i]
    if (!result.ok) return { record: { hash: result.hash ?? key, ...partialOf(value) }, code: result.code, reason: result.reason } satisfies FailedRecord
    if (result.hash !== key) {
      return { record: { hash: key, ...partialOf(value) }, code: 'E_INVALID', reason: `stored under ${key}, which is not its hash ${result.hash}` }
    }
    const record = value as SignedRecord
    const entry: PolicyRecord = { hash: result.hash, author: record.author, clock: record.clock, type: record.type, payload: record.payload }
    return record.at === undefined ? entry : { ...entry, at: record.at }
  })
}

/** The type of an act-log entry, verified or not (`undefined` when a failed record has none). */
export function actType(entry: PolicyEntry): string | undefined {
  return isFailedRecord(entry) ? entry.record.type : entry.type
}
