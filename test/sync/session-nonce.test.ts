/**
 * `SpaceOptions.sessionNonce`: pinning the writers' session nonces makes runs byte-identical;
 * reusing one for a second session of the same author breaks that session's sync, as documented.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  createIdentity,
  createMemoryNetwork,
  createMemoryStorage,
  createSeededRandom,
  createSpace,
  identityFromKeyPair,
  keyPairFromSeed,
  MANIFEST_DOC,
  openSpace,
  sessionClientId,
  SESSION_BYTES,
  type Identity,
  type Space,
} from '../../src/index'
import { SessionWriter } from '../../src/sync/session-writer'
import { openAll, replica, settle } from './sync-fixtures'

/** 16-byte nonces from a seeded stream, one per document created. */
function seededNonces(seed: number): (doc: string) => Uint8Array {
  const random = createSeededRandom(seed)
  return () => Uint8Array.from({ length: SESSION_BYTES }, () => random.int(0, 255))
}

/** A Space whose every input is fixed except, unless given, the session nonces. */
async function run(identity: Identity, sessionNonce?: (doc: string) => Uint8Array): Promise<{ states: Map<string, Uint8Array>; envelopes: Map<string, Uint8Array[]> }> {
  let keys = 0
  const now = new Date('2026-11-05T10:00:00.000Z')
  const space = createSpace({ id: 'city', identity, now: () => now, randomKey: () => `k${++keys}`, ...(sessionNonce === undefined ? {} : { sessionNonce }) })
  const ticket = await space.tickets.create({ service_code: 'pothole', district: 'north', description: 'Deep' })
  ticket.update({ status_notes: 'seen' })
  const proposal = await space.proposals.create({ title: 'Trees', district: 'north', process: 'pb2027', body: 'Plant trees.' })
  proposal.text('body').insert(0, 'Please: ')
  await space.flush()
  const states = new Map<string, Uint8Array>()
  const envelopes = new Map<string, Uint8Array[]>()
  for (const name of [MANIFEST_DOC, ...space.shardNames()]) {
    states.set(name, Y.encodeStateAsUpdate(await space.doc(name)))
    envelopes.set(name, space.signedDocs.get(name)?.log().map((entry) => entry.bytes) ?? [])
  }
  await space.close()
  return { states, envelopes }
}

describe('session nonces', () => {
  it('a pinned sessionNonce makes two runs byte-identical, documents and envelopes; random nonces do not', async () => {
    const identity = await identityFromKeyPair(await keyPairFromSeed(new Uint8Array(32).fill(9)))
    const first = await run(identity, seededNonces(5))
    const second = await run(identity, seededNonces(5))
    expect(first.states.size).toBe(3)
    expect(second.states).toEqual(first.states)
    expect(second.envelopes).toEqual(first.envelopes)
    const unpinned = await run(identity)
    expect(unpinned.states.get(MANIFEST_DOC)).not.toEqual(first.states.get(MANIFEST_DOC))
  })

  it('the nonce decides the client id of the document it is asked for', async () => {
    const identity = await createIdentity()
    const asked: string[] = []
    const nonce = new Uint8Array(SESSION_BYTES).fill(7)
    const space = createSpace({ id: 'city', identity, sessionNonce: (doc) => (asked.push(doc), nonce) })
    const ticket = await space.tickets.create({ service_code: 'pothole', district: 'north' })
    expect(asked).toEqual([MANIFEST_DOC, ticket.shard])
    expect((await space.doc(ticket.shard)).clientID).toBe(sessionClientId(identity.did, nonce))
    await space.close()
  })

  it('refuses a nonce that is not 16 bytes', () => {
    const doc = new Y.Doc()
    const signer = { did: 'did:key:z6Mk', sign: () => Promise.resolve(new Uint8Array(64)) }
    expect(() => new SessionWriter({ doc, docId: 'city/x', signer, session: new Uint8Array(8), onEnvelope: () => undefined })).toThrowError(
      expect.objectContaining({ code: 'E_ARGUMENT' }) as Error,
    )
  })

  it('one nonce for two live sessions of an author: a peer applies one session\'s envelopes and refuses the other\'s as equivocation', async () => {
    const network = createMemoryNetwork({ seed: 12 })
    const author = await createIdentity()
    const sameNonce = () => new Uint8Array(SESSION_BYTES).fill(3)
    const laptop = replica(network, 'laptop', author, { sessionNonce: sameNonce })
    const phone = replica(network, 'phone', author, { sessionNonce: sameNonce })
    const observer = replica(network, 'observer', await createIdentity())
    const engines = [laptop.engine, phone.engine, observer.engine]
    await laptop.space.tickets.create({ service_code: 'pothole', district: 'north' })
    await phone.space.proposals.create({ title: 'Trees', district: 'north', process: 'pb2027' })
    await settle(network, engines)
    // Both devices signed a different manifest envelope #1 of the same session.
    expect(observer.engine.quarantine().filter(({ doc }) => doc === MANIFEST_DOC).map(({ code }) => code)).toEqual(['E_EQUIVOCATION'])
    // The observer holds one device's story of the manifest, never both.
    expect(observer.space.shardNames().length).toBe(1)
    for (const r of [laptop, phone, observer]) await r.space.close()
  })

  it('one nonce for a session after a restart: Yjs moves the document to another client id, and the new edits stay local', async () => {
    const network = createMemoryNetwork({ seed: 13 })
    const author = await createIdentity()
    const storage = createMemoryStorage()
    const nonce = new Uint8Array(SESSION_BYTES).fill(4)
    const peer = replica(network, 'peer', await createIdentity())
    const start = async (name: string): Promise<{ space: Space; engines: () => ReturnType<Space['sync']>[] }> => {
      const space = await openSpace({ id: 'city', identity: author, storage, sessionNonce: () => nonce })
      const engine = space.sync(network.transport(), { peerId: name, resyncEvery: 0 })
      return { space, engines: () => [engine, peer.engine] }
    }
    const before = await start('author')
    const ticket = await before.space.tickets.create({ service_code: 'pothole', district: 'north' })
    await settle(network, before.engines())
    await openAll([before.space, peer.space])
    await settle(network, before.engines())
    await before.space.close()

    const after = await start('author-again')
    const doc = await after.space.doc(ticket.shard)
    ;(await after.space.tickets.require(ticket.id)).update({ status_notes: 'second session' })
    await after.space.flush()
    await openAll([after.space, peer.space])
    await settle(network, after.engines())
    expect(doc.clientID).not.toBe(sessionClientId(author.did, nonce))
    expect(after.space.signedDocs.get(ticket.shard)?.unsigned().clocks).toBeGreaterThan(0)
    expect((await peer.space.tickets.require(ticket.id)).get().value.status_notes).toBeUndefined()
    await after.space.close()
    await peer.space.close()
  })
})
