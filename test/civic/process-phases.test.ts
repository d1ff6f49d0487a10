import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { boundKey } from '../../src/civic/bound-key'
import { processGovernance, ProcessAct, resolveProcess, type AuthorizeIn } from '../../src/civic/process-phases'
import { ProposalAct, proposalBodyHash, resolveProposal } from '../../src/civic/proposal-lifecycle'
import type { Authorize, PolicyRecord } from '../../src/policy/policy-record'
import { plannedPhaseAt, Process, processPhaseIssues, processPhaseOrder, type ProcessPhaseEntry } from '../../src/schema/process'
import { makePolicyRecord } from '../../src/testing/policy-tests'

const STAFF = 'did:key:zStaff'
const OTHER_STAFF = 'did:key:zOtherStaff'
const SOUTH_STAFF = 'did:key:zSouthStaff'
const AUTHOR = 'did:key:zAuthor'
const KEY = 'pb'

const rosters: Record<string, Authorize> = {
  north: (who, role) => role === 'staff' && (who === STAFF || who === OTHER_STAFF),
  south: (who, role) => role === 'staff' && who === SOUTH_STAFF,
}
const authorizeIn: AuthorizeIn = (district) => rosters[district] ?? (() => false)

const record = (author: string, clock: number, type: string, payload: Record<string, unknown>): PolicyRecord => makePolicyRecord({ author, clock, type, payload })
const processId = (creator: string, nonce: string) => `process.${KEY}/${boundKey(creator, nonce)}`
const create = (creator: string, clock: number, nonce = 'n1', district = 'north') =>
  record(creator, clock, ProcessAct.create, { process: processId(creator, nonce), nonce, key: KEY, district })
const PID = processId(STAFF, 'n1')
const phase = (author: string, clock: number, from: string, to: string, extra: Record<string, unknown> = {}) =>
  record(author, clock, ProcessAct.phase, { process: PID, from, to, ...extra })
const openSupports = (clock: number, supportThreshold = 2) => phase(STAFF, clock, 'proposing', 'supports', { terms: { supportThreshold } })

const at = (day: number) => `2026-03-${String(day).padStart(2, '0')}T00:00:00Z`
const plan = (...entries: Array<[ProcessPhaseEntry['phase'], number, number]>): ProcessPhaseEntry[] =>
  entries.map(([p, start, end]) => ({ phase: p, start: at(start), end: at(end) }))

describe('process phase plans', () => {
  it('a plan in order, without overlaps, is valid; a phase may start the instant the previous ends; phases may be left out', () => {
    expect(processPhaseIssues(plan(['proposing', 1, 10], ['supports', 10, 20], ['evaluation', 21, 25], ['results', 25, 25]))).toEqual([])
    expect(processPhaseIssues(plan(['proposing', 1, 10], ['results', 12, 13]))).toEqual([])
    expect(processPhaseIssues([])).toEqual([])
  })

  it('reports overlaps, phases out of order, repeated phases and phases that end before they start, each with its path', () => {
    const issues = processPhaseIssues(plan(['proposing', 1, 10], ['supports', 9, 20], ['supports', 21, 22], ['evaluation', 25, 23]))
    expect(issues.map((i) => [i.code, ...i.path])).toEqual([
      ['phase_overlap', 1, 'start'],
      ['phase_duplicate', 2, 'phase'],
      ['phase_dates', 3, 'end'],
    ])
    const reversed = processPhaseIssues(plan(['supports', 1, 2], ['proposing', 3, 4]))
    expect(reversed.map((i) => [i.code, ...i.path])).toEqual([['phase_order', 1, 'phase']])
  })

  it('compares dates as instants, whatever their offsets', () => {
    const entries: ProcessPhaseEntry[] = [
      { phase: 'proposing', start: '2026-03-01T00:00:00Z', end: '2026-03-10T12:00:00+02:00' }, // 10:00Z
      { phase: 'supports', start: '2026-03-10T11:00:00+01:00', end: '2026-03-20T00:00:00Z' }, // 10:00Z: touching
    ]
    expect(processPhaseIssues(entries)).toEqual([])
    expect(processPhaseIssues([entries[0] as ProcessPhaseEntry, { ...(entries[1] as ProcessPhaseEntry), start: '2026-03-10T10:59:00+01:00' }])[0]?.code).toBe('phase_overlap')
  })

  it('any plan of ordered, disjoint phases is valid; swapping two of its phases makes it invalid (property)', () => {
    const plans = fc
      .uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 4 })
      .chain((ranks) => fc.tuple(fc.constant([...ranks].sort()), fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: ranks.length * 2, maxLength: ranks.length * 2 })))
      .map(([ranks, times]) => {
        const sorted = [...times].sort((a, b) => a - b)
        return ranks.map((rank, i) => ({
          phase: processPhaseOrder[rank] as ProcessPhaseEntry['phase'],
          start: new Date(Date.UTC(2026, 0, 1) + (sorted[2 * i] as number) * 60_000).toISOString(),
          end: new Date(Date.UTC(2026, 0, 1) + (sorted[2 * i + 1] as number) * 60_000).toISOString(),
        }))
      })
    fc.assert(
      fc.property(plans, (entries) => {
        expect(processPhaseIssues(entries)).toEqual([])
        const swapped = [entries[1], entries[0], ...entries.slice(2)] as ProcessPhaseEntry[]
        expect(processPhaseIssues(swapped).length).toBeGreaterThan(0)
      }),
      { seed: 42, numRuns: 200 },
    )
  })

  it('the Process schema checks the plan on every write and read', () => {
    const base = { id: 'process.pb/x', schemaVersion: 1, title: 'PB', district: 'north', key: KEY, supportThreshold: 3 }
    expect(Process.schema.safeParse({ ...base, phases: plan(['proposing', 1, 10], ['supports', 10, 20]) }).success).toBe(true)
    const bad = Process.schema.safeParse({ ...base, phases: plan(['proposing', 1, 10], ['supports', 5, 20]) })
    expect(bad.error?.issues.map((i) => i.path)).toEqual([['phases', 1, 'start']])
    expect(Process.schema.safeParse({ ...base, supportThreshold: 0 }).success).toBe(false)
  })

  it('the planned phase at an instant is data for display: inside a phase, or undefined between phases', () => {
    const entries = plan(['proposing', 1, 10], ['supports', 12, 20])
    expect([plannedPhaseAt(entries, at(5)), plannedPhaseAt(entries, at(10)), plannedPhaseAt(entries, at(12))]).toEqual(['proposing', undefined, 'supports'])
  })
})

