import { describe, expect, it } from 'vitest'
import { CabildoError, createSpace, syncSpaces, MANIFEST_DOC, recordJsonSchema, Proposal, Budget, ServiceTicket, Ballot, BudgetProject, Comment } from '../../src/index'
import { testSpace } from '../helpers/space-fixtures'

describe('Space shards', () => {
  it('opens shards lazily: a replica opens only the shards it reads', async () => {
    const a = testSpace('a')
    const b = testSpace('b')
    await a.tickets.create({ service_code: 'x', district: 'n', requested_datetime: '2026-01-05T10:00:00Z' })
    const feb = await a.tickets.create({ service_code: 'y', district: 'n', requested_datetime: '2026-02-05T10:00:00Z' })
    await a.proposals.create({ title: 'T', district: 'n', process: 'pb2026' })
    expect(a.shardNames()).toEqual(['process.pb2026', 'tickets.2026-01', 'tickets.2026-02'])

    await syncSpaces(a, b)
    const fresh = testSpace('c')
    await syncSpaces(b, fresh)
    // ...but a fresh replica that only synced the manifest knows every shard without opening them.
    const onlyManifest = testSpace('d')
    const { applyDocUpdate, encodeDocState } = await import('../../src/index')
    await applyDocUpdate(onlyManifest, MANIFEST_DOC, await encodeDocState(a, MANIFEST_DOC))
    expect(onlyManifest.shardNames()).toEqual(a.shardNames())
    expect([...onlyManifest.openDocs().keys()]).toEqual([MANIFEST_DOC])
    const got = await onlyManifest.tickets.get(feb.id)
    expect(got).toBeUndefined() // shard is known but its content was not synced
    expect([...onlyManifest.openDocs().keys()]).toEqual([MANIFEST_DOC, 'tickets.2026-02'])
    expect((await fresh.tickets.require(feb.id)).get().value.service_code).toBe('y')
  })

  it('uses a custom shard rule when given one', async () => {
    const space = createSpace({ id: 'city', shards: { tickets: (t) => `tickets.${t.district}` } })
    const t = await space.tickets.create({ service_code: 'x', district: 'east' })
    expect(t.shard).toBe('tickets.east')
  })

  it('rejects a shard rule that returns an invalid name, writing nothing', async () => {
    const space = createSpace({ id: 'city', shards: { tickets: () => '../etc/passwd' } })
    await expect(space.tickets.create({ service_code: 'x', district: 'east' })).rejects.toMatchObject({ code: 'E_ARGUMENT' })
    expect(space.shardNames()).toEqual([])
  })

  it('after close every call throws E_CLOSED and close is idempotent', async () => {
    const space = testSpace('a')
    await space.tickets.create({ service_code: 'x', district: 'n' })
    await space.close()
    await space.close()
    expect(space.closed).toBe(true)
    const error = await space.tickets.create({ service_code: 'x', district: 'n' }).catch((e: unknown) => e)
    expect(CabildoError.is(error, 'E_CLOSED')).toBe(true)
  })

  it('requires an id', () => {
    expect(() => createSpace({ id: '' })).toThrowError(CabildoError)
  })
})

describe('JSON Schema export', () => {
  it('exports a JSON Schema for every civic record type, with its required fields', () => {
    for (const type of [Proposal, Budget, BudgetProject, Ballot, ServiceTicket, Comment]) {
      const schema = recordJsonSchema(type)
      expect(schema['type']).toBe('object')
      expect(schema['required']).toEqual(expect.arrayContaining(['id', 'schemaVersion']))
    }
    const ticket = recordJsonSchema(ServiceTicket) as { properties: Record<string, { type?: string; enum?: string[] }>; required: string[] }
    expect(ticket.properties['status']?.enum).toEqual(['open', 'acknowledged', 'in_progress', 'closed'])
    expect(ticket.required).toContain('service_code')
  })
})
