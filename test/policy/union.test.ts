import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { union } from '../../src/policy/union'
import { arbitraryEntries, runPolicyTests } from '../../src/testing/policy-tests'
import { ALICE, AUTHORS, BOB, CAROL, MALLORY, authorize, rec, withSupersedes } from './helpers'

const ops = arbitraryEntries({
  authors: AUTHORS,
  types: ['set.op'],
  payload: fc.record({ op: fc.constantFrom('add', 'remove', 'toggle'), element: fc.constantFrom('a', 'b', '__proto__') }),
}).chain(withSupersedes)

runPolicyTests('union add-wins', () => ({ policy: union(), records: ops }))
runPolicyTests('union remove-wins', () => ({ policy: union({ bias: 'remove-wins' }), records: ops }))
runPolicyTests('union with a writer role', () => ({ policy: union({ access: { authorize, role: 'staff' } }), records: ops }))

const op = (author: string, clock: number, kind: 'add' | 'remove', element: string, supersedes?: string[]) =>
  rec(author, clock, 'set.op', supersedes === undefined ? { op: kind, element } : { op: kind, element, supersedes })

describe('union', () => {
  it('without supersedes lists, the last op on an element decides (a last-writer-wins element set)', () => {
    const records = [op(ALICE, 1, 'add', 'x'), op(BOB, 2, 'remove', 'x'), op(ALICE, 3, 'add', 'y')]
    expect(union().resolve(records).view.elements).toEqual(['y'])
    expect(union().resolve([...records, op(CAROL, 4, 'add', 'x')]).view.elements).toEqual(['x', 'y'])
  })

  it('observed-remove: a remove only removes the adds it names; a concurrent add survives under add-wins', () => {
    const add1 = op(ALICE, 1, 'add', 'x', [])
    const add2 = op(BOB, 2, 'add', 'x', [])
    const remove = op(CAROL, 3, 'remove', 'x', [add1.hash])
    const { view, conflicts } = union().resolve([remove, add2, add1])
    expect(view.elements).toEqual(['x'])
    expect(view.live.get('x')).toEqual({ adds: [add2.hash], removes: [remove.hash] })
    expect(conflicts).toEqual([{ kind: 'concurrent', path: ['x'], hashes: [add2.hash, remove.hash], reason: expect.stringContaining('add wins') }])
  })

  it('remove-wins drops an element added and removed concurrently, and still reports the conflict', () => {
    const add1 = op(ALICE, 1, 'add', 'x', [])
    const add2 = op(BOB, 2, 'add', 'x', [])
    const remove = op(CAROL, 3, 'remove', 'x', [add1.hash])
    const { view, conflicts } = union({ bias: 'remove-wins' }).resolve([add1, add2, remove])
    expect(view.elements).toEqual([])
    expect(conflicts).toHaveLength(1)
  })

  it('a remove naming every live add removes the element under either bias', () => {
    const add1 = op(ALICE, 1, 'add', 'x', [])
    const remove = op(CAROL, 3, 'remove', 'x', [add1.hash])
    for (const bias of ['add-wins', 'remove-wins'] as const) {
      expect(union({ bias }).resolve([add1, remove])).toMatchObject({ view: { elements: [] }, conflicts: [] })
    }
  })

  it('handles element names that are Object.prototype keys', () => {
    expect(union().resolve([op(ALICE, 1, 'add', '__proto__'), op(ALICE, 2, 'add', 'constructor')]).view.elements).toEqual([
      '__proto__',
      'constructor',
    ])
  })

  it('refuses malformed ops and writers without the role', () => {
    const policy = union({ access: { authorize, role: 'staff' } })
    const bad = rec(ALICE, 1, 'set.op', { op: 'toggle', element: 'x' })
    const attack = op(MALLORY, 2, 'add', 'x')
    expect(policy.resolve([bad, attack]).rejected.map((r) => r.code)).toEqual(['E_INVALID', 'E_FORBIDDEN'])
  })
})
