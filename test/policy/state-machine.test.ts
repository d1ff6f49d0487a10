import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { enteredWithin, stateMachine, type StateMachineConfig } from '../../src/policy/state-machine'
import type { PolicyEntry, PolicyRecord } from '../../src/policy/policy-record'
import { arbitraryEntries, runPolicyTests } from '../../src/testing/policy-tests'
import { CabildoError } from '../../src/errors'
import { ALICE, AUTHORS, BOB, CAROL, MALLORY, authorize, forged, rec, shuffled } from './helpers'

type TicketState = 'open' | 'in_progress' | 'closed'
const ticket: StateMachineConfig<TicketState> = {
  states: ['open', 'in_progress', 'closed'],
  initial: 'open',
  authorize,
  transitions: [
    { from: 'open', to: 'in_progress', role: 'staff' },
    { from: ['open', 'in_progress'], to: 'closed', role: 'staff' },
    { from: 'closed', to: 'open', role: 'staff' },
    { from: 'closed', to: 'open', role: 'citizen', guard: enteredWithin('closed', 5) },
  ],
}

const transitionPayload = fc.record({
  from: fc.constantFrom('open', 'in_progress', 'closed', 'bogus'),
  to: fc.constantFrom('open', 'in_progress', 'closed'),
  note: fc.constantFrom('a', 'b'),
})
const transitions = arbitraryEntries({ authors: AUTHORS, types: ['ticket.transition'], payload: transitionPayload, maxLength: 14 })

runPolicyTests('stateMachine', () => ({ policy: stateMachine(ticket), records: transitions }))
runPolicyTests('stateMachine with priorities', () => ({
  policy: stateMachine({ ...ticket, priority: { closed: 2, in_progress: 1 } }),
  records: transitions,
}))

const move = (author: string, clock: number, from: TicketState, to: TicketState): PolicyRecord =>
  rec(author, clock, 'ticket.transition', { from, to })

