/** Shared fixtures for policy tests: a small roster, record builders and record-set generators. */
import fc from 'fast-check'
import type { Authorize, FailedRecord, PolicyEntry, PolicyRecord } from '../../src/policy/policy-record'
import { arbitraryEntries, makePolicyRecord } from '../../src/testing/policy-tests'

export const ALICE = 'did:key:zAlice'
export const BOB = 'did:key:zBob'
export const CAROL = 'did:key:zCarol'
export const DAVE = 'did:key:zDave'
export const MALLORY = 'did:key:zMallory'
export const AUTHORS = [ALICE, BOB, CAROL, DAVE, MALLORY] as const

/**
 * A fixed roster: Alice is staff; Bob is staff until clock 8 (revoked at 9); Alice, Bob, Carol
 * and Dave are voters and citizens; Mallory holds nothing.
 */
export const authorize: Authorize = (author, role, clock) => {
  switch (role) {
    case 'staff':
      return author === ALICE || (author === BOB && clock <= 8)
    case 'voter':
    case 'citizen':
      return author !== MALLORY
    default:
      return false
  }
}

/** A record with a real content hash. */
export function rec<P>(author: string, clock: number, type: string, payload: P): PolicyRecord<P> {
  return makePolicyRecord({ author, clock, type, payload })
}

/** The record passed as a failed signature. */
export function forged(record: PolicyRecord): FailedRecord {
  return { record, code: 'E_SIGNATURE', reason: 'signature does not verify' }
}

/** Entries for register-like policies: `{ value }` payloads, some with `supersedes`. */
export function valueEntries(value: fc.Arbitrary<unknown>, types: readonly string[] = ['write']): fc.Arbitrary<PolicyEntry[]> {
  return arbitraryEntries({ authors: AUTHORS, types, payload: fc.record({ value }) }).chain((entries) => withSupersedes(entries))
}

/** Lets some records name the hashes of others in `supersedes` (re-hashing them). */
export function withSupersedes(entries: PolicyEntry[]): fc.Arbitrary<PolicyEntry[]> {
  const hashes = entries.map((e) => ('code' in e ? e.record.hash : e.hash))
  if (hashes.length === 0) return fc.constant(entries)
  return fc.array(fc.subarray(hashes, { maxLength: Math.min(3, hashes.length) }), { minLength: entries.length, maxLength: entries.length }).map((lists) =>
    entries.map((entry, i) => {
      const list = lists[i] as string[]
      if ('code' in entry || list.length === 0) return entry
      return rec(entry.author, entry.clock, entry.type, { ...(entry.payload as object), supersedes: list })
    }),
  )
}

/** A random permutation drawn from a seeded generator, for example-based tests. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items]
  let s = seed >>> 0
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}
