import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { z } from 'zod'
import { ServiceTicket, defineRecordType, syncSpaces, applyDocUpdate, type CollectionOptions } from '../../src/index'
import { testSpace } from '../helpers/space-fixtures'

/** Version 2 of the ticket schema, as a newer app ships it: one new field, `priority`. */
const TicketV2 = defineRecordType({
  name: 'ticket',
  version: 2,
  shape: { ...ServiceTicket.schema.omit({ id: true, schemaVersion: true, archived: true }).shape, priority: z.enum(['low', 'high']).optional() },
})

const v2Options: CollectionOptions<typeof TicketV2, 'requested_datetime'> = {
  type: TicketV2,
  mapName: 'tickets',
  scopes: ['tickets'],
  shardOf: (t) => `tickets.${t.requested_datetime.slice(0, 7)}`,
  defaults: ({ now }) => ({ requested_datetime: now }),
  touch: 'updated_datetime',
}

describe('forward compatibility between app versions', () => {
  it('an older app editing a record keeps the fields a newer app wrote', async () => {
    const older = testSpace('old') // built-in ServiceTicket, version 1
    const newer = testSpace('new')
    const newerTickets = newer.collection(v2Options)
    const created = await newerTickets.create({ service_code: 'pothole', district: 'south', priority: 'high' })
    await syncSpaces(older, newer)

    const seenByOld = await older.tickets.require(created.id)
    const read = seenByOld.get()
    expect(read.valid).toBe(true)
    expect(read.extra).toEqual({ priority: 'high' })
    seenByOld.update({ status: 'closed', status_notes: 'Filled' })
    await syncSpaces(older, newer)

    const back = (await newerTickets.require(created.id)).get()
    expect(back.valid).toBe(true)
    expect(back.value).toMatchObject({ status: 'closed', status_notes: 'Filled', priority: 'high', schemaVersion: 2 })
  })

  it('a newer app reading a record of an older version applies its migrations', async () => {
    const TicketV3 = defineRecordType({
      name: 'ticket',
      version: 3,
      shape: { ...TicketV2.schema.omit({ id: true, schemaVersion: true, archived: true }).shape, urgent: z.boolean() },
      migrations: {
        1: (raw) => raw,
        2: (raw) => ({ ...raw, urgent: raw['priority'] === 'high' }),
      },
    })
    const space = testSpace('a')
    const v2 = space.collection(v2Options)
    const v3 = space.collection({ ...v2Options, type: TicketV3 } as unknown as CollectionOptions<typeof TicketV3, 'requested_datetime'>)
    const created = await v2.create({ service_code: 'pothole', district: 'south', priority: 'high' })
    const asV3 = await v3.require(created.id)
    expect(asV3.get().value).toMatchObject({ urgent: true, schemaVersion: 2 })
    asV3.update({ status: 'acknowledged' })
    const stored = asV3.get()
    expect(stored.value).toMatchObject({ urgent: true, schemaVersion: 3, priority: 'high', status: 'acknowledged' })
  })
})