describe('stateMachine', () => {
  const policy = stateMachine(ticket)

  it('follows a valid path of transitions, whatever the delivery order', () => {
    const path = [move(ALICE, 1, 'open', 'in_progress'), move(ALICE, 2, 'in_progress', 'closed'), move(CAROL, 4, 'closed', 'open')]
    for (let seed = 1; seed <= 6; seed++) {
      const { view, conflicts, rejected } = policy.resolve(shuffled(path, seed))
      expect(view.state).toBe('open')
      expect(view.history.map((t) => t.hash)).toEqual(path.map((r) => r.hash))
      expect(conflicts).toEqual([])
      expect(rejected).toEqual([])
    }
  })

  it('lets the first of two concurrent transitions from one state win and reports the other as lost', () => {
    const start = move(ALICE, 3, 'open', 'in_progress')
    const rival = move(BOB, 3, 'open', 'closed') // same clock: ALICE < BOB in the total order
    const { view, conflicts } = policy.resolve([rival, start])
    expect(view.state).toBe('in_progress')
    expect(conflicts).toEqual([{ kind: 'lost', path: [], hashes: [rival.hash], winner: start.hash, reason: expect.any(String) }])
  })

  it('with priorities, a same-clock transition into a higher-priority state wins', () => {
    const prioritized = stateMachine({ ...ticket, priority: { closed: 1 } })
    const start = move(ALICE, 3, 'open', 'in_progress')
    const close = move(BOB, 3, 'open', 'closed')
    const { view, conflicts } = prioritized.resolve([start, close])
    expect(view.state).toBe('closed')
    expect(conflicts.map((c) => c.winner)).toEqual([close.hash])
  })

  it('refuses an unauthorized transition with E_FORBIDDEN and leaves the view unchanged', () => {
    const base = [move(ALICE, 1, 'open', 'in_progress')]
    const attack = move(MALLORY, 2, 'in_progress', 'closed')
    const before = policy.resolve(base)
    const after = policy.resolve([...base, attack])
    expect(after.view).toEqual(before.view)
    expect(after.rejected).toEqual([{ hash: attack.hash, code: 'E_FORBIDDEN', reason: expect.stringContaining('staff') }])
  })

  it('checks the role at the record clock: a revoked key is refused after its revocation', () => {
    const early = move(BOB, 8, 'open', 'in_progress')
    const late = move(BOB, 9, 'in_progress', 'closed')
    const { view, rejected } = policy.resolve([early, late])
    expect(view.state).toBe('in_progress')
    expect(rejected.map((r) => [r.hash, r.code])).toEqual([[late.hash, 'E_FORBIDDEN']])
  })

  it('refuses transitions that do not exist, or from a state never reached, with E_INVALID', () => {
    const nonsense = move(ALICE, 1, 'in_progress', 'open')
    const stale = move(ALICE, 2, 'closed', 'open')
    const { view, rejected } = policy.resolve([nonsense, stale])
    expect(view.state).toBe('open')
    expect(rejected).toEqual([
      { hash: nonsense.hash, code: 'E_INVALID', reason: "no transition from 'in_progress' to 'open'" },
      { hash: stale.hash, code: 'E_INVALID', reason: "the state is 'open', not 'closed'" },
    ])
  })

  it('applies guards: a citizen may reopen within 5 ticks of the closing, not later (E_LATE)', () => {
    const close = move(ALICE, 10, 'open', 'closed')
    expect(policy.resolve([close, move(CAROL, 15, 'closed', 'open')]).view.state).toBe('open')
    const tooLate = move(CAROL, 16, 'closed', 'open')
    const { view, rejected } = policy.resolve([close, tooLate])
    expect(view.state).toBe('closed')
    expect(rejected).toEqual([{ hash: tooLate.hash, code: 'E_LATE', reason: expect.any(String), rule: 'enteredWithin' }])
    // Staff has an unguarded rule for the same move.
    expect(policy.resolve([close, move(ALICE, 40, 'closed', 'open')]).view.state).toBe('open')
  })

  it('refuses a record whose guard throws, without breaking the fold', () => {
    const throwing = stateMachine<TicketState>({
      ...ticket,
      transitions: [{ from: 'open', to: 'closed', guard: () => { throw new TypeError('boom') } }],
    })
    const r = move(ALICE, 1, 'open', 'closed')
    expect(throwing.resolve([r]).rejected).toEqual([{ hash: r.hash, code: 'E_INVALID', reason: 'guard failed: boom' }])
  })

  it('carries signature failures into rejected and never applies them', () => {
    const fake = move(ALICE, 1, 'open', 'closed')
    const { view, rejected } = policy.resolve([forged(fake)])
    expect(view.state).toBe('open')
    expect(rejected).toEqual([{ hash: fake.hash, code: 'E_SIGNATURE', reason: 'signature does not verify' }])
  })

  it('rejects configurations with unknown states or roles without authorize', () => {
    expect(() => stateMachine({ states: ['a'], initial: 'b' as 'a', transitions: [] })).toThrow(CabildoError)
    expect(() => stateMachine({ states: ['a', 'b'], initial: 'a', transitions: [{ from: 'a', to: 'b', role: 'staff' }] })).toThrow(
      /authorize/,
    )
  })

  it('never changes the outcome of records that precede a newly added record in the fold order', () => {
    const arb = transitions.chain((entries) => fc.tuple(fc.constant(entries), fc.nat({ max: Math.max(0, entries.length - 1) })))
    fc.assert(
      fc.property(arb, ([generated, pick]) => {
        const entries: PolicyEntry[] = generated
        const verified = entries.filter((e): e is PolicyRecord => !('code' in e))
        const added = verified[pick]
        if (added === undefined) return
        const rest: PolicyEntry[] = entries.filter((e) => e !== added && !('code' in e && e.record.hash === added.hash))
        const before = policy.resolve(rest)
        const after = policy.resolve([...rest, added])
        // Accepted history before the added record is a prefix of the new history.
        const earlier = (t: { clock: number }) => t.clock < added.clock
        expect(after.view.history.filter(earlier)).toEqual(before.view.history.filter(earlier))
        const outcome = (r: { rejected: readonly { hash: string; code: string }[] }, hash: string) =>
          r.rejected.find((x) => x.hash === hash)?.code ?? 'kept'
        for (const e of rest) {
          if ('code' in e || e.clock >= added.clock) continue
          expect(outcome(after, e.hash)).toBe(outcome(before, e.hash))
        }
      }),
      { seed: 42, numRuns: 150 },
    )
  })
})
