import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CabildoError, syncSpaces } from '../../src/index'
import { testSpace } from '../helpers/space-fixtures'

const ticketInput = { service_code: 'pothole', district: 'north', description: 'Deep hole near the school' }

describe('Collection.create / get / update', () => {
  it('creates a typed record in the monthly ticket shard and reads it back', async () => {
    const space = testSpace('a')
    const ticket = await space.tickets.create(ticketInput)
    expect(ticket.shard).toBe('tickets.2026-03')
    expect(ticket.id.startsWith('tickets.2026-03/')).toBe(true)
    const read = ticket.get()
    expect(read.valid).toBe(true)
    expect(read.value).toMatchObject({ ...ticketInput, status: 'open', schemaVersion: 1, requested_datetime: '2026-03-14T09:00:00.000Z' })
    const again = await space.tickets.get(ticket.id)
    expect(again?.get().value).toEqual(read.value)
  })

  it('update validates, writes the patch and touches updated_datetime', async () => {
    const space = testSpace('a')
    const ticket = await space.tickets.create(ticketInput)
    ticket.update({ status: 'acknowledged', status_notes: 'Crew scheduled' })
    const value = ticket.get().value
    expect(value.status).toBe('acknowledged')
    expect(value.status_notes).toBe('Crew scheduled')
    expect(value.updated_datetime).toBe('2026-03-14T09:00:01.000Z')
    ticket.update({ status_notes: undefined })
    expect(ticket.get().value.status_notes).toBeUndefined()
  })

  it('an invalid create throws E_SCHEMA with every issue and writes nothing', async () => {
    const space = testSpace('a')
    const error = await space.tickets
      .create({ service_code: '', district: 'north', lat: 123, colour: 'red' } as never)
      .then(() => undefined, (e: unknown) => e)
    expect(CabildoError.is(error, 'E_SCHEMA')).toBe(true)
    const issues = (error as CabildoError<'E_SCHEMA'>).details.issues
    expect(issues.map((i) => i.path[0]).sort()).toEqual(['colour', 'lat', 'service_code'])
    expect(space.shardNames()).toEqual([])
    expect(await space.tickets.list()).toEqual([])
  })

  it('an invalid update throws E_SCHEMA and leaves the record unchanged', async () => {
    const space = testSpace('a')
    const ticket = await space.tickets.create(ticketInput)
    const doc = await space.doc(ticket.shard)
    const before = Y.encodeStateAsUpdate(doc)
    expect(() => ticket.update({ status: 'exploded' as never, lat: 10 })).toThrowError(CabildoError)
    expect(() => ticket.update({ id: 'other' } as never)).toThrowError(/managed/)
    expect(() => ticket.update({ service_code: undefined } as never)).toThrowError(CabildoError)
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
    expect(ticket.get().value.lat).toBeUndefined()
  })

  it('refuses media URLs that are not http(s)', async () => {
    const space = testSpace('a')
    await expect(space.tickets.create({ ...ticketInput, media_url: 'javascript:alert(1)' })).rejects.toMatchObject({ code: 'E_SCHEMA' })
    const ok = await space.tickets.create({ ...ticketInput, media_url: 'https://example.org/p.jpg' })
    expect(ok.get().value.media_url).toBe('https://example.org/p.jpg')
  })

  it('get returns undefined for unknown ids and foreign strings', async () => {
    const space = testSpace('a')
    expect(await space.tickets.get('tickets.2026-03/nothing')).toBeUndefined()
    expect(await space.tickets.get('not an id')).toBeUndefined()
    await expect(space.tickets.require('tickets.2026-03/nothing')).rejects.toMatchObject({ code: 'E_NOT_FOUND' })
  })

  it('projects and ballots live in their budget shard; a bad reference is E_SCHEMA', async () => {
    const space = testSpace('a')
    const budget = await space.budgets.create({
      title: 'PB 2026',
      total: '600000',
      currency: 'EUR',
      district: 'north',
      votingMethod: { kind: 'approval', maxProjects: 3 },
    })
    const project = await space.projects.create({ budget: budget.id, title: 'Benches', cost: '12000.50', district: 'north' })
    expect(project.shard).toBe(budget.shard)
    await expect(space.projects.create({ budget: 'nope', title: 'X', cost: '1', district: 'north' })).rejects.toMatchObject({
      code: 'E_SCHEMA',
    })
  })
})