describe('tolerant reading of remote data', () => {
  it('reports invalid remote fields as issues instead of throwing, and keeps the valid ones', async () => {
    const a = testSpace('a')
    const ticket = await a.tickets.create({ service_code: 'pothole', district: 'north' })
    // A misbehaving remote app writes garbage straight into the Yjs document.
    const rogue = new Y.Doc()
    Y.applyUpdate(rogue, Y.encodeStateAsUpdate(await a.doc(ticket.shard)))
    const map = rogue.getMap('tickets').get(ticket.id) as Y.Map<unknown>
    rogue.transact(() => {
      map.set('lat', 'north-ish')
      map.set('status', 42)
      map.delete('service_code')
    })
    await applyDocUpdate(a, ticket.shard, Y.encodeStateAsUpdate(rogue, Y.encodeStateVector(await a.doc(ticket.shard))))

    const read = ticket.get()
    expect(read.valid).toBe(false)
    expect(read.issues.map((i) => i.path[0]).sort()).toEqual(['lat', 'service_code', 'status'])
    expect(read.value.district).toBe('north')
    expect(read.value).not.toHaveProperty('lat')
    expect(await a.tickets.list()).toHaveLength(1)
    // The record stays writable: fixing the fields makes it valid again.
    ticket.update({ status: 'open', service_code: 'pothole', lat: undefined })
    expect(ticket.get().valid).toBe(true)
  })

  it('rejects malformed and oversized updates with typed errors before touching the document', async () => {
    const a = testSpace('a')
    const ticket = await a.tickets.create({ service_code: 'pothole', district: 'north' })
    const doc = await a.doc(ticket.shard)
    const before = Y.encodeStateAsUpdate(doc)
    const valid = Y.encodeStateAsUpdate(doc)
    await expect(applyDocUpdate(a, ticket.shard, valid.slice(0, valid.length - 3))).rejects.toMatchObject({ code: 'E_UPDATE_MALFORMED' })
    await expect(applyDocUpdate(a, ticket.shard, new Uint8Array([255, 255, 255, 255, 255]))).rejects.toMatchObject({ code: 'E_UPDATE_MALFORMED' })
    await expect(applyDocUpdate(a, ticket.shard, valid, { maxBytes: 10 })).rejects.toMatchObject({ code: 'E_UPDATE_TOO_LARGE', details: { size: valid.length, limit: 10 } })
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
  })

  it('applies an update with more structs than the default limit only when the caller raises it', async () => {
    const a = testSpace('a')
    const source = testSpace('source')
    const ticket = await source.tickets.create({ service_code: 'pothole', district: 'north' })
    const full = Y.encodeStateAsUpdate(await source.doc(ticket.shard))
    const structs = (Y.decodeUpdate(full).structs as unknown[]).length
    expect(structs).toBeGreaterThan(4)
    await expect(applyDocUpdate(a, ticket.shard, full, { limits: { maxStructs: structs - 1 } })).rejects.toMatchObject({
      code: 'E_UPDATE_MALFORMED',
      details: { reason: `${structs} structs exceed the limit of ${structs - 1}` },
    })
    expect(await a.tickets.get(ticket.id)).toBeUndefined()
    await expect(applyDocUpdate(a, ticket.shard, full, { limits: { maxStructs: 0 } })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { argument: 'limits.maxStructs' } })
    await expect(applyDocUpdate(a, ticket.shard, full, { limits: { maxDeleteRanges: Number.NaN } })).rejects.toMatchObject({ code: 'E_ARGUMENT' })
    expect(await a.tickets.get(ticket.id)).toBeUndefined()
    await applyDocUpdate(a, ticket.shard, full, { limits: { maxStructs: structs } })
    expect((await a.tickets.require(ticket.id)).get().value).toMatchObject({ service_code: 'pothole' })
  })
})

describe('convergence of two replicas', () => {
  it('concurrent edits to different fields all survive; to the same field, both replicas pick the same value', async () => {
    const a = testSpace('a')
    const b = testSpace('b')
    const ticket = await a.tickets.create({ service_code: 'pothole', district: 'north' })
    await syncSpaces(a, b)
    const tb = await b.tickets.require(ticket.id)
    ticket.update({ status_notes: 'from a', address: '1 Main St' })
    tb.update({ status_notes: 'from b', zipcode: '12345' })
    await syncSpaces(a, b)
    const va = ticket.get().value
    const vb = tb.get().value
    expect(va).toEqual(vb)
    expect(va.address).toBe('1 Main St')
    expect(va.zipcode).toBe('12345')
    expect(['from a', 'from b']).toContain(va.status_notes)
  })

  it('collaborative edits of a proposal body merge character by character', async () => {
    const a = testSpace('a')
    const b = testSpace('b')
    const p = await a.proposals.create({ title: 'Library hours', district: 'north', process: 'pb2026', body: 'Open the library on Sundays.' })
    await syncSpaces(a, b)
    const pb = await b.proposals.require(p.id)
    p.text('body').insert(0, 'Proposal: ')
    pb.text('body').insert(pb.text('body').length, ' And on holidays.')
    await syncSpaces(a, b)
    expect(p.get().value.body).toBe('Proposal: Open the library on Sundays. And on holidays.')
    expect(pb.get().value.body).toBe(p.get().value.body)
  })

  it('records created concurrently on both replicas in the same shard are all listed, in the same order', async () => {
    const a = testSpace('a')
    const b = testSpace('b')
    for (let i = 0; i < 5; i++) {
      await a.tickets.create({ service_code: `a${i}`, district: 'north' })
      await b.tickets.create({ service_code: `b${i}`, district: 'south' })
    }
    await syncSpaces(a, b)
    const la = (await a.tickets.list()).map((t) => t.get().value)
    const lb = (await b.tickets.list()).map((t) => t.get().value)
    expect(la).toHaveLength(10)
    expect(la).toEqual(lb)
  })
})
