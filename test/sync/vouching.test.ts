import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createIdentity, createMemoryNetwork, createMemoryStorage, createSpace, openSpace, type Identity, type Space } from '../../src/index'
import { decodeEnvelope, encodeEnvelope, sessionClientId } from '../../src/sync/envelope-codec'
import { signEnvelope } from '../../src/sync/envelope-signing'
import { IngressGuard } from '../../src/sync/ingress-guard'
import { createSignatureCheck } from '../../src/sync/signature-check'
import type { SignedDoc } from '../../src/sync/signed-doc'
import { replica, settle } from './sync-fixtures'

let relayIdentity: Identity
let author: Identity
let mallory: Identity
const open: Space[] = []

beforeAll(async () => {
  ;[relayIdentity, author, mallory] = await Promise.all([createIdentity(), createIdentity(), createIdentity()])
})

afterEach(async () => {
  await Promise.all(open.splice(0).map((space) => space.close()))
})

/** The relay's Space with one proposal (made by the relay itself), its shard open. */
async function relayWithProposal(options: { storage?: ReturnType<typeof createMemoryStorage> } = {}) {
  const relay = options.storage ? await openSpace({ id: 'city', identity: relayIdentity, storage: options.storage }) : createSpace({ id: 'city', identity: relayIdentity })
  open.push(relay)
  const proposal = await relay.proposals.create({ title: 'Benches', district: 'north', process: 'p1', body: 'Ten benches.' })
  await relay.flush()
  const doc = await relay.doc(proposal.shard)
  return { relay, proposal, doc, signed: relay.signedDocs.get(proposal.shard) as SignedDoc }
}

/** A plain Yjs client holding `source`'s state, with a fixed client id (set after loading: Yjs picks a new one when a remote update writes under its own). */
function plainClient(source: Y.Doc, clientID: number): Y.Doc {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(source))
  doc.clientID = clientID
  return doc
}

/** What `edit` does to `doc`, as the update Yjs emits for it. */
function updateOf(doc: Y.Doc, edit: () => void): Uint8Array {
  let update: Uint8Array | undefined
  const listener = (bytes: Uint8Array) => {
    update = update ? Y.mergeUpdates([update, bytes]) : bytes
  }
  doc.on('update', listener)
  edit()
  doc.off('update', listener)
  if (!update) throw new Error('the edit changed nothing')
  return update
}

function bodyOf(doc: Y.Doc, id: string): Y.Text {
  return (doc.getMap('proposals').get(id) as Y.Map<unknown>).get('body') as Y.Text
}