describe('process governance', () => {
  it('staff creates the process, opens supports signing the threshold, then evaluation and results', () => {
    const acts = [create(STAFF, 1), openSupports(2, 5), phase(STAFF, 3, 'supports', 'evaluation'), phase(OTHER_STAFF, 4, 'evaluation', 'results')]
    const view = resolveProcess({ id: PID, phases: plan(['proposing', 1, 2]) }, acts, authorizeIn)
    expect(view).toMatchObject({ governing: true, phase: 'results', threshold: 5, creation: { id: PID, key: KEY, district: 'north', creator: STAFF } })
    expect(view.history.map((t) => t.to)).toEqual(['supports', 'evaluation', 'results'])
    expect(view.planned).toEqual(plan(['proposing', 1, 2]))
    expect(view.rejected).toEqual([])
    expect(processGovernance(KEY, acts, authorizeIn)).toMatchObject({ id: PID, phase: 'results', threshold: 5 })
  })

  it('a creation by someone who is not staff of its district governs nothing; its acts are refused', () => {
    const id = processId(AUTHOR, 'n1')
    const byCitizen = create(AUTHOR, 1)
    const theirOpen = record(AUTHOR, 2, ProcessAct.phase, { process: id, from: 'proposing', to: 'supports', terms: { supportThreshold: 1 } })
    expect(processGovernance(KEY, [byCitizen, theirOpen], authorizeIn)).toBeUndefined()
    const view = resolveProcess({ id }, [byCitizen, theirOpen], authorizeIn)
    expect(view.governing).toBe(false)
    expect(view.rejected.map((r) => [r.hash, r.code])).toEqual([
      [byCitizen.hash, 'E_FORBIDDEN'],
      [theirOpen.hash, 'E_FORBIDDEN'],
    ])
  })

  it('of two authorized creations for one key, the first in the total order governs; the other reports a lost conflict', () => {
    const first = create(STAFF, 1)
    const second = create(SOUTH_STAFF, 1, 'n2', 'south') // concurrent, another district
    const winner = SOUTH_STAFF < STAFF ? second : first
    const loser = winner === first ? second : first
    const loserId = (loser.payload as { process: string }).process
    expect(processGovernance(KEY, [second, first], authorizeIn)?.id).toBe((winner.payload as { process: string }).process)
    const view = resolveProcess({ id: loserId }, [first, second], authorizeIn)
    expect(view.governing).toBe(false)
    expect(view.conflicts).toEqual([expect.objectContaining({ kind: 'lost', hashes: [loser.hash], winner: winner.hash })])
  })

  it('opening supports without signed terms, a phase act by a non-staff key, and one not after the creation are refused', () => {
    const bare = phase(STAFF, 2, 'proposing', 'supports')
    const byAuthor = phase(AUTHOR, 3, 'proposing', 'supports', { terms: { supportThreshold: 1 } })
    const early = record(STAFF, 1, ProcessAct.phase, { process: PID, from: 'proposing', to: 'supports', terms: { supportThreshold: 1 } })
    const view = resolveProcess({ id: PID }, [create(STAFF, 1), bare, byAuthor, early], authorizeIn)
    expect(view.phase).toBe('proposing')
    const rules = Object.fromEntries(view.rejected.map((r) => [r.hash, `${r.code}/${r.rule ?? ''}`]))
    expect(rules).toEqual({ [bare.hash]: 'E_INVALID/terms', [byAuthor.hash]: 'E_FORBIDDEN/', [early.hash]: 'E_INVALID/before-creation' })
  })

  it('resolves the same view from any order of the same acts, with repeats (property)', () => {
    const acts = [create(STAFF, 1), create(OTHER_STAFF, 1, 'n9'), openSupports(3), phase(OTHER_STAFF, 3, 'proposing', 'supports', { terms: { supportThreshold: 9 } }), phase(STAFF, 5, 'supports', 'evaluation'), phase(AUTHOR, 6, 'evaluation', 'results')]
    const expected = resolveProcess({ id: PID }, acts, authorizeIn)
    fc.assert(
      fc.property(fc.shuffledSubarray(acts, { minLength: acts.length, maxLength: acts.length }), fc.array(fc.constantFrom(...acts), { maxLength: 3 }), (order, repeats) => {
        expect(resolveProcess({ id: PID }, [...order, ...repeats], authorizeIn)).toEqual(expected)
        expect(processGovernance(KEY, [...order, ...repeats], authorizeIn)).toEqual(processGovernance(KEY, acts, authorizeIn))
      }),
      { seed: 42, numRuns: 150 },
    )
  })
})

