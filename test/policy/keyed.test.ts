import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { keyed } from '../../src/policy/keyed'
import { lww } from '../../src/policy/registers'
import { stateMachine } from '../../src/policy/state-machine'
import { onePerVoter } from '../../src/policy/one-per-voter'
import { payloadField } from '../../src/policy/record-intake'
import type { MergePolicy } from '../../src/policy/merge-policy'
import type { PolicyEntry } from '../../src/policy/policy-record'
import { arbitraryEntries, runPolicyTests } from '../../src/testing/policy-tests'
import { ALICE, AUTHORS, BOB, MALLORY, authorize, rec } from './helpers'

const byTicket = (r: { payload: unknown }) => {
  const id = payloadField(r.payload, 'ticket')
  return typeof id === 'string' ? id : undefined
}
const tickets = stateMachine({
  states: ['open', 'closed'],
  initial: 'open',
  authorize,
  transitions: [
    { from: 'open', to: 'closed', role: 'staff' },
    { from: 'closed', to: 'open', role: 'citizen' },
  ],
})
const ticketRecords = arbitraryEntries({
  authors: AUTHORS,
  types: ['ticket.transition'],
  payload: fc.record({
    ticket: fc.constantFrom('T-1', 'T-2', 'constructor'),
    from: fc.constantFrom('open', 'closed'),
    to: fc.constantFrom('open', 'closed'),
  }),
  maxLength: 20,
})

runPolicyTests('keyed stateMachine', () => ({ policy: keyed(tickets, byTicket), records: ticketRecords }))
runPolicyTests('keyed onePerVoter', () => ({
  policy: keyed(onePerVoter({ authorize, eligibilityRole: 'voter', closeRole: 'staff' }), byTicket),
  records: arbitraryEntries({
    authors: AUTHORS,
    types: ['ballot', 'ballot', 'ballot.close'],
    payload: fc.record({ ticket: fc.constantFrom('B-1', 'B-2'), n: fc.nat(2) }),
  }),
}))

// A policy with no incremental form: keyed falls back to resolving the group on read.
const batchOnly: MergePolicy<readonly PolicyEntry[], number> = { resolve: (entries) => ({ view: entries.length, conflicts: [], rejected: [] }) }
runPolicyTests('keyed over a batch-only policy', () => ({
  policy: keyed(batchOnly, byTicket),
  records: arbitraryEntries({ authors: AUTHORS, types: ['x'], payload: fc.record({ ticket: fc.constantFrom('a', 'b') }), failed: false }),
}))

describe('keyed', () => {
  it('resolves each key on its own and prefixes conflict paths with the key', () => {
    const a1 = rec(ALICE, 1, 'w', { ticket: 'T-1', value: 'a' })
    const a2 = rec(BOB, 2, 'w', { ticket: 'T-1', value: 'b' })
    const b1 = rec(ALICE, 1, 'w', { ticket: 'T-2', value: 'c' })
    const { view, conflicts } = keyed(lww<string>(), byTicket).resolve([a2, b1, a1])
    expect([...view.keys()]).toEqual(['T-1', 'T-2'])
    expect(view.get('T-1')?.value).toBe('b')
    expect(view.get('T-2')?.value).toBe('c')
    expect(conflicts).toEqual([{ kind: 'lost', path: ['T-1'], hashes: [a1.hash], winner: a2.hash, reason: expect.any(String) }])
  })

  it('refuses records without a key, and merges every group rejection in the total order', () => {
    const noKey = rec(ALICE, 5, 'ticket.transition', { from: 'open', to: 'closed' })
    const attack = rec(MALLORY, 1, 'ticket.transition', { ticket: 'T-1', from: 'open', to: 'closed' })
    const { view, rejected } = keyed(tickets, byTicket).resolve([noKey, attack])
    expect(view.get('T-1')?.state).toBe('open')
    expect(rejected.map((r) => [r.hash, r.code])).toEqual([
      [attack.hash, 'E_FORBIDDEN'],
      [noKey.hash, 'E_INVALID'],
    ])
  })
})
