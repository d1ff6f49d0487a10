import { beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  applyDocUpdate,
  createIdentity,
  createMemoryStorage,
  decodeEnvelope,
  openSpace,
  type DocStore,
  type EnvelopeSigner,
  type Identity,
  type Storage,
} from '../../src/index'
import { attachStore } from '../../src/storage/attach-store'
import { createOperationQueue } from '../../src/storage/operation-queue'
import { SignedDoc } from '../../src/sync/signed-doc'
import { createSignatureCheck } from '../../src/sync/signature-check'

let identity: Identity

beforeAll(async () => {
  identity = await createIdentity()
})

/** Every store's records, as a crash leaves them. */
type Image = ReadonlyMap<string, readonly Uint8Array[]>

/**
 * A storage whose stores write each record `delay(key)` ms after the call, one operation at a
 * time per store, and which keeps, after every write, the image a crash at that instant leaves.
 */
function imagingStorage(delay: (key: string) => number, start: Image = new Map()): { storage: Storage; images: Image[] } {
  const disk = new Map([...start].map(([key, records]) => [key, [...records]]))
  const images: Image[] = []
  const storage: Storage = {
    async open(key): Promise<DocStore> {
      const queue = createOperationQueue()
      const write = (next: (records: readonly Uint8Array[]) => Uint8Array[]): Promise<void> =>
        queue.run(async () => {
          await new Promise((resolve) => setTimeout(resolve, delay(key)))
          disk.set(key, next(disk.get(key) ?? []))
          images.push(new Map([...disk].map(([k, records]) => [k, [...records]])))
        })
      return {
        key,
        load: () => queue.run(async () => (disk.get(key) ?? []).map((record) => record.slice())),
        append: (record) => {
          const copy = record.slice()
          return write((records) => [...records, copy])
        },
        compact: (snapshot) => {
          const copy = snapshot.slice()
          return write(() => [copy])
        },
        flush: () => queue.idle(),
        close: () => queue.idle(),
      }
    },
  }
  return { storage, images }
}

/** A document kept as a Space keeps it: its own store, then its signed history and envelope log. */
async function openSigned(storage: Storage, signer?: EnvelopeSigner) {
  const doc = new Y.Doc()
  const signed = new SignedDoc({ name: 'notes', docId: 'city/notes', doc, check: createSignatureCheck(), ...(signer === undefined ? {} : { signer }), onError: () => undefined })
  const attached = await attachStore(doc, await storage.open('notes'), { keptElsewhere: signed.kept, compactEvery: Infinity })
  await signed.load(storage)
  const close = async (): Promise<void> => {
    await signed.close()
    await attached.detach()
    await attached.store.close()
  }
  return { doc, signed, attached, close }
}

/** The document its envelope log alone gives. */
function fromEnvelopes(log: readonly { readonly bytes: Uint8Array }[]): Y.Doc {
  const doc = new Y.Doc()
  for (const { bytes } of log) {
    const decoded = decodeEnvelope(bytes)
    if (decoded.ok) Y.applyUpdate(doc, decoded.envelope.update)
  }
  return doc
}