describe('supports under a governing process', () => {
  const nonce = 'p1'
  const proposalId = `process.${KEY}/${boundKey(AUTHOR, nonce)}`
  const body = 'Plant ten trees.'
  const act = (author: string, clock: number, type: string, payload: Record<string, unknown> = {}) => record(author, clock, type, { proposal: proposalId, ...payload })
  const proposalActs = [
    act(AUTHOR, 1, ProposalAct.create, { nonce, district: 'north', process: KEY }),
    act(AUTHOR, 2, ProposalAct.transition, { from: 'draft', to: 'published', title: 'Trees', bodyHash: proposalBodyHash(body) }),
  ]
  const support = (who: string, clock: number) => act(who, clock, ProposalAct.support)
  const resolveWith = (processActs: PolicyRecord[], supports: PolicyRecord[], threshold = 100) =>
    resolveProposal({ id: proposalId, title: 'Trees', body, process: KEY }, [...proposalActs, ...supports], () => false, { supportThreshold: threshold }, processGovernance(KEY, processActs, authorizeIn))

  it('supports count only in the supports phase: before it E_INVALID, after it E_LATE; same clock as the opening is before, as the close is concurrent', () => {
    const processActs = [create(STAFF, 1), openSupports(4, 2), phase(STAFF, 8, 'supports', 'evaluation')]
    const supports = [support('did:key:zA', 3), support('did:key:zB', 4), support('did:key:zC', 5), support('did:key:zD', 8), support('did:key:zE', 9)]
    const view = resolveWith(processActs, supports)
    expect(view.supporters.map((s) => s.supporter)).toEqual(['did:key:zC', 'did:key:zD'])
    const rules = Object.fromEntries(view.rejected.map((r) => [r.hash, `${r.code}/${r.rule ?? ''}`]))
    expect(rules).toEqual({
      [supports[0]?.hash as string]: 'E_INVALID/process-phase',
      [supports[1]?.hash as string]: 'E_INVALID/process-phase',
      [supports[4]?.hash as string]: 'E_LATE/process-phase',
    })
    expect([view.threshold, view.qualified, view.processPhase]).toEqual([2, true, 'evaluation'])
  })

  it('after the supports phase closes, withdrawing a support is late: the count at the close is final', () => {
    const processActs = [create(STAFF, 1), openSupports(3, 1), phase(STAFF, 6, 'supports', 'evaluation')]
    const withdraw = act('did:key:zA', 7, ProposalAct.unsupport)
    const view = resolveWith(processActs, [support('did:key:zA', 4), withdraw])
    expect([view.supporters.length, view.qualified]).toEqual([1, true])
    expect(view.rejected).toEqual([expect.objectContaining({ hash: withdraw.hash, code: 'E_LATE', rule: 'process-phase' })])
  })

  it('the threshold that counts is the one staff signed at the opening, not the Space option; before the opening there is none', () => {
    const supports = [support('did:key:zA', 4), support('did:key:zB', 4)]
    expect(resolveWith([create(STAFF, 1), openSupports(3, 3)], supports, 1)).toMatchObject({ threshold: 3, qualified: false, processPhase: 'supports' })
    expect(resolveWith([create(STAFF, 1)], supports, 1)).toMatchObject({ threshold: undefined, qualified: false, processPhase: 'proposing', supporters: [] })
  })

  it('without a governing process (none, or one created by a non-staff key) the Space options apply as before', () => {
    const supports = [support('did:key:zA', 3), support('did:key:zB', 9)]
    for (const processActs of [[], [create(AUTHOR, 1)]]) {
      const view = resolveWith(processActs, supports, 2)
      expect(view).toMatchObject({ threshold: 2, qualified: true, processPhase: undefined, rejected: [] })
    }
  })
})
