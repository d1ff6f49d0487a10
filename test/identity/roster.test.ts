import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { contentHash } from '../../src/encoding/canonical'
import { CabildoError } from '../../src/errors'
import { keyPairFromSeed, type KeyPair } from '../../src/identity/keys'
import { grantRole, resolveRoster, revokeRole, Roles, ROSTER_GRANT, type Roster } from '../../src/identity/roster'
import { filterVerified, signRecord, type SignedRecord, type VerifiedRecord } from '../../src/identity/signed-record'

const DOC = 'roster/north'
let root: KeyPair
let alice: KeyPair
let bob: KeyPair
let carol: KeyPair

function seed(n: number): Uint8Array {
  return new Uint8Array(32).fill(n)
}

async function verified(records: SignedRecord[]): Promise<VerifiedRecord[]> {
  const { verified: ok, rejected } = await filterVerified(records, { doc: DOC })
  expect(rejected).toEqual([])
  return ok
}

beforeAll(async () => {
  const keys = await Promise.all([1, 2, 3, 4].map((n) => keyPairFromSeed(seed(n))))
  ;[root, alice, bob, carol] = keys as [KeyPair, KeyPair, KeyPair, KeyPair]
})

describe('resolveRoster', () => {
  it('grant, revoke and re-grant: the role counts from the grant clock up to, not including, the revoke clock', async () => {
    const records = await verified([
      await grantRole(root, { doc: DOC, clock: 1, subject: alice.did, role: Roles.staff }),
      await revokeRole(root, { doc: DOC, clock: 5, subject: alice.did, role: Roles.staff }),
      await grantRole(root, { doc: DOC, clock: 8, subject: alice.did, role: Roles.staff }),
    ])
    const roster = resolveRoster(root.did, records)
    const held = [0, 1, 4, 5, 7, 8, 100].map((c) => roster.hasRole(alice.did, 'staff', c))
    expect(held).toEqual([false, true, true, false, false, true, true])
    expect(roster.grants.map((s) => [s.from, s.until])).toEqual([
      [1, 5],
      [8, undefined],
    ])
    expect(roster.grants[0]?.grant).toBe(records[0]?.hash)
    expect(roster.grants[0]?.revoke).toBe(records[1]?.hash)
    expect(roster.rolesOf(alice.did)).toEqual(['staff'])
    expect(roster.rolesOf(alice.did, 6)).toEqual([])
    expect(roster.holdersOf('staff', 2)).toEqual([alice.did])
  })

  it('roles are independent per subject and per role; a revoke without a grant, or a second grant, changes nothing', async () => {
    const roster = resolveRoster(
      root.did,
      await verified([
        await revokeRole(root, { doc: DOC, clock: 1, subject: bob.did, role: Roles.moderator }),
        await grantRole(root, { doc: DOC, clock: 2, subject: bob.did, role: Roles.moderator }),
        await grantRole(root, { doc: DOC, clock: 3, subject: bob.did, role: Roles.moderator }),
        await grantRole(root, { doc: DOC, clock: 2, subject: bob.did, role: Roles.agency('parks') }),
        await grantRole(root, { doc: DOC, clock: 2, subject: carol.did, role: Roles.voter('b-2026') }),
        await revokeRole(root, { doc: DOC, clock: 4, subject: bob.did, role: Roles.agency('parks') }),
      ]),
    )
    expect(roster.hasRole(bob.did, 'moderator', 1)).toBe(false)
    expect(roster.hasRole(bob.did, 'moderator', 10)).toBe(true)
    expect(roster.grants.filter((s) => s.role === 'moderator').map((s) => s.from)).toEqual([2])
    expect(roster.hasRole(bob.did, 'agency:parks', 3)).toBe(true)
    expect(roster.hasRole(bob.did, 'agency:parks', 4)).toBe(false)
    expect(roster.hasRole(carol.did, 'voter:b-2026', 4)).toBe(true)
    expect(roster.hasRole(carol.did, 'moderator', 4)).toBe(false)
    expect(roster.rolesOf(bob.did, 3)).toEqual(['agency:parks', 'moderator'])
    expect(roster.hasRole(root.did, 'staff', 4)).toBe(false) // the root holds no role implicitly
  })

  it('rejects grants not signed by the root (E_FORBIDDEN) and malformed payloads (E_INVALID); ignores other record types', async () => {
    const forged = await grantRole(alice, { doc: DOC, clock: 1, subject: alice.did, role: 'staff' })
    const malformed = await signRecord(root, { type: ROSTER_GRANT, doc: DOC, clock: 2, payload: { subject: 'bob', role: 'staff' } })
    const unrelated = await signRecord(root, { type: 'comment', doc: DOC, clock: 3, payload: { text: 'hi' } })
    const roster = resolveRoster(root.did, await verified([forged, malformed, unrelated]))
    expect(roster.grants).toEqual([])
    expect(roster.rejected.map((r) => [r.record, r.code])).toEqual([
      [forged, 'E_FORBIDDEN'],
      [malformed, 'E_INVALID'],
    ])
    expect(roster.hasRole(alice.did, 'staff', 5)).toBe(false)
  })

  it('a grant and a revoke at the same clock resolve by record hash: the higher hash is later', async () => {
    const g = await grantRole(root, { doc: DOC, clock: 4, subject: alice.did, role: 'staff' })
    const r = await revokeRole(root, { doc: DOC, clock: 4, subject: alice.did, role: 'staff' })
    const hashOf = ({ sig: _sig, ...body }: SignedRecord): string => contentHash(body)
    const revokeIsLater = hashOf(r) > hashOf(g)
    const roster = resolveRoster(root.did, await verified([r, g]))
    expect(roster.hasRole(alice.did, 'staff', 4)).toBe(!revokeIsLater)
    expect(roster.hasRole(alice.did, 'staff', 9)).toBe(!revokeIsLater)
  })

  it('refuses a root that is not a did:key (E_ARGUMENT), and grantRole refuses a bad subject (E_SCHEMA)', async () => {
    expect(() => resolveRoster('root', [])).toThrow(CabildoError)
    const err = await grantRole(root, { doc: DOC, clock: 1, subject: 'alice', role: 'staff' }).catch((e: unknown) => e)
    expect(CabildoError.is(err, 'E_SCHEMA')).toBe(true)
    const empty = await grantRole(root, { doc: DOC, clock: 1, subject: alice.did, role: '' }).catch((e: unknown) => e)
    expect(CabildoError.is(empty, 'E_SCHEMA')).toBe(true)
  })
})