describe('archive and list', () => {
  it('archived records stay in the document but leave default lists', async () => {
    const space = testSpace('a')
    const one = await space.tickets.create(ticketInput)
    const two = await space.tickets.create({ ...ticketInput, service_code: 'graffiti' })
    two.archive()
    expect((await space.tickets.list()).map((e) => e.id)).toEqual([one.id])
    expect((await space.tickets.list({ includeArchived: true })).map((e) => e.id).sort()).toEqual([one.id, two.id].sort())
    two.restore()
    expect((await space.tickets.list({ where: (t) => t.service_code === 'graffiti' })).map((e) => e.id)).toEqual([two.id])
  })
})

describe('observe', () => {
  it('entity.observe reports changed fields and a local origin, and stops after unsubscribe', async () => {
    const space = testSpace('a')
    const ticket = await space.tickets.create(ticketInput)
    const seen: Array<{ fields: readonly string[]; origin: string }> = []
    const off = ticket.observe(({ fields, origin }) => seen.push({ fields, origin }))
    ticket.update({ status: 'in_progress' })
    off()
    ticket.update({ status: 'closed' })
    expect(seen).toEqual([{ fields: ['status', 'updated_datetime'], origin: 'local' }])
  })

  it('collection.observe reports remote additions and updates from synced replicas', async () => {
    const a = testSpace('a')
    const b = testSpace('b')
    const ticket = await a.tickets.create(ticketInput)
    await syncSpaces(a, b)
    await b.tickets.list() // opens the shard on b
    const seen: Array<{ origin: string; kinds: string[] }> = []
    const off = b.tickets.observe(({ changes, origin }) => seen.push({ origin, kinds: changes.map((c) => `${c.kind}:${c.fields.join(',')}`) }))
    ticket.update({ status: 'acknowledged' })
    await a.tickets.create({ ...ticketInput, service_code: 'graffiti' })
    await syncSpaces(a, b)
    off()
    // Both changes arrive in one remote update, hence one event.
    expect(seen).toHaveLength(1)
    expect(seen[0]?.origin).toBe('remote')
    expect(seen[0]?.kinds.sort()).toEqual(['added:', 'updated:status,updated_datetime'])
  })

  it('a throwing listener does not stop the other listeners', async () => {
    const space = testSpace('a')
    const ticket = await space.tickets.create(ticketInput)
    const errors: unknown[] = []
    const original = globalThis.reportError
    globalThis.reportError = (e: unknown) => errors.push(e)
    try {
      let calls = 0
      const off1 = ticket.observe(() => {
        throw new Error('listener bug')
      })
      const off2 = ticket.observe(() => calls++)
      ticket.update({ status: 'closed' })
      off1()
      off2()
      expect(calls).toBe(1)
      expect(errors).toHaveLength(1)
    } finally {
      globalThis.reportError = original
    }
  })
})

describe('set, list and log fields', () => {
  it('concurrent set additions on two replicas both survive', async () => {
    const a = testSpace('a')
    const b = testSpace('b')
    const p = await a.proposals.create({ title: 'Shade trees', district: 'north', process: 'pb2026', tags: ['green'] })
    await syncSpaces(a, b)
    const pb = await b.proposals.require(p.id)
    p.addToSet('tags', 'schools')
    pb.addToSet('tags', 'summer')
    pb.removeFromSet('tags', 'green')
    await syncSpaces(a, b)
    expect(p.get().value.tags).toEqual(['schools', 'summer'])
    expect(pb.get().value.tags).toEqual(['schools', 'summer'])
  })

  it('set members are validated', async () => {
    const space = testSpace('a')
    const p = await space.proposals.create({ title: 'Shade trees', district: 'north', process: 'pb2026' })
    expect(() => p.addToSet('tags', '')).toThrowError(CabildoError)
    expect(p.get().value.tags).toEqual([])
  })

  it('list fields keep concurrent appends from both replicas', async () => {
    const a = testSpace('a')
    const b = testSpace('b')
    const budget = await a.budgets.create({
      title: 'PB', total: '100', currency: 'EUR', district: 'north', votingMethod: { kind: 'approval' },
    })
    await syncSpaces(a, b)
    ;(await a.budgets.require(budget.id)).pushToList('phases', { phase: 'proposing' })
    ;(await b.budgets.require(budget.id)).pushToList('phases', { phase: 'voting' })
    await syncSpaces(a, b)
    const phasesA = (await a.budgets.require(budget.id)).get().value.phases
    const phasesB = (await b.budgets.require(budget.id)).get().value.phases
    expect(phasesA).toEqual(phasesB)
    expect((phasesA ?? []).map((p) => p.phase).sort()).toEqual(['proposing', 'voting'])
  })
})
