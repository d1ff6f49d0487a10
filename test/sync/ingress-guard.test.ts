import { beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { createIdentity, type Identity } from '../../src/index'
import { IngressGuard } from '../../src/sync/ingress-guard'
import { SessionWriter } from '../../src/sync/session-writer'
import { createSignatureCheck } from '../../src/sync/signature-check'
import { decodeEnvelope, encodeEnvelope, envelopeHash, sessionClientId } from '../../src/sync/envelope-codec'
import { signEnvelope } from '../../src/sync/envelope-signing'

const DOC = 'city/tickets.2026-11'
const check = createSignatureCheck()
let alice: Identity
let mallory: Identity

beforeAll(async () => {
  alice = await createIdentity()
  mallory = await createIdentity()
})

/** A replica of one document: its Y.Doc, a writer that signs its edits, a guard for what arrives. */
function replica(identity: Identity, session?: Uint8Array) {
  const doc = new Y.Doc()
  const outbox: Uint8Array[] = []
  const writer = new SessionWriter({ doc, docId: DOC, signer: identity.keyPair, onEnvelope: (bytes) => outbox.push(bytes), ...(session ? { session } : {}) })
  const guard = new IngressGuard({ doc, docId: DOC, check })
  let events = 0
  doc.on('update', () => events++)
  return { doc, writer, guard, outbox, events: () => events }
}

async function deliver(to: ReturnType<typeof replica>, envelopes: Uint8Array[], peer = 'peer') {
  const outcomes = []
  for (const bytes of envelopes) outcomes.push(await to.guard.receive(bytes, peer))
  return outcomes
}

/** Alice's replica with one ticket record holding a text field, and a second replica that received it. */
async function aliceWithTicket() {
  const a = replica(alice)
  const b = replica(mallory)
  a.doc.transact(() => {
    const ticket = new Y.Map<unknown>()
    a.doc.getMap('tickets').set('t1', ticket)
    ticket.set('status', 'open')
    ticket.set('description', new Y.Text('Deep pothole'))
  })
  a.doc.getMap('acts').set('h1', { type: 'ticket.file', clock: 1 })
  await a.writer.flush()
  await deliver(b, a.outbox)
  return { a, b }
}

/** An envelope of Mallory's own (properly signed, her own session) carrying any update bytes. */
async function malloryEnvelope(update: Uint8Array, seq = 1, prev = new Uint8Array(0), session = new Uint8Array(16).fill(9), doc = DOC) {
  return encodeEnvelope(await signEnvelope(mallory.keyPair, { doc, session, seq, prev, update }))
}

describe('ingress guard: honest traffic', () => {
  it('applies a peer\'s envelopes, and the documents converge', async () => {
    const { a, b } = await aliceWithTicket()
    ;(a.doc.getMap('tickets').get('t1') as Y.Map<unknown>).set('status', 'closed')
    await a.writer.flush()
    const outcomes = await deliver(b, a.outbox.slice(-1))
    expect(outcomes.map((o) => o.status)).toEqual(['applied'])
    expect(b.doc.getMap('tickets').toJSON()).toEqual(a.doc.getMap('tickets').toJSON())
    expect(b.guard.heads()).toEqual([expect.objectContaining({ author: alice.did, seq: a.outbox.length })])
  })

  it('merges a burst of transactions made while signing into few envelopes', async () => {
    const a = replica(alice)
    const b = replica(mallory)
    const text = a.doc.getText('body')
    for (let i = 0; i < 500; i++) text.insert(text.length, 'x') // 500 transactions, no await between them
    await a.writer.flush()
    expect(a.outbox.length).toBeLessThanOrEqual(2)
    await deliver(b, a.outbox)
    expect(b.doc.getText('body').toString()).toBe('x'.repeat(500))
  })

  it('ignores duplicates without firing events', async () => {
    const { a, b } = await aliceWithTicket()
    const before = b.events()
    const outcomes = await deliver(b, a.outbox)
    expect(outcomes.every((o) => o.status === 'duplicate')).toBe(true)
    expect(b.events()).toBe(before)
  })

  it('holds envelopes that arrive before their predecessors, then applies them all', async () => {
    const a = replica(alice)
    const b = replica(mallory)
    const text = a.doc.getText('body')
    for (let i = 0; i < 2000; i++) {
      text.insert(text.length, `${i % 10}`)
      await a.writer.flush() // one envelope per edit
    }
    expect(a.outbox).toHaveLength(2000)
    const reversed = [...a.outbox].reverse()
    const outcomes = await deliver(b, reversed)
    expect(outcomes.slice(0, -1).every((o) => o.status === 'pending')).toBe(true)
    const last = outcomes[outcomes.length - 1]
    expect(last?.status).toBe('applied')
    expect(last?.status === 'applied' && last.released.length).toBe(1999)
    expect(b.guard.pending).toBe(0)
    expect(b.doc.getText('body').toString()).toBe(text.toString())
  })

  it('one peer cannot fill the pending queue for everyone else', async () => {
    const a = replica(alice)
    const text = a.doc.getText('body')
    for (let i = 0; i < 6; i++) {
      text.insert(text.length, 'x')
      await a.writer.flush()
    }
    const doc = new Y.Doc()
    const guard = new IngressGuard({ doc, docId: DOC, check, limits: { pendingPerPeer: 2 } })
    const late = a.outbox.slice(1) // every envelope but the first: all wait for a predecessor
    const fromMallory = await Promise.all(late.slice(0, 3).map((bytes) => guard.receive(bytes, 'mallory')))
    expect(fromMallory.map((o) => o.status)).toEqual(['pending', 'pending', 'rejected'])
    expect(fromMallory[2]).toMatchObject({ code: 'E_PENDING_FULL' })
    // An honest peer still gets its out-of-order envelopes queued, and everything applies once the first arrives.
    expect((await guard.receive(late[3] as Uint8Array, 'bob')).status).toBe('pending')
    const first = await guard.receive(a.outbox[0] as Uint8Array, 'bob')
    expect(first.status).toBe('applied')
    for (const bytes of late) await guard.receive(bytes, 'bob')
    expect(doc.getText('body').toString()).toBe('xxxxxx')
    expect(guard.pending).toBe(0)
  })

  it('waits for another author\'s struct an edit depends on', async () => {
    const { a, b } = await aliceWithTicket()
    const c = replica(mallory, new Uint8Array(16).fill(3))
    await deliver(c, a.outbox)
    ;(c.doc.getMap('tickets').get('t1') as Y.Map<unknown>).set('status', 'acknowledged')
    await c.writer.flush()
    const fresh = replica(alice, new Uint8Array(16).fill(4))
    expect((await deliver(fresh, c.outbox))[0]?.status).toBe('pending')
    const released = await deliver(fresh, a.outbox)
    expect(released.some((o) => o.status === 'applied' && o.released.length === 1)).toBe(true)
    expect((fresh.doc.getMap('tickets').get('t1') as Y.Map<unknown>).get('status')).toBe('acknowledged')
    expect(b.guard.pending).toBe(0)
  })
})

describe('ingress guard: hostile traffic is refused before Yjs sees it', () => {
  async function expectRefused(b: ReturnType<typeof replica>, bytes: Uint8Array, code: string) {
    const state = Y.encodeStateAsUpdate(b.doc)
    const events = b.events()
    const outcome = await b.guard.receive(bytes, 'mallory')
    expect(outcome).toMatchObject({ status: 'rejected', code })
    expect(Y.encodeStateAsUpdate(b.doc)).toEqual(state)
    expect(b.events()).toBe(events)
    expect(b.guard.quarantine().at(-1)).toMatchObject({ code, peer: 'mallory' })
  }

  it('forged client id: writing under the victim\'s client', async () => {
    const { a, b } = await aliceWithTicket()
    const forger = new Y.Doc()
    Y.applyUpdate(forger, Y.encodeStateAsUpdate(a.doc))
    forger.clientID = a.writer.clientId
    forger.getMap('tickets').set('t2', 'forged in alice\'s name')
    const update = Y.encodeStateAsUpdate(forger, Y.encodeStateVector(a.doc))
    await expectRefused(b, await malloryEnvelope(update), 'E_FORGED_CLIENT')
  })

  it('censorship range: a GC struct claiming the victim\'s future clocks', async () => {
    const { a, b } = await aliceWithTicket()
    const victim = a.writer.clientId
    // One state update, one GC struct for the victim's client at its next clock, 1,000,000 clocks long.
    const bytes: number[] = [1, 1]
    const pushVarUint = (n: number) => {
      while (n >= 128) {
        bytes.push((n % 128) | 128)
        n = Math.floor(n / 128)
      }
      bytes.push(n)
    }
    pushVarUint(victim)
    pushVarUint(Y.getState(a.doc.store, victim))
    bytes.push(0) // info: GC
    pushVarUint(1_000_000)
    bytes.push(0) // empty delete set
    await expectRefused(b, await malloryEnvelope(new Uint8Array(bytes)), 'E_FORGED_CLIENT')
    // Alice's next edit still gets through.
    ;(a.doc.getMap('tickets').get('t1') as Y.Map<unknown>).set('status', 'closed')
    await a.writer.flush()
    expect((await deliver(b, a.outbox.slice(-1)))[0]?.status).toBe('applied')
  })

  it('anonymous delete of a record, and replacing a record or an act, are refused', async () => {
    const { a, b } = await aliceWithTicket()
    const attacker = replica(mallory, new Uint8Array(16).fill(5))
    await deliver(attacker, a.outbox)
    attacker.doc.getMap('tickets').delete('t1')
    await attacker.writer.flush()
    await expectRefused(b, attacker.outbox[0] as Uint8Array, 'E_FORBIDDEN_DELETE')

    const attacker2 = replica(mallory, new Uint8Array(16).fill(6))
    await deliver(attacker2, a.outbox)
    attacker2.doc.getMap('acts').set('h1', { type: 'forged' })
    await attacker2.writer.flush()
    await expectRefused(b, attacker2.outbox[0] as Uint8Array, 'E_FORBIDDEN_DELETE')

    const attacker3 = replica(mallory, new Uint8Array(16).fill(7))
    await deliver(attacker3, a.outbox)
    attacker3.doc.getMap('tickets').set('t1', new Y.Map())
    await attacker3.writer.flush()
    await expectRefused(b, attacker3.outbox[0] as Uint8Array, 'E_FORBIDDEN_DELETE')
  })

  it('collaborative edits inside a record (fields, text) are allowed from any writer', async () => {
    const { a, b } = await aliceWithTicket()
    const editor = replica(mallory, new Uint8Array(16).fill(8))
    await deliver(editor, a.outbox)
    const ticket = editor.doc.getMap('tickets').get('t1') as Y.Map<unknown>
    ticket.set('status', 'acknowledged')
    ;(ticket.get('description') as Y.Text).delete(0, 5)
    await editor.writer.flush()
    expect((await deliver(b, editor.outbox)).every((o) => o.status === 'applied')).toBe(true)
    expect(((b.doc.getMap('tickets').get('t1') as Y.Map<unknown>).get('description') as Y.Text).toString()).toBe('pothole')
  })

  it('wrong document, broken chain, equivocation and clock gaps', async () => {
    const { b } = await aliceWithTicket()
    const own = new Y.Doc()
    own.clientID = sessionClientId(mallory.did, new Uint8Array(16).fill(9))
    own.getMap('notes').set('n', 1)
    const first = Y.encodeStateAsUpdate(own)
    await expectRefused(b, await malloryEnvelope(first, 1, new Uint8Array(0), new Uint8Array(16).fill(9), 'city/tickets.2026-12'), 'E_WRONG_DOC')
    const e1 = await malloryEnvelope(first)
    expect((await b.guard.receive(e1, 'mallory')).status).toBe('applied')
    const sv = Y.encodeStateVector(own)
    own.getMap('notes').set('m', 2)
    const second = Y.encodeStateAsUpdate(own, sv)
    await expectRefused(b, await malloryEnvelope(second, 2, new Uint8Array(32)), 'E_CHAIN')
    const other = new Y.Doc()
    other.clientID = own.clientID
    other.getMap('notes').set('x', 'different')
    await expectRefused(b, await malloryEnvelope(Y.encodeStateAsUpdate(other)), 'E_EQUIVOCATION')
    const prev = decodeEnvelope(e1)
    if (!prev.ok) throw new Error('e1')
    // The quarantine keeps the pair: the refused envelope, and the hash of the one applied first.
    expect(b.guard.quarantine().at(-1)?.conflictsWith).toBe(envelopeHash(prev.envelope))
    const hashBytes = new Uint8Array(envelopeHash(prev.envelope).match(/../g)?.map((h) => parseInt(h, 16)) ?? [])
    // Skipping clocks: the session's next envelope starts at clock 2, leaving out clock 1 ('m').
    own.getMap('notes').set('y', 3)
    const skipping = Y.encodeStateAsUpdate(own, new Uint8Array([1, ...varUint(own.clientID), 2]))
    await expectRefused(b, await malloryEnvelope(skipping, 2, hashBytes), 'E_CLOCK')
    expect((await b.guard.receive(await malloryEnvelope(second, 2, hashBytes), 'mallory')).status).toBe('applied')
  })

  it('bytes in the V2 encoding are only ever read as V1: their content never reaches the document', async () => {
    const { b } = await aliceWithTicket()
    const own = new Y.Doc()
    own.clientID = sessionClientId(mallory.did, new Uint8Array(16).fill(9))
    own.getMap('notes').set('n', 'x'.repeat(50))
    await b.guard.receive(await malloryEnvelope(Y.encodeStateAsUpdateV2(own)), 'mallory')
    expect(b.doc.getMap('notes').size).toBe(0)
  })

  it('a tiny update declaring 30 million structs is refused without allocating them', async () => {
    const { b } = await aliceWithTicket()
    const client = sessionClientId(mallory.did, new Uint8Array(16).fill(9))
    const bomb = new Uint8Array([1, ...varUint(30_000_000), ...varUint(client), 0])
    await expectRefused(b, await malloryEnvelope(bomb), 'E_UPDATE_MALFORMED')
  })

  it('every truncation of three real envelopes, 10,000 bit flips and 10,000 random inputs: refused, nothing changes', async () => {
    const { a, b } = await aliceWithTicket()
    const ticket = a.doc.getMap('tickets').get('t1') as Y.Map<unknown>
    ticket.set('status', 'closed')
    await a.writer.flush()
    ;(ticket.get('description') as Y.Text).insert(0, 'Very ')
    await a.writer.flush()
    a.doc.getMap('acts').set('h2', { type: 'ticket.transition', clock: 2 })
    await a.writer.flush()
    const genuine = a.outbox.slice(-3)
    expect(genuine).toHaveLength(3)
    const state = Y.encodeStateAsUpdate(b.doc)
    const events = b.events()
    for (const bytes of genuine) {
      for (let n = 0; n < bytes.length; n++) expect((await b.guard.receive(bytes.slice(0, n), 'm')).status).toBe('rejected')
    }
    await fc.assert(
      fc.asyncProperty(fc.nat(2), fc.nat(), async (which, at) => {
        const bytes = genuine[which] as Uint8Array
        const bit = at % (bytes.length * 8)
        const flipped = bytes.slice()
        flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7))
        return (await b.guard.receive(flipped, 'm')).status === 'rejected'
      }),
      { seed: 13, numRuns: 10_000 },
    )
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (random) => (await b.guard.receive(random, 'm')).status === 'rejected'),
      { seed: 14, numRuns: 10_000 },
    )
    expect(Y.encodeStateAsUpdate(b.doc)).toEqual(state)
    expect(b.events()).toBe(events)
    for (const bytes of genuine) expect((await b.guard.receive(bytes, 'a')).status).toBe('applied')
  }, 120_000)
})

function varUint(n: number): number[] {
  const out: number[] = []
  while (n >= 128) {
    out.push((n % 128) | 128)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return out
}