describe('a signed document in storage: its envelope log is the record of what envelopes carry', () => {
  it('at every instant a crash could leave, each document is exactly what its envelope log carries, and the last one holds every edit', async () => {
    // Envelope logs write slowly, documents' own stores at once: the order a file store's two
    // group commits may take.
    const { storage, images } = imagingStorage((key) => (key.endsWith('#envelopes') ? 3 : 0))
    const space = await openSpace({ id: 'city', identity, storage, compactEvery: 4 })
    const ticket = await space.tickets.create({ service_code: 'pothole', district: 'north' })
    const proposal = await space.proposals.create({ title: 'Benches', district: 'north', process: 'pb2026', body: 'Ten benches' })
    const body = proposal.text('body')
    for (let i = 0; i < 6; i++) {
      ticket.update({ status_notes: `note ${i}` })
      body.insert(body.length, '!')
      if (i % 2 === 1) body.delete(0, 1) // a transaction that only deletes
      if (i % 3 === 2) await space.flush()
    }
    await space.flush()
    const expected = { notes: ticket.get().value.status_notes, body: body.toString() }
    await space.close()
    expect(images.some((image) => [...image].some(([key, records]) => !key.endsWith('#envelopes') && records.length === 1 && key !== '_manifest'))).toBe(true) // snapshots were written

    for (const image of images) {
      const reader = await openSpace({ id: 'city', storage: imagingStorage(() => 0, image).storage })
      for (const name of [...image.keys()].filter((key) => !key.endsWith('#envelopes'))) {
        const doc = await reader.doc(name)
        const signed = reader.signedDocs.get(name)
        expect(signed?.unsigned(), name).toEqual({ clients: [], clocks: 0 })
        expect(Y.equalSnapshots(Y.snapshot(doc), Y.snapshot(fromEnvelopes(signed?.log() ?? []))), `${name}: deletions no envelope carries`).toBe(true)
      }
      await reader.close()
    }

    const last = await openSpace({ id: 'city', storage: imagingStorage(() => 0, images.at(-1)).storage })
    expect((await last.tickets.require(ticket.id)).get().value.status_notes).toBe(expected.notes)
    expect((await last.proposals.require(proposal.id)).text('body').toString()).toBe(expected.body)
    await last.close()
  })

  it('stores a signed transaction only in the envelope log, and a deletion whose envelope was kept comes back with it', async () => {
    const storage = createMemoryStorage()
    const first = await openSpace({ id: 'city', identity, storage })
    const proposal = await first.proposals.create({ title: 'Benches', district: 'north', process: 'pb2026', body: 'abcdef' })
    await first.flush()
    proposal.text('body').delete(1, 2) // deletes only: it writes no clock
    await first.close()

    const store = await storage.open(proposal.shard)
    expect(await store.load()).toEqual([])
    await store.close()
    const again = await openSpace({ id: 'city', storage })
    expect((await again.proposals.require(proposal.id)).text('body').toString()).toBe('adef')
    expect(again.signedDocs.get(proposal.shard)?.unsigned().clocks).toBe(0)
    await again.close()
  })

  it('keeps content no envelope carries in the document\'s own store: edits without an identity, and updates applied by hand', async () => {
    const storage = createMemoryStorage()
    const reader = await openSpace({ id: 'city', storage })
    const ticket = await reader.tickets.create({ service_code: 'pothole', district: 'north' })
    await reader.close()

    const writer = await openSpace({ id: 'city', identity, storage })
    const rogue = new Y.Doc()
    rogue.getMap('notes').set('n', 'by hand')
    await applyDocUpdate(writer, ticket.shard, Y.encodeStateAsUpdate(rogue))
    await writer.close()

    const again = await openSpace({ id: 'city', storage })
    expect((await again.tickets.require(ticket.id)).get().value.service_code).toBe('pothole')
    expect((await again.doc(ticket.shard)).getMap('notes').get('n')).toBe('by hand')
    expect(again.signedDocs.get(ticket.shard)?.unsigned().clients).toContain(rogue.clientID)
    await again.close()
  })

  it('stores the local edits its writer could not sign in the document\'s own store', async () => {
    const storage = createMemoryStorage()
    let broken = false
    const signer = {
      did: identity.did,
      sign: (message: Uint8Array) => (broken ? Promise.reject(new Error('the signing key is gone')) : identity.keyPair.sign(message)),
    }
    const first = await openSigned(storage, signer)
    first.doc.getMap('m').set('signed', 1)
    await first.signed.flush()
    broken = true
    first.doc.getMap('m').set('unsigned', 2) // its signature fails
    await first.signed.flush()
    first.doc.getMap('m').set('after', 3) // the writer has stopped
    await first.close()

    const again = await openSigned(storage)
    expect(again.doc.getMap('m').toJSON()).toEqual({ signed: 1, unsigned: 2, after: 3 })
    expect(again.signed.unsigned().clocks).toBe(2)
    await again.close()
  })

  it('re-applies the deletions of an envelope whose insertions a snapshot holds (a snapshot taken between two transactions one envelope merges)', async () => {
    const storage = createMemoryStorage()
    const first = await openSigned(storage, identity.keyPair)
    const text = first.doc.getText('t')
    text.insert(0, 'abcdef')
    const compacted = first.attached.compact() // its snapshot holds the insertion only
    text.delete(1, 2) // signed in the same envelope as the insertion
    await compacted
    await first.close()

    const again = await openSigned(storage)
    expect(again.doc.getText('t').toString()).toBe('adef')
    expect(Y.equalSnapshots(Y.snapshot(again.doc), Y.snapshot(fromEnvelopes(again.signed.log())))).toBe(true)
    await again.close()
  })
})
