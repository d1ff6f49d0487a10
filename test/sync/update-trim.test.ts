import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { inspectUpdate } from '../../src/sync/update-inspector'
import { trimUpdate } from '../../src/sync/update-trim'

type Op = { kind: 'insert'; at: number; text: string } | { kind: 'delete'; at: number; length: number } | { kind: 'set'; key: string; value: number } | { kind: 'sync' }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(40), text: fc.string({ minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(40), length: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom('a', 'b', 'c'), value: fc.nat(9) }),
  fc.constant({ kind: 'sync' as const }),
)

function run(client: Y.Doc, server: Y.Doc, ops: readonly Op[]): void {
  const text = client.getText('body')
  for (const o of ops) {
    if (o.kind === 'insert') text.insert(Math.min(o.at, text.length), o.text)
    else if (o.kind === 'delete' && text.length > 0) {
      const at = Math.min(o.at, text.length - 1)
      text.delete(at, Math.min(o.length, text.length - at))
    } else if (o.kind === 'set') client.getMap('fields').set(o.key, o.value)
    else if (o.kind === 'sync') Y.applyUpdate(server, Y.encodeStateAsUpdate(client, Y.encodeStateVector(server)))
  }
}

describe('trimUpdate', () => {
  it('keeps exactly what the document lacks: applying the trimmed update gives the same state (property)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const client = new Y.Doc()
        client.clientID = 11
        const server = new Y.Doc()
        run(client, server, ops)
        const full = Y.encodeStateAsUpdate(client) // every struct and the whole delete set, as a step 2 from scratch
        const read = inspectUpdate(full)
        if (!read.ok) throw new Error(read.code)
        const deletedBefore = Y.createDeleteSetFromStructStore(server.store)
        const trimmed = trimUpdate(server, full, read.update)
        if (trimmed !== undefined) {
          const trimmedRead = inspectUpdate(trimmed)
          if (!trimmedRead.ok) throw new Error(trimmedRead.code)
          for (const [id, range] of trimmedRead.update.ranges) expect(range.start).toBe(Y.getState(server.store, id))
          for (const del of trimmedRead.update.deletes) {
            for (let clock = del.clock; clock < del.clock + del.length; clock++) expect(Y.isDeleted(deletedBefore, Y.createID(del.client, clock))).toBe(false)
          }
          Y.applyUpdate(server, trimmed)
        }
        expect(server.getText('body').toString()).toBe(client.getText('body').toString())
        expect(server.getMap('fields').toJSON()).toEqual(client.getMap('fields').toJSON())
        expect(Y.encodeStateVector(server)).toEqual(Y.encodeStateVector(client))
        expect(Y.encodeSnapshot(Y.snapshot(server))).toEqual(Y.encodeSnapshot(Y.snapshot(client)))
        // Once applied, nothing is left to add.
        expect(trimUpdate(server, full, read.update)).toBeUndefined()
      }),
      { seed: 20261125, numRuns: 300 },
    )
  })

  it('returns the update itself when all of it is new', () => {
    const client = new Y.Doc()
    const server = new Y.Doc()
    client.getText('body').insert(0, 'hello')
    const update = Y.encodeStateAsUpdate(client)
    const read = inspectUpdate(update)
    expect(read.ok && trimUpdate(server, update, read.update)).toBe(update)
  })
})
