import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareStrings } from '../../src/policy/policy-record'
import { createSortedSnapshot } from '../../src/policy/sorted-snapshot'

interface Row {
  readonly id: string
  readonly n: number
}
const byId = (a: Row, b: Row): number => compareStrings(a.id, b.id)

/** A list of operations: set a row, delete by id, or take a snapshot. */
const operations = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('set' as const), id: fc.string({ maxLength: 2 }), n: fc.nat(5) }),
    fc.record({ op: fc.constant('delete' as const), id: fc.string({ maxLength: 2 }), n: fc.constant(0) }),
    fc.record({ op: fc.constant('snapshot' as const), id: fc.constant(''), n: fc.constant(0) }),
  ),
  { maxLength: 80 },
)

describe('createSortedSnapshot', () => {
  it('matches a sorted map after any edits, with splices or merges, and never changes an earlier snapshot', () => {
    for (const spliceLimit of [0, 2, 128]) {
      fc.assert(
        fc.property(operations, (ops) => {
          const list = createSortedSnapshot(byId, undefined, { spliceLimit })
          const model = new Map<string, Row>()
          const expected = (): Row[] => [...model.values()].sort(byId)
          const taken: Array<[readonly Row[], Row[]]> = []
          for (const { op, id, n } of [...ops, { op: 'snapshot' as const, id: '', n: 0 }]) {
            if (op === 'set') {
              list.set({ id, n })
              model.set(id, { id, n })
            } else if (op === 'delete') {
              list.delete({ id, n })
              model.delete(id)
            } else {
              const shot = list.snapshot()
              expect(shot).toEqual(expected())
              taken.push([shot, expected()])
            }
          }
          for (const [shot, rows] of taken) expect(shot).toEqual(rows)
        }),
        { seed: 42, numRuns: 200 },
      )
    }
  })

  it('returns the same array while nothing changed, a new one after a change', () => {
    const list = createSortedSnapshot(byId)
    list.set({ id: 'b', n: 1 })
    const first = list.snapshot()
    expect(list.snapshot()).toBe(first)
    const same = first[0] as Row
    list.set(same) // the same entry again: no change
    expect(list.snapshot()).toBe(first)
    list.delete({ id: 'zz', n: 0 }) // absent: no change
    expect(list.snapshot()).toBe(first)
    list.set({ id: 'a', n: 2 })
    const second = list.snapshot()
    expect(second).not.toBe(first)
    expect(second.map((r) => r.id)).toEqual(['a', 'b'])
    expect(first.map((r) => r.id)).toEqual(['b'])
  })

  it('applies the last of several edits of one key made between snapshots', () => {
    const list = createSortedSnapshot(byId)
    list.set({ id: 'a', n: 1 })
    list.delete({ id: 'a', n: 0 })
    list.set({ id: 'b', n: 1 })
    list.set({ id: 'b', n: 2 })
    list.set({ id: 'c', n: 1 })
    list.delete({ id: 'c', n: 0 })
    expect(list.snapshot()).toEqual([{ id: 'b', n: 2 }])
  })

  it('shows entries through `present`, in the order of their keys', () => {
    const list = createSortedSnapshot(byId, (row: Row) => row.n)
    list.set({ id: 'c', n: 3 })
    list.set({ id: 'a', n: 1 })
    expect(list.snapshot()).toEqual([1, 3])
    list.set({ id: 'b', n: 2 })
    expect(list.snapshot()).toEqual([1, 2, 3])
  })
})
