import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { mergeSessionUpdates } from '../../src/sync/checkpoint-update'

/** Edits by an author (client 7) and another writer (client 3) who see each other's edits now and then. */
function history(steps: ReadonlyArray<{ who: number; op: number; at: number; sync: boolean }>) {
  const docs = [new Y.Doc(), new Y.Doc()] as const
  docs[0].clientID = 7
  docs[1].clientID = 3
  const updates: [Uint8Array[], Uint8Array[]] = [[], []]
  docs.forEach((doc, i) => doc.on('update', (update: Uint8Array, origin: unknown) => origin !== 'sync' && updates[i]?.push(update)))
  for (const { who, op, at, sync } of steps) {
    const doc = docs[who % 2] as Y.Doc
    const text = doc.getText('t')
    const list = doc.getArray<number>('l')
    const map = doc.getMap<number>('m')
    if (op === 0 || text.length === 0) text.insert(at % (text.length + 1), 'ab'.slice(0, 1 + (at % 2)))
    else if (op === 1) text.delete(at % text.length, 1)
    else if (op === 2) map.set(`k${at % 3}`, at)
    else if (op === 3) list.insert(list.length, [at])
    else if (list.length > 0) list.delete(at % list.length, 1)
    if (sync) {
      const other = docs[(who + 1) % 2] as Y.Doc
      Y.applyUpdate(other, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(other)), 'sync')
    }
  }
  const all = new Y.Doc()
  for (const doc of docs) Y.applyUpdate(all, Y.encodeStateAsUpdate(doc))
  return { author: updates[0], other: updates[1], all }
}

describe('mergeSessionUpdates', () => {
  it('joins 1,000 keystrokes into one item: about the size of the document\'s own encoding', () => {
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    for (let i = 0; i < 1000; i++) doc.getText('t').insert(i, 'x')
    const merged = mergeSessionUpdates(updates)
    expect(merged.length).toBeLessThan(Y.encodeStateAsUpdate(doc).length + 20)
    expect(Y.mergeUpdates(updates).length).toBeGreaterThan(5 * merged.length)
    expect(Y.decodeUpdate(merged).structs).toHaveLength(1)
  })

  it('gives the same document as the updates it merges, whatever comes before or after it from other writers (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ who: fc.nat(1), op: fc.nat(4), at: fc.nat(100), sync: fc.boolean() }), { minLength: 1, maxLength: 60 }), (steps) => {
        const { author, other, all } = history(steps)
        if (author.length === 0) return
        const merged = mergeSessionUpdates(author)
        for (const first of [true, false]) {
          const doc = new Y.Doc()
          if (first) Y.applyUpdate(doc, merged)
          for (const update of other) Y.applyUpdate(doc, update)
          if (!first) Y.applyUpdate(doc, merged)
          expect(Y.encodeStateAsUpdate(doc)).toEqual(Y.encodeStateAsUpdate(all))
          expect(Y.encodeSnapshot(Y.snapshot(doc))).toEqual(Y.encodeSnapshot(Y.snapshot(all)))
        }
        // The merge of a merge and later updates equals the merge of them all, in content.
        const half = Math.floor(author.length / 2)
        const twice = mergeSessionUpdates([mergeSessionUpdates(author.slice(0, Math.max(1, half))), ...author.slice(Math.max(1, half))])
        const a = new Y.Doc()
        const b = new Y.Doc()
        for (const update of other) {
          Y.applyUpdate(a, update)
          Y.applyUpdate(b, update)
        }
        Y.applyUpdate(a, twice)
        Y.applyUpdate(b, merged)
        expect(Y.encodeStateAsUpdate(a)).toEqual(Y.encodeStateAsUpdate(b))
      }),
      { seed: 5, numRuns: 300 },
    )
  })
})
