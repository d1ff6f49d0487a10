/**
 * Checkpoints never exceed what receivers accept: a session whose merged history would be too
 * large gets checkpoints of consecutive ranges, and a catch-up through them converges. The cap
 * is injected small so that nothing here builds megabytes.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { defaultInspectLimits, identityFromKeyPair, inspectUpdate, keyPairFromSeed, type Identity } from '../../src/index'
import { allowAllDeletes } from '../../src/sync/delete-rules'
import { decodeEnvelope, type Envelope } from '../../src/sync/envelope-codec'
import { SessionWriter } from '../../src/sync/session-writer'
import { createSignatureCheck } from '../../src/sync/signature-check'
import { SignedDoc } from '../../src/sync/signed-doc'

const DOC = 'city/notes'
let alice: Identity

beforeAll(async () => {
  alice = await identityFromKeyPair(await keyPairFromSeed(new Uint8Array(32).fill(1)))
})

function envelopeOf(bytes: Uint8Array): Envelope {
  const decoded = decodeEnvelope(bytes)
  if (!decoded.ok) throw new Error(`not an envelope: ${decoded.code}`)
  return decoded.envelope
}

/** Map entries do not join: a checkpoint of n of them weighs about n entries. */
function note(doc: Y.Doc, i: number): void {
  doc.getMap('notes').set(`note-${String(i).padStart(4, '0')}`, `${i}: ${'the street light at the corner is out again '.slice(0, 20 + (i % 17))}`)
}

/** The ranges (`from`..`seq`) of the checkpoints, without those another contains. */
function ranges(checkpoints: readonly Envelope[]): Array<{ from: number; seq: number }> {
  const all = checkpoints.map((c) => ({ from: c.checkpoint?.from as number, seq: c.seq }))
  return all.filter((r) => !all.some((o) => o !== r && o.from <= r.from && o.seq >= r.seq)).sort((a, b) => a.from - b.from)
}

describe('checkpoints: a size cap', () => {
  it('the writer never signs a checkpoint over the cap: consecutive ranges, each linked to the envelope before it', async () => {
    const doc = new Y.Doc()
    const outbox: Uint8Array[] = []
    const cap = 2_000
    const writer = new SessionWriter({ doc, docId: DOC, signer: alice.keyPair, onEnvelope: (bytes) => outbox.push(bytes), checkpointEvery: 8, checkpointLimits: { envelope: { maxBytes: cap } } })
    for (let i = 0; i < 200; i++) {
      note(doc, i)
      await writer.flush()
    }
    expect(await writer.checkpoint()).toBeDefined()
    const envelopes = outbox.map(envelopeOf)
    const plain = envelopes.filter((e) => e.checkpoint === undefined)
    const checkpoints = envelopes.filter((e) => e.checkpoint !== undefined)
    expect(plain.length).toBe(200)
    for (const bytes of outbox.filter((b) => envelopeOf(b).checkpoint !== undefined)) expect(bytes.length).toBeLessThanOrEqual(cap)
    // Uncapped, one checkpoint would merge everything: far over the cap.
    expect(Y.encodeStateAsUpdate(doc).length).toBeGreaterThan(4 * cap)
    const covered = ranges(checkpoints)
    expect(covered.length).toBeGreaterThan(3)
    expect(covered[0]?.from).toBe(1)
    expect(covered[covered.length - 1]?.seq).toBe(200)
    const plainHash = (seq: number): Uint8Array => {
      const { hash } = decodeEnvelope(outbox[outbox.findIndex((b) => { const e = envelopeOf(b); return e.checkpoint === undefined && e.seq === seq })] as Uint8Array) as { hash: string }
      return Uint8Array.from(hash.match(/../g) ?? [], (h) => parseInt(h, 16))
    }
    covered.forEach((range, i) => {
      if (i > 0) expect(range.from, `range ${i}`).toBe((covered[i - 1]?.seq as number) + 1)
      const checkpoint = checkpoints.find((c) => c.checkpoint?.from === range.from && c.seq === range.seq) as Envelope
      expect(checkpoint.prev).toEqual(range.from === 1 ? new Uint8Array(0) : plainHash(range.from - 1))
      expect(checkpoint.checkpoint?.last).toEqual(plainHash(range.seq))
    })
    writer.dispose()
  })

  it('the cap covers what the guard counts: no checkpoint has more structs than receivers accept', async () => {
    const doc = new Y.Doc()
    const outbox: Uint8Array[] = []
    const update = { ...defaultInspectLimits, maxStructs: 40 }
    const writer = new SessionWriter({ doc, docId: DOC, signer: alice.keyPair, onEnvelope: (bytes) => outbox.push(bytes), checkpointEvery: 8, checkpointLimits: { update } })
    for (let i = 0; i < 150; i++) {
      note(doc, i)
      await writer.flush()
    }
    await writer.checkpoint()
    const checkpoints = outbox.map(envelopeOf).filter((e) => e.checkpoint !== undefined)
    expect(ranges(checkpoints).length).toBeGreaterThan(3)
    for (const checkpoint of checkpoints) expect(inspectUpdate(checkpoint.update, update).ok).toBe(true)
    writer.dispose()
  })

  it('a fresh replica with the same limits catches up through several capped checkpoints and converges, then later envelopes apply', async () => {
    const check = createSignatureCheck()
    const guardLimits = { envelope: { maxBytes: 2_000 } }
    const source = new SignedDoc({ name: 'notes', docId: DOC, doc: new Y.Doc(), check, signer: alice.keyPair, deleteRule: allowAllDeletes, guardLimits, checkpointEvery: 8 })
    const target = new SignedDoc({ name: 'notes', docId: DOC, doc: new Y.Doc(), check, deleteRule: allowAllDeletes, guardLimits })
    await source.load(undefined)
    await target.load(undefined)
    for (let i = 0; i < 200; i++) {
      note(source.doc, i)
      await source.flush()
    }
    const [head] = source.heads()
    expect(head?.seq).toBe(200)
    const key = `${head?.author} ${head?.session}`
    const plan = source.envelopesAfter(key, 0)
    const planned = plan.filter((entry) => entry.checkpoint !== undefined)
    expect(planned.length).toBeGreaterThan(3)
    expect(plan.length).toBeLessThan(60)
    for (const entry of source.log()) expect(entry.bytes.length).toBeLessThanOrEqual(2_000)
    const outcomes = []
    for (const entry of plan) outcomes.push(await target.receive(entry.bytes, { peerId: 'source', via: source }))
    expect(outcomes.map((o) => o.status)).toEqual(plan.map(() => 'applied'))
    expect(Y.encodeStateAsUpdate(target.doc)).toEqual(Y.encodeStateAsUpdate(source.doc))
    expect(target.heads()).toEqual(source.heads())

    note(source.doc, 200)
    await source.flush()
    const next = source.envelopesAfter(key, 200)
    expect(next.length).toBe(1)
    expect((await target.receive(next[0]?.bytes as Uint8Array, { peerId: 'source', via: source })).status).toBe('applied')
    expect(target.doc.getMap('notes').size).toBe(201)
    await source.close()
    await target.close()
  })
})

