import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { boundKey } from '../../src/civic/bound-key'
import { ProposalAct, proposalBodyHash, resolveProposal, type ProposalLifecycleOptions } from '../../src/civic/proposal-lifecycle'
import type { Authorize, PolicyEntry, PolicyRecord } from '../../src/policy/policy-record'
import { makePolicyRecord } from '../../src/testing/policy-tests'

const AUTHOR = 'did:key:zAuthor'
const MOD = 'did:key:zModerator'
const nonce = 'n1'
const id = `process.pb/${boundKey(AUTHOR, nonce)}`
const body = 'Plant ten trees around the playground.'
const title = 'Shade for the playground'

const authorize: Authorize = (who, role) => who === MOD && role === 'moderator'

const act = (author: string, clock: number, type: string, payload: Record<string, unknown>): PolicyRecord =>
  makePolicyRecord({ author, clock, type, payload: { proposal: id, ...payload } })
const create = act(AUTHOR, 1, ProposalAct.create, { nonce, district: 'north', process: 'pb' })
const move = (author: string, clock: number, from: string, to: string, extra: Record<string, unknown> = {}) =>
  act(author, clock, ProposalAct.transition, { from, to, ...extra })
const publish = move(AUTHOR, 2, 'draft', 'published', { title, bodyHash: proposalBodyHash(body) })
const support = (who: string, clock: number) => act(who, clock, ProposalAct.support, {})

const resolve = (entries: readonly PolicyEntry[], fields: { title?: string; body?: string } = { title, body }, options: ProposalLifecycleOptions = {}) =>
  resolveProposal({ id, process: 'pb', ...fields }, entries, authorize, options)