describe('vouching: a replica signs plain updates for identities it admitted', () => {
  it('applies a plain edit as a version 2 envelope signed by the replica, vouching for the writer\'s client', async () => {
    const { relay, proposal, doc, signed } = await relayWithProposal()
    const plain = plainClient(doc, 1001)
    const update = updateOf(plain, () => bodyOf(plain, proposal.id).insert(0, 'Twenty. '))
    const outcome = await relay.signedDocs.applyVouched(proposal.shard, update, { identity: 'alice' })
    expect(outcome).toMatchObject({ status: 'applied', clients: [1001] })
    expect(bodyOf(doc, proposal.id).toString()).toBe('Twenty. Ten benches.')
    const last = signed.log()[signed.log().length - 1]
    const decoded = last && decodeEnvelope(last.bytes)
    expect(decoded && decoded.ok && decoded.envelope).toMatchObject({ author: relayIdentity.did, vouched: [{ client: 1001, identity: 'alice' }] })
    expect(signed.unsigned()).toEqual({ clients: [], clocks: 0 })
    expect(signed.guard.clientOwner(1001)).toEqual({ kind: 'vouched', author: relayIdentity.did, identity: 'alice' })
  })

  it('other cabildo replicas accept the vouched envelopes through their guards and converge', async () => {
    const network = createMemoryNetwork({ seed: 3 })
    const relay = replica(network, 'relay', relayIdentity)
    const reader = replica(network, 'reader', author)
    open.push(relay.space, reader.space)
    const proposal = await relay.space.proposals.create({ title: 'Benches', district: 'north', process: 'p1', body: 'Ten benches.' })
    await settle(network, [relay.engine, reader.engine])
    await reader.space.doc(proposal.shard)
    const plain = plainClient(await relay.space.doc(proposal.shard), 7)
    await relay.space.signedDocs.applyVouched(proposal.shard, updateOf(plain, () => bodyOf(plain, proposal.id).insert(0, 'Twenty. ')), { identity: 'alice' })
    await relay.space.signedDocs.applyVouched(proposal.shard, updateOf(plain, () => bodyOf(plain, proposal.id).delete(0, 3)), { identity: 'alice', client: 7 })
    await settle(network, [relay.engine, reader.engine])
    const text = (await reader.space.proposals.require(proposal.id)).get().value.body
    expect(text).toBe('nty. Ten benches.')
    expect(reader.engine.quarantine()).toEqual([])
    expect(reader.space.signedDocs.get(proposal.shard)?.guard.clientOwner(7)).toEqual({ kind: 'vouched', author: relayIdentity.did, identity: 'alice' })
  })

  it('a sync step 2 repeating known structs and the whole delete set is trimmed to what is new', async () => {
    const { relay, proposal, doc, signed } = await relayWithProposal()
    const plain = plainClient(doc, 42)
    await relay.signedDocs.applyVouched(proposal.shard, updateOf(plain, () => bodyOf(plain, proposal.id).insert(0, 'ab')), { identity: 'alice' })
    await relay.signedDocs.applyVouched(proposal.shard, updateOf(plain, () => bodyOf(plain, proposal.id).delete(0, 1)), { identity: 'alice', client: 42 })
    const before = Y.encodeStateVector(doc)
    bodyOf(plain, proposal.id).insert(1, 'c') // merged by Yjs with the earlier 'b' into one struct
    const step2 = Y.encodeStateAsUpdate(plain, Y.encodeStateVector(doc))
    const stale = Y.encodeStateAsUpdate(plain, before) // carries the whole delete set again
    expect(await relay.signedDocs.applyVouched(proposal.shard, Y.encodeStateAsUpdate(plain), { identity: 'alice' })).toMatchObject({ status: 'applied' })
    expect(bodyOf(doc, proposal.id).toString()).toBe('bcTen benches.')
    expect(await relay.signedDocs.applyVouched(proposal.shard, step2, { identity: 'alice' })).toEqual({ status: 'unchanged' })
    expect(await relay.signedDocs.applyVouched(proposal.shard, stale, { identity: 'alice' })).toEqual({ status: 'unchanged' })
    expect(signed.unsigned()).toEqual({ clients: [], clocks: 0 })
  })

  it('a client id belongs to the first identity that wrote under it; the same identity carries on', async () => {
    const { relay, proposal, doc } = await relayWithProposal()
    const alice = plainClient(doc, 500)
    await relay.signedDocs.applyVouched(proposal.shard, updateOf(alice, () => bodyOf(alice, proposal.id).insert(0, 'A')), { identity: 'alice' })
    const forger = plainClient(doc, 500) // Bob takes Alice's client id
    const state = Y.encodeStateAsUpdate(doc)
    const forged = updateOf(forger, () => bodyOf(forger, proposal.id).insert(0, 'B'))
    expect(await relay.signedDocs.applyVouched(proposal.shard, forged, { identity: 'bob' })).toMatchObject({ status: 'rejected', code: 'E_FORGED_CLIENT' })
    expect(Y.encodeStateAsUpdate(doc)).toEqual(state)
    expect(await relay.signedDocs.applyVouched(proposal.shard, updateOf(alice, () => bodyOf(alice, proposal.id).insert(1, 'a')), { identity: 'alice' })).toMatchObject({ status: 'applied' })
    expect(bodyOf(doc, proposal.id).toString()).toBe('AaTen benches.')
  })

  it('refuses writes under a cabildo session\'s client id, the replica\'s own, forged ranges, clock gaps and record deletions', async () => {
    const { proposal, doc, signed } = await relayWithProposal()
    const state = Y.encodeStateAsUpdate(doc)
    const asSession = plainClient(doc, doc.clientID) // the relay's own session client, which wrote the proposal
    const forgedSession = updateOf(asSession, () => bodyOf(asSession, proposal.id).insert(0, 'X'))
    expect(await signed.applyVouched(forgedSession, { identity: 'mallory' })).toMatchObject({ status: 'rejected', code: 'E_FORGED_CLIENT' })

    // A forged "already seen" range: a GC struct claiming 1,000,000 clocks of a client Alice writes under.
    const alice = plainClient(doc, 600)
    await signed.applyVouched(updateOf(alice, () => bodyOf(alice, proposal.id).insert(0, 'A')), { identity: 'alice' })
    const write = (n: number) => {
      const out: number[] = []
      while (n >= 128) {
        out.push((n % 128) | 128)
        n = Math.floor(n / 128)
      }
      out.push(n)
      return out
    }
    const range = Uint8Array.from([1, 1, ...write(600), ...write(Y.getState(doc.store, 600)), 0, ...write(1_000_000), 0])
    const afterAlice = Y.encodeStateAsUpdate(doc)
    expect(await signed.applyVouched(range, { identity: 'mallory' })).toMatchObject({ status: 'rejected', code: 'E_FORGED_CLIENT' })
    // ... and under a fresh client, a gap in its clocks.
    const gap = Uint8Array.from([1, 1, ...write(9), ...write(5), 0, ...write(3), 0])
    expect(await signed.applyVouched(gap, { identity: 'mallory' })).toMatchObject({ status: 'rejected', code: 'E_CLOCK' })
    // An anonymous delete of a signed record: deletion only, under Mallory's own client.
    const deleter = plainClient(doc, 700)
    const deletion = updateOf(deleter, () => deleter.getMap('proposals').delete(proposal.id))
    expect(await signed.applyVouched(deletion, { identity: 'mallory', client: 700 })).toMatchObject({ status: 'rejected', code: 'E_FORBIDDEN_DELETE' })
    // Replacing the record by writing over its key.
    const replacer = plainClient(doc, 701)
    const replacement = updateOf(replacer, () => replacer.getMap('proposals').set(proposal.id, 'gone'))
    expect(await signed.applyVouched(replacement, { identity: 'mallory' })).toMatchObject({ status: 'rejected', code: 'E_FORBIDDEN_DELETE' })
    // A deletion with no client to attribute it to, and bytes that are no update.
    const typist = plainClient(doc, 702)
    const textDeletion = updateOf(typist, () => bodyOf(typist, proposal.id).delete(0, 1))
    expect(await signed.applyVouched(textDeletion, { identity: 'mallory' })).toMatchObject({ status: 'rejected', code: 'E_FORGED_CLIENT' })
    expect(await signed.applyVouched(Uint8Array.from([1, 2, 3]), { identity: 'mallory' })).toMatchObject({ status: 'rejected', code: 'E_UPDATE_MALFORMED' })
    expect(await signed.applyVouched(new Uint8Array(10), { identity: 'mallory' }, { limits: { maxBytes: 5 } })).toMatchObject({ status: 'rejected', code: 'E_UPDATE_TOO_LARGE' })
    expect(Y.encodeStateAsUpdate(doc)).toEqual(afterAlice)
    expect(state).not.toEqual(afterAlice)
    expect(signed.guard.quarantine()).toEqual([]) // nothing refused was ever signed
  })

  it('client ownership survives a restart: it is rebuilt from the stored vouched envelopes', async () => {
    const storage = createMemoryStorage()
    const first = await relayWithProposal({ storage })
    const alice = plainClient(first.doc, 800)
    await first.relay.signedDocs.applyVouched(first.proposal.shard, updateOf(alice, () => bodyOf(alice, first.proposal.id).insert(0, 'A')), { identity: 'alice' })
    await first.relay.close()
    const again = await openSpace({ id: 'city', identity: relayIdentity, storage })
    open.push(again)
    const doc = await again.doc(first.proposal.shard)
    expect(again.signedDocs.get(first.proposal.shard)?.guard.clientOwner(800)).toMatchObject({ kind: 'vouched', identity: 'alice' })
    const forger = plainClient(doc, 800)
    expect(await again.signedDocs.applyVouched(first.proposal.shard, updateOf(forger, () => bodyOf(forger, first.proposal.id).insert(0, 'B')), { identity: 'bob' }))
      .toMatchObject({ status: 'rejected', code: 'E_FORGED_CLIENT' })
    expect(await again.signedDocs.applyVouched(first.proposal.shard, updateOf(alice, () => bodyOf(alice, first.proposal.id).insert(1, 'a')), { identity: 'alice' }))
      .toMatchObject({ status: 'applied' })
    expect(bodyOf(doc, first.proposal.id).toString()).toBe('AaTen benches.')
  })

  it('a Space without an identity vouches with the signer it is given (a relay\'s key), and refuses without one', async () => {
    const reader = createSpace({ id: 'city' })
    open.push(reader)
    const proposal = await reader.proposals.create({ title: 'Benches', district: 'north', process: 'p1', body: 'Ten benches.' })
    const doc = await reader.doc(proposal.shard)
    const plain = plainClient(doc, 901)
    const update = updateOf(plain, () => bodyOf(plain, proposal.id).insert(0, 'Twenty. '))
    await expect(reader.signedDocs.applyVouched(proposal.shard, update, { identity: 'alice' })).rejects.toMatchObject({ code: 'E_ARGUMENT' })
    expect(await reader.signedDocs.applyVouched(proposal.shard, update, { identity: 'alice' }, { signer: relayIdentity.keyPair })).toMatchObject({ status: 'applied' })
    expect(reader.signedDocs.get(proposal.shard)?.heads()).toEqual([expect.objectContaining({ author: relayIdentity.did, seq: 1 })])
  })

  it('refuses an unusable identity, and documents that are not open', async () => {
    const { relay, proposal: other } = await relayWithProposal()
    await expect(relay.signedDocs.applyVouched(other.shard, new Uint8Array([0, 0]), { identity: '' })).rejects.toMatchObject({ code: 'E_ARGUMENT' })
    await expect(relay.signedDocs.applyVouched('process.elsewhere', new Uint8Array([0, 0]), { identity: 'alice' })).rejects.toMatchObject({ code: 'E_NOT_FOUND' })
  })
})