describe('checkpoints: when one is due', () => {
  it('a few large envelopes (an import) get no checkpoint; one comes once small envelopes cost an eighth of the updates', async () => {
    const doc = new Y.Doc()
    const outbox: Uint8Array[] = []
    const writer = new SessionWriter({ doc, docId: DOC, signer: alice.keyPair, onEnvelope: (bytes) => outbox.push(bytes), checkpointEvery: 8 })
    const large = 'x'.repeat(20_000)
    for (let i = 0; i < 12; i++) {
      doc.getMap('imported').set(`batch-${i}`, `${i}${large}`)
      await writer.flush()
    }
    const checkpointSeqs = (): number[] => outbox.map(envelopeOf).filter((e) => e.checkpoint !== undefined).map((e) => e.seq)
    // 12 envelopes, past `checkpointEvery`, but their headers and signatures are ~1% of their updates.
    expect(outbox.length).toBe(12)
    expect(checkpointSeqs()).toEqual([])
    for (let i = 0; i < 400 && checkpointSeqs().length === 0; i++) {
      note(doc, i)
      await writer.flush()
    }
    const plain = outbox.map(envelopeOf).filter((e) => e.checkpoint === undefined)
    const first = checkpointSeqs()[0] as number
    expect(first).toBeGreaterThan(12 + 8)
    // Due exactly when the envelopes' own bytes reached an eighth of their updates.
    const overheadUpTo = (seq: number): number => plain.filter((e) => e.seq <= seq).reduce((sum, e) => sum + (outbox[plain.indexOf(e)] as Uint8Array).length - e.update.length, 0)
    const updatesUpTo = (seq: number): number => plain.filter((e) => e.seq <= seq).reduce((sum, e) => sum + e.update.length, 0)
    expect(overheadUpTo(first) * 8).toBeGreaterThanOrEqual(updatesUpTo(first))
    expect(overheadUpTo(first - 1) * 8).toBeLessThan(updatesUpTo(first - 1))
    writer.dispose()
  })

  it('small envelopes get their first checkpoint after `checkpointEvery` of them', async () => {
    const doc = new Y.Doc()
    const outbox: Uint8Array[] = []
    const writer = new SessionWriter({ doc, docId: DOC, signer: alice.keyPair, onEnvelope: (bytes) => outbox.push(bytes), checkpointEvery: 8 })
    for (let i = 0; i < 8; i++) {
      note(doc, i)
      await writer.flush()
    }
    expect(outbox.map(envelopeOf).filter((e) => e.checkpoint !== undefined).map((e) => e.seq)).toEqual([8])
    writer.dispose()
  })
})
