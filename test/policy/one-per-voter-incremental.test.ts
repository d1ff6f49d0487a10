import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { contentHash } from '../../src/encoding/canonical'
import type { Resolution } from '../../src/policy/merge-policy'
import { onePerVoter, type BallotValidation, type OnePerVoterView } from '../../src/policy/one-per-voter'
import { isFailedRecord, recordShapeProblem, type FailedRecord, type PolicyEntry, type PolicyRecord } from '../../src/policy/policy-record'
import { prepareEntries, sortRejected } from '../../src/policy/record-intake'
import { arbitraryEntries } from '../../src/testing/policy-tests'
import { ALICE, AUTHORS, BOB, CAROL, DAVE, authorize, rec } from './helpers'

/** An approval ballot with at most two projects. */
const validate = (payload: unknown): BallotValidation => {
  const projects = (payload as { projects?: unknown }).projects
  if (!Array.isArray(projects)) return { ok: false, reason: 'projects is not a list', rule: 'shape' }
  return projects.length <= 2 ? { ok: true } : { ok: false, reason: `${projects.length} projects, at most 2`, rule: 'maxProjects' }
}
const policy = onePerVoter({ authorize, eligibilityRole: 'voter', closeRole: 'staff', validate })

/** Other failed copies of a record: another code or reason, fields that do not match its hash, or only the hash. */
const failedVariant = (record: PolicyRecord, variant: number): FailedRecord => {
  switch (variant) {
    case 0:
      return { record: { hash: record.hash }, code: 'E_INVALID', reason: 'body does not parse' }
    case 1:
      return { record, code: 'E_SIGNATURE', reason: 'another reason' }
    default:
      return { record: { ...record, clock: record.clock + 3, author: DAVE }, code: 'E_SIGNATURE', reason: 'signature does not verify' }
  }
}

/** Records whose shape is wrong (a clock that is not an integer >= 1, an empty author). */
const malformed = fc
  .record({ author: fc.constantFrom('', CAROL), clock: fc.constantFrom(0, -2, 1.5, 3), type: fc.constant('ballot'), payload: fc.constant({ projects: [] }) })
  .filter((body) => body.author === '' || body.clock !== 3)
  .map((body) => ({ ...body, hash: contentHash(body) }) as PolicyRecord)

/**
 * A voting log delivered in some order: ballots, closes (authorized or not) and other records,
 * failed copies of all kinds, malformed records, and repeated entries.
 */
const deliveries: fc.Arbitrary<PolicyEntry[]> = fc
  .tuple(
    arbitraryEntries({
      authors: AUTHORS,
      types: ['ballot', 'ballot', 'ballot', 'ballot.close', 'ballot.close', 'comment'],
      payload: fc.record({ projects: fc.uniqueArray(fc.constantFrom('p1', 'p2', 'p3'), { maxLength: 3 }) }),
      maxLength: 18,
    }),
    fc.array(fc.tuple(fc.nat(), fc.nat(2)), { maxLength: 5 }),
    fc.array(malformed, { maxLength: 2 }),
    fc.array(fc.nat(), { maxLength: 6 }),
  )
  .chain(([entries, variants, broken, repeats]) => {
    const records = entries.filter((e) => !isFailedRecord(e)) as PolicyRecord[]
    const failed = records.length === 0 ? [] : variants.map(([i, v]) => failedVariant(records[i % records.length] as PolicyRecord, v))
    const all: PolicyEntry[] = [...entries, ...failed, ...broken]
    const repeated = all.length === 0 ? [] : repeats.map((i) => all[i % all.length] as PolicyEntry)
    const delivered = [...all, ...repeated]
    return fc.shuffledSubarray(delivered, { minLength: delivered.length, maxLength: delivered.length })
  })