describe('ingress guard: vouched envelopes from outside', () => {
  const DOC = 'city/process.p1'
  const check = createSignatureCheck()

  /** A guarded document holding a text written by `author`'s session, and that session's client. */
  async function guarded() {
    const doc = new Y.Doc()
    const guard = new IngressGuard({ doc, docId: DOC, check })
    const session = new Uint8Array(16).fill(1)
    const writer = new Y.Doc()
    writer.clientID = sessionClientId(author.did, session)
    const update = updateOf(writer, () => writer.getText('body').insert(0, 'hello'))
    const outcome = await guard.receive(encodeEnvelope(await signEnvelope(author.keyPair, { doc: DOC, session, seq: 1, prev: new Uint8Array(0), update })), 'author')
    expect(outcome.status).toBe('applied')
    return { doc, guard, sessionClient: writer.clientID }
  }

  async function vouched(signer: Identity, update: Uint8Array, vouchedFor: Array<{ client: number; identity: string }>, session = new Uint8Array(16).fill(2)) {
    return encodeEnvelope(await signEnvelope(signer.keyPair, { doc: DOC, session, seq: 1, prev: new Uint8Array(0), update, vouched: vouchedFor }))
  }

  function plainEdit(doc: Y.Doc, clientID: number, text: string): Uint8Array {
    const plain = plainClient(doc, clientID)
    return updateOf(plain, () => plain.getText('body').insert(0, text))
  }

  it('refuses a vouched client owned by a cabildo session, by another signer\'s identity, or structs under clients not vouched for', async () => {
    const { doc, guard, sessionClient } = await guarded()
    const underSession = await vouched(relayIdentity, plainEdit(doc, sessionClient, 'x'), [{ client: sessionClient, identity: 'alice' }])
    expect(await guard.receive(underSession, 'relay')).toMatchObject({ status: 'rejected', code: 'E_FORGED_CLIENT' })
    const notVouched = await vouched(relayIdentity, plainEdit(doc, 31, 'x'), [{ client: 32, identity: 'alice' }])
    expect(await guard.receive(notVouched, 'relay')).toMatchObject({ status: 'rejected', code: 'E_FORGED_CLIENT' })
    expect(await guard.receive(await vouched(relayIdentity, plainEdit(doc, 33, 'a'), [{ client: 33, identity: 'alice' }]), 'relay')).toMatchObject({ status: 'applied' })
    // Another relay (or the same relay for another identity) cannot take client 33 over.
    const otherSigner = await vouched(mallory, plainEdit(doc, 33, 'm'), [{ client: 33, identity: 'alice' }])
    expect(await guard.receive(otherSigner, 'mallory')).toMatchObject({ status: 'rejected', code: 'E_FORGED_CLIENT' })
    const otherIdentity = await vouched(relayIdentity, plainEdit(doc, 33, 'b'), [{ client: 33, identity: 'bob' }], new Uint8Array(16).fill(3))
    expect(await guard.receive(otherIdentity, 'relay')).toMatchObject({ status: 'rejected', code: 'E_FORGED_CLIENT' })
    // A new session of the same relay vouching for the same identity carries on.
    const sameIdentity = await vouched(relayIdentity, plainEdit(doc, 33, 'c'), [{ client: 33, identity: 'alice' }], new Uint8Array(16).fill(4))
    expect(await guard.receive(sameIdentity, 'relay')).toMatchObject({ status: 'applied' })
    expect(doc.getText('body').toString()).toBe('cahello')
  })

  it('an envelope that edits vouched content waits for it, and is applied when it arrives', async () => {
    const { doc, guard } = await guarded()
    const plain = plainClient(doc, 51)
    const plainUpdate = updateOf(plain, () => plain.getText('body').insert(5, ' world'))
    const vouchedEnvelope = await vouched(relayIdentity, plainUpdate, [{ client: 51, identity: 'alice' }])
    // Another author, holding the plain content, edits right after it.
    const session = new Uint8Array(16).fill(8)
    const editor = plainClient(plain, sessionClientId(mallory.did, session))
    const edit = updateOf(editor, () => editor.getText('body').insert(11, '!'))
    const dependent = encodeEnvelope(await signEnvelope(mallory.keyPair, { doc: DOC, session, seq: 1, prev: new Uint8Array(0), update: edit }))
    expect(await guard.receive(dependent, 'mallory')).toMatchObject({ status: 'pending' })
    expect(await guard.receive(vouchedEnvelope, 'relay')).toMatchObject({ status: 'applied', released: [expect.any(String)] })
    expect(doc.getText('body').toString()).toBe('hello world!')
  })
})
