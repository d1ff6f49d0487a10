import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { boundKey } from '../../src/civic/bound-key'
import { ProposalAct, resolveProposal } from '../../src/civic/proposal-lifecycle'
import type { PolicyRecord } from '../../src/policy/policy-record'
import { makePolicyRecord } from '../../src/testing/policy-tests'

const AUTHOR = 'did:key:zAuthor'
const AMENDER = 'did:key:zAmender'
const STRANGER = 'did:key:zStranger'
const parent = `process.pb/${boundKey(AUTHOR, 'n0')}`
const amendmentId = (who: string, nonce: string) => `process.pb/${boundKey(who, nonce)}`

const record = (author: string, clock: number, type: string, payload: Record<string, unknown>): PolicyRecord => makePolicyRecord({ author, clock, type, payload })
const createParent = record(AUTHOR, 1, ProposalAct.create, { proposal: parent, nonce: 'n0', district: 'north', process: 'pb' })
const amendment = (who: string, nonce: string, clock: number, process = 'pb') =>
  record(who, clock, ProposalAct.create, { proposal: amendmentId(who, nonce), nonce, district: 'north', process, amends: parent })
const decide = (who: string, clock: number, amended: string, decision: string) =>
  record(who, clock, ProposalAct.amendment, { proposal: parent, amendment: amended, decision })
const resolve = (entries: readonly PolicyRecord[]) => resolveProposal({ id: parent, process: 'pb' }, entries, () => false)

describe('amendments', () => {
  it('lists the signed amendments of a proposal, pending until its author accepts or rejects each', () => {
    const a = amendment(AMENDER, 'a', 2)
    const b = amendment(STRANGER, 'b', 3)
    const accept = decide(AUTHOR, 4, amendmentId(AMENDER, 'a'), 'accepted')
    const view = resolve([createParent, a, b, accept])
    const byId = Object.fromEntries(view.amendments.map((x) => [x.id, x]))
    expect(byId[amendmentId(AMENDER, 'a')]).toMatchObject({ author: AMENDER, decision: 'accepted', decided: { hash: accept.hash, clock: 4 } })
    expect(byId[amendmentId(STRANGER, 'b')]).toMatchObject({ author: STRANGER, decision: 'pending', decided: undefined })
    expect(view.rejected).toEqual([])
  })

  it('an amendment view shows its signed parent', () => {
    const a = amendment(AMENDER, 'a', 2)
    const view = resolveProposal({ id: amendmentId(AMENDER, 'a'), process: 'pb' }, [a], () => false)
    expect([view.amends, view.author]).toEqual([parent, AMENDER])
  })

  it('decisions by anyone but the author, on a non-amendment, or before the amendment existed are refused; a second decision loses', () => {
    const a = amendment(AMENDER, 'a', 2)
    const elsewhere = amendment(AMENDER, 'x', 2, 'other-process') // in another process: not listed
    const byStranger = decide(STRANGER, 5, amendmentId(AMENDER, 'a'), 'rejected')
    const unknown = decide(AUTHOR, 5, amendmentId(AMENDER, 'x'), 'accepted')
    const tooEarly = decide(AUTHOR, 2, amendmentId(AMENDER, 'a'), 'accepted')
    const first = decide(AUTHOR, 6, amendmentId(AMENDER, 'a'), 'rejected')
    const second = decide(AUTHOR, 7, amendmentId(AMENDER, 'a'), 'accepted')
    const view = resolve([createParent, a, elsewhere, byStranger, unknown, tooEarly, first, second])
    expect(view.amendments.map((x) => [x.id, x.decision])).toEqual([[amendmentId(AMENDER, 'a'), 'rejected']])
    const rules = Object.fromEntries(view.rejected.map((r) => [r.hash, `${r.code}/${r.rule ?? ''}`]))
    expect(rules).toEqual({ [byStranger.hash]: 'E_FORBIDDEN/', [unknown.hash]: 'E_INVALID/not-an-amendment', [tooEarly.hash]: 'E_INVALID/before-amendment' })
    expect(view.conflicts).toEqual([expect.objectContaining({ kind: 'lost', hashes: [second.hash], winner: first.hash })])
  })

  it('an amendment whose nonce binds its key to someone else is not listed', () => {
    const claim = record(STRANGER, 2, ProposalAct.create, { proposal: amendmentId(AMENDER, 'a'), nonce: 'a', district: 'north', process: 'pb', amends: parent })
    expect(resolve([createParent, claim]).amendments).toEqual([])
  })

  it('resolves the same amendments from any order of the same acts (property)', () => {
    const acts = [createParent, amendment(AMENDER, 'a', 2), amendment(STRANGER, 'b', 2), decide(AUTHOR, 3, amendmentId(AMENDER, 'a'), 'accepted'), decide(AUTHOR, 3, amendmentId(AMENDER, 'a'), 'rejected'), decide(AUTHOR, 4, amendmentId(STRANGER, 'b'), 'rejected')]
    const expected = resolve(acts)
    fc.assert(
      fc.property(fc.shuffledSubarray(acts, { minLength: acts.length, maxLength: acts.length }), fc.array(fc.constantFrom(...acts), { maxLength: 3 }), (order, repeats) => {
        expect(resolve([...order, ...repeats])).toEqual(expected)
      }),
      { seed: 42, numRuns: 150 },
    )
  })
})
