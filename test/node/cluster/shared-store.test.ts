/**
 * Spaces that share one store with other processes (a cluster's PostgreSQL): a process opening a
 * document may read the document's records before, and its envelope log after, another process
 * appended to both. The envelopes must not run ahead of the content: their content is applied
 * from the envelopes themselves; and a relay keeps only envelope logs, from which its documents
 * are rebuilt, so content and envelopes can never disagree.
 */
import { describe, expect, it } from 'vitest'
import { createIdentity, createMemoryNetwork, createSpace, openSpace, type Space } from '../../../src/index'
import { createEnvelopeLogStorage } from '../../../src/node/cluster/envelope-log-storage'
import { createPrefixedStorage } from '../../../src/node/cluster/prefixed-storage'
import { createMemoryStorage, type MemoryStorage } from '../../../src/storage/memory-storage'
import { ENVELOPE_STORE_SUFFIX } from '../../../src/sync/envelope-store'

/** A copy of `storage` holding only its envelope logs: what a reader sees when the logs gained envelopes after it read the documents. */
async function envelopesOnly(storage: MemoryStorage): Promise<MemoryStorage> {
  const copy = createMemoryStorage()
  for (const key of storage.keys()) {
    if (!key.endsWith(ENVELOPE_STORE_SUFFIX)) continue
    const from = await storage.open(key)
    const to = await copy.open(key)
    for (const record of await from.load()) await to.append(record)
    await Promise.all([from.close(), to.close()])
  }
  return copy
}

describe('a Space on a store other processes write to', () => {
  it('applies the content of stored envelopes its document records lack, and keeps syncing from there', async () => {
    const writer = createSpace({ id: 'city', identity: await createIdentity() })
    const storage = createMemoryStorage()
    const first = await openSpace({ id: 'city', storage })
    const network = createMemoryNetwork({ seed: 9 })
    const engines = [writer.sync(network.transport(), { peerId: 'writer', resyncEvery: 0 }), first.sync(network.transport(), { peerId: 'first', eager: true, resyncEvery: 0 })]
    const settle = () => network.settle({ idle: async () => void (await Promise.all(engines.map((engine) => engine.idle()))) })
    const pothole = await writer.tickets.create({ service_code: 'pothole', district: 'north' })
    await settle()
    await first.flush()
    await first.close()

    const reader: Space = await openSpace({ id: 'city', storage: await envelopesOnly(storage) })
    expect((await reader.tickets.require(pothole.id)).get().value.service_code).toBe('pothole')
    // The writer goes on from where the reader's chain says it is: applied, not refused (E_CLOCK) nor held.
    engines.push(reader.sync(network.transport(), { peerId: 'reader', eager: true, resyncEvery: 0 }))
    ;(await writer.tickets.require(pothole.id)).update({ status: 'acknowledged' })
    await settle()
    expect((await reader.tickets.require(pothole.id)).get().value.status).toBe('acknowledged')
    expect(engines[2]?.quarantine()).toEqual([])
    expect(engines[2]?.stats().pending).toBe(0)
    await reader.close()
    await writer.close()
  })
})

describe('a relay Space kept as envelope logs only', () => {
  it('stores nothing but envelope logs, and comes back whole from them', async () => {
    const shared = createMemoryStorage()
    const storage = createEnvelopeLogStorage(createPrefixedStorage(shared, 'city/'))
    const writer = createSpace({ id: 'city', identity: await createIdentity() })
    const relay = await openSpace({ id: 'city', storage })
    const network = createMemoryNetwork({ seed: 4 })
    const engines = [writer.sync(network.transport(), { peerId: 'writer', resyncEvery: 0 }), relay.sync(network.transport(), { peerId: 'relay', eager: true, resyncEvery: 0 })]
    const settle = () => network.settle({ idle: async () => void (await Promise.all(engines.map((engine) => engine.idle()))) })
    const ticket = await writer.tickets.create({ service_code: 'pothole', district: 'north' })
    const proposal = await writer.proposals.create({ title: 'Benches', district: 'north', process: 'p1', body: 'Ten benches.' })
    ;(await writer.proposals.require(proposal.id)).text('body').insert(0, 'Twenty. ')
    ;(await writer.tickets.require(ticket.id)).update({ status: 'acknowledged' })
    await settle()
    await relay.close()
    expect(shared.keys().every((key) => key.startsWith('city/') && key.endsWith(ENVELOPE_STORE_SUFFIX))).toBe(true)

    const again = await openSpace({ id: 'city', storage })
    expect((await again.tickets.require(ticket.id)).get().value.status).toBe('acknowledged')
    expect((await again.proposals.require(proposal.id)).get().value.body).toBe('Twenty. Ten benches.')
    for (const signed of again.signedDocs.list()) expect(signed.unsigned(), signed.name).toEqual({ clients: [], clocks: 0 })
    await again.close()
    await writer.close()
  })
})