describe('proposal lifecycle', () => {
  it('the bound author publishes a signed revision; a moderator reviews and accepts', () => {
    const view = resolve([create, publish, move(MOD, 3, 'published', 'under_review'), move(MOD, 4, 'under_review', 'accepted')])
    expect(view.status).toBe('accepted')
    expect(view.author).toBe(AUTHOR)
    expect(view.officialRevision).toEqual({ hash: publish.hash, author: AUTHOR, clock: 2, title, bodyHash: proposalBodyHash(body) })
    expect(view.bodyMatchesOfficial).toBe(true)
    expect(view.titleMatchesOfficial).toBe(true)
    expect(view.rejected).toEqual([])
  })

  it('the published-revision hash detects a body or title edited after publication', () => {
    expect(resolve([create, publish], { title, body: `${body} And a fountain.` }).bodyMatchesOfficial).toBe(false)
    expect(resolve([create, publish], { title: 'Something else', body }).titleMatchesOfficial).toBe(false)
    expect(resolve([create], { title, body }).bodyMatchesOfficial).toBeUndefined()
  })

  it('a publication without the signed revision is refused with rule revision', () => {
    const bare = move(AUTHOR, 2, 'draft', 'published')
    const view = resolve([create, bare])
    expect(view.status).toBe('draft')
    expect(view.rejected).toEqual([expect.objectContaining({ hash: bare.hash, code: 'E_INVALID', rule: 'revision' })])
  })

  it('only the bound author may publish or withdraw; only moderators evaluate', () => {
    const byMod = move(MOD, 2, 'draft', 'published', { title, bodyHash: proposalBodyHash(body) })
    const strangerWithdraw = move('did:key:zStranger', 3, 'draft', 'withdrawn')
    expect(resolve([create, byMod, strangerWithdraw]).rejected.map((r) => r.code)).toEqual(['E_FORBIDDEN', 'E_FORBIDDEN'])
    const authorAccepts = move(AUTHOR, 4, 'under_review', 'accepted')
    const view = resolve([create, publish, move(MOD, 3, 'published', 'under_review'), authorAccepts])
    expect(view.status).toBe('under_review')
    expect(view.rejected).toEqual([expect.objectContaining({ hash: authorAccepts.hash, code: 'E_FORBIDDEN' })])
  })

  it('a creation act whose nonce binds the key to someone else makes nobody the author', () => {
    const claim = act('did:key:zThief', 1, ProposalAct.create, { nonce, district: 'north', process: 'pb' })
    const theirPublish = move('did:key:zThief', 2, 'draft', 'published', { title, bodyHash: proposalBodyHash(body) })
    const view = resolve([claim, theirPublish])
    expect(view.author).toBeUndefined()
    expect(view.rejected).toEqual([expect.objectContaining({ code: 'E_FORBIDDEN' })])
  })

  it('supports count while published or under review; before is E_INVALID, after withdrawal E_LATE', () => {
    const early = support('did:key:zA', 2) // same clock as the publication: could not have seen it
    const ok = support('did:key:zB', 3)
    const withdraw = move(AUTHOR, 5, 'published', 'withdrawn')
    const concurrent = support('did:key:zC', 5) // same clock as the withdrawal: concurrent, counts
    const late = support('did:key:zD', 6)
    const view = resolve([create, publish, early, ok, withdraw, concurrent, late])
    expect(view.status).toBe('withdrawn')
    expect(view.supporters.map((s) => s.supporter)).toEqual(['did:key:zB', 'did:key:zC'])
    const codes = Object.fromEntries(view.rejected.map((r) => [r.hash, `${r.code}/${r.rule ?? ''}`]))
    expect(codes).toEqual({ [early.hash]: 'E_INVALID/not-published', [late.hash]: 'E_LATE/support-closed' })
  })

  it('one support per key: repeats are superseded, withdrawals remove, the threshold derives qualified', () => {
    const supports = [support('did:key:zA', 3), support('did:key:zA', 4), support('did:key:zB', 3), support('did:key:zC', 3)]
    const withdrawC = act('did:key:zC', 5, ProposalAct.unsupport, {})
    const view = resolve([create, publish, ...supports, withdrawC], undefined, { supportThreshold: 3 })
    expect(view.supporters.map((s) => s.supporter)).toEqual(['did:key:zA', 'did:key:zB'])
    expect(view.qualified).toBe(false)
    expect(view.qualifiedAt?.hash).toBe(supports[3]?.hash) // three keys were reached at clock 3, before C withdrew
    expect(view.conflicts).toEqual([expect.objectContaining({ kind: 'superseded', hashes: [supports[0]?.hash] })])
    const qualified = resolve([create, publish, ...supports], undefined, { supportThreshold: (process) => (process === 'pb' ? 3 : 1000) })
    expect([qualified.threshold, qualified.qualified]).toEqual([3, true])
    const noThreshold = resolve([create, publish, ...supports])
    expect([noThreshold.threshold, noThreshold.qualified, noThreshold.qualifiedAt]).toEqual([undefined, false, null])
  })

  it('a support role, when configured, is checked in the district roster', () => {
    const resident: Authorize = (who, role) => role === 'resident' && who === 'did:key:zA'
    const a = support('did:key:zA', 3)
    const b = support('did:key:zB', 3)
    const view = resolveProposal({ id, process: 'pb', title, body }, [create, publish, a, b], (w, r, c) => authorize(w, r, c) || resident(w, r, c), { supportRole: 'resident' })
    expect(view.supporters.map((s) => s.supporter)).toEqual(['did:key:zA'])
    expect(view.rejected).toEqual([expect.objectContaining({ hash: b.hash, code: 'E_FORBIDDEN' })])
  })

  it('resolves the same view from any order of the same acts, with repeats', () => {
    const acts: PolicyRecord[] = [
      create,
      publish,
      move(MOD, 3, 'published', 'under_review'),
      move(AUTHOR, 3, 'published', 'withdrawn'), // races the review
      move(MOD, 4, 'under_review', 'rejected'),
      support('did:key:zA', 3),
      support('did:key:zB', 4),
      act('did:key:zB', 5, ProposalAct.unsupport, {}),
      support('did:key:zA', 2),
      { ...support('did:key:zE', 4), hash: 'f'.repeat(64) },
    ]
    const expected = resolve(acts, undefined, { supportThreshold: 2 })
    fc.assert(
      fc.property(fc.shuffledSubarray(acts, { minLength: acts.length, maxLength: acts.length }), fc.array(fc.constantFrom(...acts), { maxLength: 4 }), (order, repeats) => {
        expect(resolve([...order, ...repeats], undefined, { supportThreshold: 2 })).toEqual(expected)
      }),
      { seed: 42, numRuns: 200 },
    )
  })
})