describe('onePerVoter incremental views', () => {
  it('after every add, in any order with repeats, equal resolve of the entries added so far, and earlier views never change', () => {
    fc.assert(
      fc.property(deliveries, (delivered) => {
        const live = policy.incremental()
        const seen: Array<[Resolution<OnePerVoterView>, Resolution<OnePerVoterView>]> = []
        delivered.forEach((entry, i) => {
          live.add(entry)
          const view = live.view()
          const expected = policy.resolve(delivered.slice(0, i + 1))
          expect(view).toStrictEqual(expected)
          seen.push([view, expected])
        })
        // Views are snapshots: what later adds did changed none of the views returned before.
        for (const [view, expected] of seen) expect(view).toStrictEqual(expected)
      }),
      { seed: 42, numRuns: 200 },
    )
  })

  it('report failed and malformed entries exactly as the shared intake does, in the total order', () => {
    const onlyBroken = deliveries.map((entries) => entries.filter((e) => isFailedRecord(e) || recordShapeProblem(e) !== undefined))
    fc.assert(
      fc.property(onlyBroken, (delivered) => {
        const live = policy.incremental()
        delivered.forEach((entry, i) => {
          live.add(entry)
          expect(live.view().rejected).toStrictEqual(sortRejected(prepareEntries(delivered.slice(0, i + 1)).refusals))
        })
      }),
      { seed: 7, numRuns: 150 },
    )
  })

  it('list rejected records in the total order of their records (clock, author, hash)', () => {
    /** Where a refused hash sorts: its verified copy's fields, else those of the failed copy the intake keeps (smallest code, then reason). */
    const placeOf = (delivered: readonly PolicyEntry[], hash: string): { clock: number; author: string } => {
      const copies = delivered.filter((e) => (isFailedRecord(e) ? e.record.hash : e.hash) === hash)
      const verified = copies.find((e): e is PolicyRecord => !isFailedRecord(e))
      const failed = copies.filter(isFailedRecord).sort((x, y) => (x.code !== y.code ? (x.code < y.code ? -1 : 1) : x.reason < y.reason ? -1 : x.reason > y.reason ? 1 : 0))
      const fields = verified ?? (failed[0] as FailedRecord).record
      return {
        clock: typeof fields.clock === 'number' && Number.isSafeInteger(fields.clock) ? fields.clock : 0,
        author: typeof fields.author === 'string' ? fields.author : '',
      }
    }
    fc.assert(
      fc.property(deliveries, (delivered) => {
        const { rejected } = policy.resolve(delivered)
        expect(rejected).toStrictEqual(sortRejected(rejected.map((r) => ({ ...placeOf(delivered, r.hash), rejected: r }))))
      }),
      { seed: 11, numRuns: 150 },
    )
  })

  it('after bursts of hundreds of adds between views, with closes among them, equal resolve of the same set', () => {
    const voters = Array.from({ length: 400 }, (_, i) => `did:key:zV${i.toString(36).padStart(3, '0')}`)
    const everyone = onePerVoter({ authorize: (author, role) => role === 'voter' || author === ALICE, eligibilityRole: 'voter', closeRole: 'staff' })
    const ballotOf = ([voter, clock]: [number, number]): PolicyRecord =>
      rec(voters[voter % voters.length] as string, clock, 'ballot', { v: voter % 3 })
    const log = fc
      .tuple(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 60 })), { minLength: 300, maxLength: 900 }),
        fc.array(fc.integer({ min: 20, max: 70 }), { maxLength: 3 }),
        fc.array(fc.integer({ min: 20, max: 400 }), { minLength: 1, maxLength: 6 }),
      )
      .chain(([ballots, closeClocks, bursts]) => {
        const entries: PolicyEntry[] = [...ballots.map(ballotOf), ...closeClocks.map((c) => rec(ALICE, c, 'ballot.close', {}))]
        return fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }).map((shuffled) => [shuffled, bursts] as const)
      })
    fc.assert(
      fc.property(log, ([entries, bursts]) => {
        const live = everyone.incremental()
        let at = 0
        for (let b = 0; at < entries.length; b++) {
          const next = Math.min(entries.length, at + (bursts[b % bursts.length] as number))
          for (; at < next; at++) live.add(entries[at] as PolicyEntry)
          expect(live.view()).toStrictEqual(everyone.resolve(entries.slice(0, at)))
        }
      }),
      { seed: 42, numRuns: 12 },
    )
  })

  it('share unchanged result arrays with the previous view and copy only those that changed', () => {
    const live = policy.incremental()
    const carol = rec(CAROL, 5, 'ballot', { projects: ['p1'] })
    live.add(carol)
    live.add(rec(DAVE, 4, 'ballot', { projects: ['p2'] }))
    const first = live.view()
    const copy = structuredClone(first)
    // An earlier ballot of Carol: only the conflicts change.
    live.add(rec(CAROL, 2, 'ballot', { projects: ['p2'] }))
    const second = live.view()
    expect(second.view.ballots).toBe(first.view.ballots)
    expect(second.rejected).toBe(first.rejected)
    expect(second.conflicts).not.toBe(first.conflicts)
    expect(second.conflicts).toHaveLength(1)
    // The close, then a re-vote after it: late, so the ballots stay the same array.
    live.add(rec(BOB, 5, 'ballot.close', {}))
    live.add(rec(CAROL, 9, 'ballot', { projects: ['p3'] }))
    const third = live.view()
    expect(third.view.ballots).toBe(first.view.ballots)
    expect(third.rejected.map((r) => r.code)).toEqual(['E_LATE'])
    // A re-vote in time: the ballots change, in a new array; the earlier views are untouched.
    const dave = rec(DAVE, 5, 'ballot', { projects: ['p1'] })
    live.add(dave)
    const fourth = live.view()
    expect(fourth.view.ballots).not.toBe(third.view.ballots)
    expect(fourth.view.ballots.map((b) => b.hash)).toEqual([carol.hash, dave.hash])
    expect(first).toEqual(copy)
    expect(third.view.ballots.map((b) => b.hash)).toEqual(copy.view.ballots.map((b) => b.hash))
    expect(live.view()).toBe(fourth)
  })

  it('a close earlier in the total order than the counting one, arriving later, takes over and re-settles every voter', () => {
    const live = policy.incremental()
    const ballots = [rec(CAROL, 3, 'ballot', { projects: ['p1'] }), rec(CAROL, 6, 'ballot', { projects: ['p2'] }), rec(DAVE, 7, 'ballot', { projects: [] })]
    for (const b of ballots) live.add(b)
    const late = rec(ALICE, 8, 'ballot.close', {})
    live.add(late)
    expect(live.view().view.ballots.map((b) => b.clock)).toEqual([6, 7])
    const early = rec(BOB, 5, 'ballot.close', {})
    live.add(early)
    const after = live.view()
    expect(after.view.close?.hash).toBe(early.hash)
    expect(after.view.ballots.map((b) => b.hash)).toEqual([ballots[0]?.hash])
    expect(after.conflicts).toEqual([{ kind: 'lost', path: [], hashes: [late.hash], winner: early.hash, reason: expect.any(String) }])
    expect(after.rejected.map((r) => r.code)).toEqual(['E_LATE', 'E_LATE'])
    expect(after).toStrictEqual(policy.resolve([...ballots, early, late]))
  })
})
