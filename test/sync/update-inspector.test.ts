import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { checkUpdate, inspectUpdate, defaultInspectLimits, type InspectLimits } from '../../src/sync/update-inspector'
import { malformedUpdates, updateChain } from '../../src/testing/malformed'
import { createSeededRandom } from '../../src/transports/seeded-random'

function editBatch(): { base: Uint8Array; edit: Uint8Array; client: number } {
  const doc = new Y.Doc()
  doc.clientID = 2 ** 52 + 17 // wider than Yjs's random 32-bit ids: still valid
  const tickets = doc.getMap('tickets')
  for (let i = 0; i < 20; i++) {
    const t = new Y.Map<unknown>()
    tickets.set(`t${i}`, t)
    t.set('status', 'open')
    t.set('body', new Y.Text(`hello world ${i}`))
  }
  const base = Y.encodeStateAsUpdate(doc)
  const sv = Y.encodeStateVector(doc)
  doc.transact(() => {
    for (let i = 0; i < 20; i += 2) {
      const t = tickets.get(`t${i}`) as Y.Map<unknown>
      t.set('status', 'closed')
      ;(t.get('body') as Y.Text).delete(0, 3)
    }
  })
  return { base, edit: Y.encodeStateAsUpdate(doc, sv), client: doc.clientID }
}

describe('inspectUpdate', () => {
  it('reports the clock range each client writes, the dependencies and the root keys', () => {
    const { base, client } = editBatch()
    const result = inspectUpdate(base)
    if (!result.ok) throw new Error(result.code)
    const { update } = result
    expect([...update.ranges.entries()]).toEqual([[client, { start: 0, end: update.structs.reduce((n, s) => n + s.length, 0) }]])
    const roots = update.structs.filter((s) => s.rootKey !== undefined)
    expect(roots).toHaveLength(20)
    expect(roots.every((s) => s.rootKey === 'tickets' && s.content === 'type')).toBe(true)
    const strings = update.structs.filter((s) => s.content === 'string')
    expect(strings.every((s) => s.deps.length > 0)).toBe(true)
    expect(update.deletes).toEqual([])
  })

  it('reports the delete set of an edit: overwritten map entries and deleted text', () => {
    const { edit, client } = editBatch()
    const result = inspectUpdate(edit)
    if (!result.ok) throw new Error(result.code)
    const deleted = result.update.deletes.reduce((n, d) => n + d.length, 0)
    // Ten overwritten `status` entries (1 clock unit each) and ten times three deleted characters.
    expect(deleted).toBe(10 * 1 + 10 * 3)
    expect(result.update.deletes.every((d) => d.client === client)).toBe(true)
  })

  it('rejects every truncation of real updates as malformed', () => {
    for (const bytes of Object.values(editBatch()).filter((v): v is Uint8Array => v instanceof Uint8Array)) {
      for (let n = 0; n < bytes.length; n++) {
        const result = inspectUpdate(bytes.slice(0, n))
        expect(result.ok, `truncated at ${n} of ${bytes.length}`).toBe(false)
      }
    }
  })

  it('never throws on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const result = inspectUpdate(bytes)
        return result.ok || result.code === 'E_UPDATE_MALFORMED'
      }),
      { seed: 5, numRuns: 10_000 },
    )
  })

  it('refuses oversized updates before decoding them', () => {
    const { base } = editBatch()
    expect(inspectUpdate(base, { ...defaultInspectLimits, maxBytes: 10 })).toEqual({ ok: false, code: 'E_UPDATE_TOO_LARGE', size: base.length, limit: 10 })
  })

  it('refuses a struct claiming a huge clock range (the forged "already seen" range)', () => {
    // A GC struct of length 2^40 for client 7: 1 state update, 1 struct, client 7, clock 0, info 0 (GC), len.
    const encoder = [1, 1, 7, 0, 0]
    let len = 2 ** 40
    while (len >= 128) {
      encoder.push((len % 128) | 128)
      len = Math.floor(len / 128)
    }
    encoder.push(len, 0) // and an empty delete set
    const result = inspectUpdate(new Uint8Array(encoder))
    expect(result).toMatchObject({ ok: false, code: 'E_UPDATE_MALFORMED' })
  })
})

describe('checkUpdate', () => {
  /** What inspectUpdate answers, without its summary. */
  const verdict = (bytes: Uint8Array, limits?: InspectLimits): unknown => {
    const result = inspectUpdate(bytes, limits)
    return result.ok ? { ok: true } : result
  }

  it('answers exactly as inspectUpdate on genuine updates and on the malformed corpus', () => {
    const base = new Y.Doc()
    const chain = updateChain(base, 41, [
      (doc) => doc.getMap('tickets').set('a', 'open'),
      (doc) => doc.getText('body').insert(0, 'hello world'),
      (doc) => {
        doc.getMap('tickets').delete('a')
        doc.getText('body').delete(0, 6)
      },
    ])
    const { base: batch, edit } = editBatch()
    const cases = [batch, edit, ...chain, ...malformedUpdates({ random: createSeededRandom(11), chain, maxBytes: 4096, flips: 100 }).map((c) => c.input)]
    let refused = 0
    for (const bytes of cases) {
      const checked = checkUpdate(bytes, { ...defaultInspectLimits, maxBytes: 4096 })
      expect(checked).toEqual(verdict(bytes, { ...defaultInspectLimits, maxBytes: 4096 }))
      if (!checked.ok) refused++
    }
    expect(refused).toBeGreaterThan(cases.length / 2)
  })

  it('applies the same limits on structs, delete ranges and struct length', () => {
    const { base, edit } = editBatch()
    const over: Array<[Partial<InspectLimits>, Uint8Array]> = [
      [{ maxStructs: 3 }, base],
      [{ maxDeleteRanges: 1 }, edit],
      [{ maxStructLength: 2 }, base], // the texts' strings are longer
      [{ maxBytes: 10 }, edit],
    ]
    for (const [limit, bytes] of over) {
      const limits = { ...defaultInspectLimits, ...limit }
      const checked = checkUpdate(bytes, limits)
      expect(checked.ok, JSON.stringify(limit)).toBe(false)
      expect(checked).toEqual(verdict(bytes, limits))
    }
  })
})