describe('resolveRoster properties', () => {
  const roles = ['staff', 'moderator', 'agency:parks']
  let pool: VerifiedRecord[] = []
  let subjects: string[] = []

  beforeAll(async () => {
    subjects = [alice.did, bob.did, carol.did]
    // A fixed pool of roster records: 60 by the root, with clashing clocks, plus a few forgeries.
    const rng = fc.sample(
      fc.record({ kind: fc.constantFrom('grant', 'revoke'), s: fc.nat(2), r: fc.nat(2), clock: fc.integer({ min: 1, max: 12 }) }),
      { seed: 7, numRuns: 60 },
    )
    const signed: SignedRecord[] = []
    for (const { kind, s, r, clock } of rng) {
      const change = { doc: DOC, clock, subject: subjects[s] as string, role: roles[r] as string }
      signed.push(await (kind === 'grant' ? grantRole(root, change) : revokeRole(root, change)))
    }
    for (const clock of [2, 6]) signed.push(await grantRole(bob, { doc: DOC, clock, subject: bob.did, role: 'staff' }))
    pool = await verified(signed)
  })

  /** The rule, stated directly: the last roster event with clock <= c, in (clock, author, hash) order, is a grant. */
  function reference(records: VerifiedRecord[], subject: string, role: string, c: number): boolean {
    const events = records
      .filter(({ record }) => record.author === root.did && record.clock <= c)
      .filter(({ record }) => {
        const p = record.payload as { subject: string; role: string }
        return p.subject === subject && p.role === role
      })
      .sort((a, b) => a.record.clock - b.record.clock || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
    return events.at(-1)?.record.type === ROSTER_GRANT
  }

  function snapshot(roster: Roster): unknown {
    const held = subjects.flatMap((s) => roles.flatMap((r) => Array.from({ length: 14 }, (_, c) => roster.hasRole(s, r, c))))
    return { grants: roster.grants, rejected: roster.rejected.map((x) => x.hash), held }
  }

  it('any order and any duplication of the same records give the same roster', () => {
    const full = resolveRoster(root.did, pool)
    const expected = snapshot(full)
    // The pool exercises the rule: roles are held and not held, and the forgeries are rejected.
    expect((expected as { held: boolean[] }).held).toContain(true)
    expect((expected as { held: boolean[] }).held).toContain(false)
    expect(full.grants.some((s) => s.until !== undefined)).toBe(true)
    expect(full.rejected.map((r) => r.code)).toEqual(['E_FORBIDDEN', 'E_FORBIDDEN'])
    fc.assert(
      fc.property(fc.shuffledSubarray(pool, { minLength: pool.length }), fc.subarray(pool), (shuffled, extra) => {
        expect(snapshot(resolveRoster(root.did, [...shuffled, ...extra]))).toEqual(expected)
      }),
      { seed: 42, numRuns: 100 },
    )
  })

  it('hasRole agrees with the rule stated directly, for any subset of the records', () => {
    fc.assert(
      fc.property(fc.subarray(pool), (subset) => {
        const roster = resolveRoster(root.did, subset)
        for (const s of subjects) {
          for (const r of roles) {
            for (let c = 0; c <= 13; c++) expect(roster.hasRole(s, r, c)).toBe(reference(subset, s, r, c))
          }
        }
      }),
      { seed: 42, numRuns: 100 },
    )
  })
})
