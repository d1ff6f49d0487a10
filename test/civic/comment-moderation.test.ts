import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { boundKey } from '../../src/civic/bound-key'
import { CommentAct, resolveComment } from '../../src/civic/comment-moderation'
import type { Authorize, PolicyEntry, PolicyRecord } from '../../src/policy/policy-record'
import { makePolicyRecord } from '../../src/testing/policy-tests'

const AUTHOR = 'did:key:zAuthor'
const MOD = 'did:key:zModerator'
const MOD2 = 'did:key:zModerator2'
const id = `process.pb/${boundKey(AUTHOR, 'n1')}`
const authorize: Authorize = (who, role) => role === 'moderator' && (who === MOD || who === MOD2)

const act = (author: string, clock: number, type: string, payload: Record<string, unknown> = {}): PolicyRecord =>
  makePolicyRecord({ author, clock, type, payload: { comment: id, ...payload } })
const create = act(AUTHOR, 1, CommentAct.create, { nonce: 'n1', target: 'process.pb/parent' })
const hide = (who: string, clock: number, reason = 'Personal data') => act(who, clock, CommentAct.hide, { reason })
const unhide = (who: string, clock: number) => act(who, clock, CommentAct.unhide)
const resolve = (entries: readonly PolicyEntry[]) => resolveComment({ id }, entries, authorize)

describe('comment moderation', () => {
  it('a moderator hides with a reason and unhides; the view names the signed author and target', () => {
    const hidden = resolve([create, hide(MOD, 2)])
    expect(hidden).toMatchObject({ author: AUTHOR, target: 'process.pb/parent', hidden: { by: MOD, reason: 'Personal data' }, rejected: [] })
    expect(resolve([create, hide(MOD, 2), unhide(MOD2, 3)]).hidden).toBeUndefined()
    expect(resolve([create, hide(MOD, 2), unhide(MOD2, 3), hide(MOD2, 4, 'Spam')]).hidden).toEqual({ by: MOD2, reason: 'Spam' })
  })

  it('hides by non-moderators, hides without a reason and unhides of a visible comment are refused', () => {
    const byAuthor = hide(AUTHOR, 2)
    const noReason = act(MOD, 2, CommentAct.hide, {})
    const stray = unhide(MOD, 3)
    const view = resolve([create, byAuthor, noReason, stray])
    expect(view.hidden).toBeUndefined()
    const rules = Object.fromEntries(view.rejected.map((r) => [r.hash, `${r.code}/${r.rule ?? ''}`]))
    expect(rules).toEqual({ [byAuthor.hash]: 'E_FORBIDDEN/', [noReason.hash]: 'E_INVALID/payload', [stray.hash]: 'E_INVALID/' })
  })

  it('of two concurrent hides, the first in the total order counts and the other is a lost conflict', () => {
    const a = hide(MOD, 2, 'Insult')
    const b = hide(MOD2, 2, 'Spam')
    const view = resolve([create, b, a])
    expect(view.hidden?.by).toBe(MOD) // same clock: the smaller author id comes first
    expect(view.conflicts).toEqual([expect.objectContaining({ kind: 'lost', hashes: [b.hash], winner: a.hash })])
  })

  it('resolves the same view from any order of the same acts, with repeats (property)', () => {
    const acts = [create, hide(MOD, 2), hide(MOD2, 2), unhide(MOD, 3), hide(AUTHOR, 4), unhide(MOD2, 3), hide(MOD2, 5, 'Spam')]
    const expected = resolve(acts)
    fc.assert(
      fc.property(fc.shuffledSubarray(acts, { minLength: acts.length, maxLength: acts.length }), fc.array(fc.constantFrom(...acts), { maxLength: 3 }), (order, repeats) => {
        expect(resolve([...order, ...repeats])).toEqual(expected)
      }),
      { seed: 42, numRuns: 150 },
    )
  })
})
