import { describe, expect, it } from 'vitest'
import { CabildoError, createMemoryStorage, createSpace, openSpace, type StorageFailure } from '../../src/index'

describe('a Space with storage', () => {
  it('finds its records, shards and acts again after close and reopen', async () => {
    const storage = createMemoryStorage()
    const first = await openSpace({ id: 'city', storage })
    const ticket = await first.tickets.create({ service_code: 'pothole', district: 'north' })
    const proposal = await first.proposals.create({ title: 'Benches', district: 'north', process: 'pb2026', body: 'Ten benches.' })
    proposal.text('body').insert(0, 'Revised: ')
    await first.close()

    const second = await openSpace({ id: 'city', storage })
    expect(second.shardNames()).toEqual(['process.pb2026', ticket.shard])
    expect((await second.tickets.require(ticket.id)).get().value.service_code).toBe('pothole')
    expect((await second.proposals.require(proposal.id)).get().value.body).toBe('Revised: Ten benches.')
    await second.close()
  })

  it('reports a failed write, keeps the edit in memory, and stores it once the disk recovers', async () => {
    let full = false
    const failures: StorageFailure[] = []
    const storage = createMemoryStorage({
      faults: (operation) => {
        if (full && (operation === 'append' || operation === 'compact')) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' })
      },
    })
    const space = await openSpace({ id: 'city', storage, onStorageError: (e) => failures.push(e) })
    const ticket = await space.tickets.create({ service_code: 'pothole', district: 'north' })
    await space.flush()
    full = true
    ticket.update({ status_notes: 'written while the disk is full' })
    await expect(space.flush()).rejects.toMatchObject({ code: 'E_STORAGE', details: { cause: 'ENOSPC' } })
    expect(failures.length).toBeGreaterThan(0)
    expect(ticket.get().value.status_notes).toBe('written while the disk is full') // still usable in memory
    full = false
    await space.flush()
    await space.close()
    const reopened = await openSpace({ id: 'city', storage })
    expect((await reopened.tickets.require(ticket.id)).get().value.status_notes).toBe('written while the disk is full')
    await reopened.close()
  })

  it('never writes over a store it could not load', async () => {
    const storage = createMemoryStorage()
    const first = await openSpace({ id: 'city', storage })
    await first.tickets.create({ service_code: 'pothole', district: 'north' })
    await first.close()
    const probe = await storage.open('_manifest')
    const manifestBefore = await probe.load()
    await probe.close()
    expect(manifestBefore.length).toBeGreaterThan(0)

    let failLoads = true
    const flaky = createMemoryStorage({
      faults: (operation) => {
        if (failLoads && operation === 'load') throw Object.assign(new Error('I/O error'), { code: 'EIO' })
      },
    })
    // The same bytes in a storage whose loads fail.
    const seed = await flaky.open('_manifest')
    for (const record of manifestBefore) await seed.append(record)
    await seed.close()
    const error = await openSpace({ id: 'city', storage: flaky }).catch((e: unknown) => e)
    expect(CabildoError.is(error, 'E_STORAGE')).toBe(true)
    failLoads = false
    const seen = await flaky.open('_manifest')
    expect(await seen.load()).toEqual(manifestBefore)
    await seen.close()
  })

  it('lists stored records even when asked before the Space finished loading', async () => {
    const storage = createMemoryStorage()
    const first = await openSpace({ id: 'city', storage })
    const ticket = await first.tickets.create({ service_code: 'pothole', district: 'north' })
    await first.close()
    const second = createSpace({ id: 'city', storage }) // not awaited: still loading
    expect((await second.tickets.list()).map((t) => t.id)).toEqual([ticket.id])
    expect(await second.tickets.get(ticket.id)).toBeDefined()
    await second.close()
  })

  it('without storage, ready() and flush() resolve at once', async () => {
    const space = createSpace({ id: 'city' })
    await space.ready()
    await space.flush()
    await space.close()
  })
})
