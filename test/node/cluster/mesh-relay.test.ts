/**
 * The sync engine's `relay: 'from-other-transports'`, as a relay cluster uses it on its Redis bus:
 * members all reach each other, so each forwards to the others what its clients bring, and never
 * what another member sent (which every member already got directly).
 */
import { describe, expect, it } from 'vitest'
import { createIdentity, createMemoryNetwork, createSpace, type Space, type SyncEngine } from '../../../src/index'

describe('relay between transports of a mesh', () => {
  it('forwards client envelopes to every member once, and member envelopes to clients, never member to member', async () => {
    const bus = createMemoryNetwork({ seed: 21 })
    const members: Space[] = [createSpace({ id: 'city' }), createSpace({ id: 'city' }), createSpace({ id: 'city' })]
    const engines: SyncEngine[] = []
    const onBus: SyncEngine[] = members.map((member, i) => member.sync(bus.transport(), { peerId: `m${i}`, eager: true, relay: 'from-other-transports', resyncEvery: 0 }))
    engines.push(...onBus)
    // One client per member, each on its own link to its member (a WebSocket in a relay).
    const links = members.map(() => createMemoryNetwork({ seed: 5 }))
    const clients = await Promise.all(members.map(async () => createSpace({ id: 'city', identity: await createIdentity() })))
    members.forEach((member, i) => engines.push(member.sync((links[i] as ReturnType<typeof createMemoryNetwork>).transport(), { peerId: `m${i}`, eager: true, relay: true, resyncEvery: 0 })))
    clients.forEach((client, i) => engines.push(client.sync((links[i] as ReturnType<typeof createMemoryNetwork>).transport(), { peerId: `c${i}`, resyncEvery: 0 })))
    const settle = async (): Promise<void> => {
      for (let round = 0; round < 4; round++) {
        for (const network of [bus, ...links]) await network.settle({ idle: async () => void (await Promise.all(engines.map((engine) => engine.idle()))) })
      }
    }
    await settle()
    const before = onBus.map((engine) => engine.stats().envelopesReceived)
    const ticket = await (clients[0] as Space).tickets.create({ service_code: 'pothole', district: 'north' })
    await settle()
    for (const client of clients) await client.doc(ticket.shard) // shards sync once the client opens them
    await settle()
    for (const client of clients) expect((await client.tickets.require(ticket.id)).get().value.service_code).toBe('pothole')
    // m1 and m2 each received the client's envelopes once, from m0; m0 received nothing back.
    const received = onBus.map((engine, i) => engine.stats().envelopesReceived - (before[i] as number))
    expect(received[0]).toBe(0)
    expect(received[1]).toBeGreaterThan(0)
    expect(received[2]).toBe(received[1])
    expect(onBus.map((engine) => engine.stats().duplicates)).toEqual([0, 0, 0])
    for (const space of [...clients, ...members]) await space.close()
  })
})
