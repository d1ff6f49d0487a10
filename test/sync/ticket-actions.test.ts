import { beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CabildoError, createIdentity, createSpace, recordHash, syncSpaces, type Identity, type Space } from '../../src/index'
import { actLogOf } from '../../src/civic/act-log'

let root: Identity
let agency: Identity
let staff: Identity
let citizen: Identity
let stranger: Identity

beforeAll(async () => {
  ;[root, agency, staff, citizen, stranger] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity(), createIdentity()])
})

function replica(identity: Identity, reopenWindow = 1000): Space {
  return createSpace({ id: 'city', identity, districts: { north: root.did }, tickets: { reopenWindow } })
}

/** A city where the root granted roles, a citizen filed a ticket assigned to agency `roads`, and everyone synced. */
async function city(reopenWindow?: number) {
  const spaces = {
    root: replica(root, reopenWindow),
    agency: replica(agency, reopenWindow),
    staff: replica(staff, reopenWindow),
    citizen: replica(citizen, reopenWindow),
    stranger: replica(stranger, reopenWindow),
  }
  await spaces.root.grantRole(agency.did, 'agency:roads')
  await spaces.root.grantRole(staff.did, 'staff')
  const filed = await spaces.citizen.tickets.create({ service_code: 'pothole', district: 'north', agency_responsible: 'roads' })
  await syncSpaces(...Object.values(spaces))
  return { spaces, id: filed.id }
}

describe('signed ticket lifecycle', () => {
  it('the assigned agency acknowledges and closes; every replica resolves the same signed history', async () => {
    const { spaces, id } = await city()
    const atAgency = await spaces.agency.tickets.require(id)
    await atAgency.acknowledge({ note: 'Seen' })
    const closed = await atAgency.close({ note: 'Filled' })
    expect(closed.status).toBe('closed')
    expect(closed.requester).toBe(citizen.did)
    await syncSpaces(...Object.values(spaces))
    for (const space of Object.values(spaces)) {
      const view = await (await space.tickets.require(id)).resolve()
      expect(view.status).toBe('closed')
      expect(view.history.map((t) => `${t.from}>${t.to}`)).toEqual(['open>acknowledged', 'acknowledged>closed'])
      expect(view.rejected).toEqual([])
    }
    // The plain fields mirror the signed status for Open311 readers.
    expect((await spaces.citizen.tickets.require(id)).get().value).toMatchObject({ status: 'closed', status_notes: 'Filled' })
  })

  it('refuses, before signing anything, an act its author may not make', async () => {
    const { spaces, id } = await city()
    const atStranger = await spaces.stranger.tickets.require(id)
    const doc = await spaces.stranger.doc(atStranger.shard)
    const before = Y.encodeStateAsUpdate(doc)
    await expect(atStranger.close()).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
    // staff may acknowledge but only the assigned agency may close
    const atStaff = await spaces.staff.tickets.require(id)
    await atStaff.acknowledge()
    await expect(atStaff.close()).rejects.toBeInstanceOf(CabildoError)
  })

  it('a forged act written straight into the document is reported and changes nothing', async () => {
    const { spaces, id } = await city()
    const atAgency = await spaces.agency.tickets.require(id)
    await atAgency.acknowledge()
    await syncSpaces(...Object.values(spaces))
    const atStranger = await spaces.stranger.tickets.require(id)
    const doc = await spaces.stranger.doc(atStranger.shard)
    const log = actLogOf(doc)
    // 1. An unauthorized close, properly signed by a key without the role.
    const unauthorized = await stranger.sign({ type: 'ticket.transition', doc: `city/${atStranger.shard}`, clock: 50, payload: { ticket: id, from: 'acknowledged', to: 'closed' } })
    // 2. The agency's real acknowledgement with its payload altered: the signature no longer matches.
    const genuine = [...log.values()].find((v) => (v as { type: string }).type === 'ticket.transition') as Record<string, unknown>
    const tampered = { ...genuine, payload: { ticket: id, from: 'acknowledged', to: 'closed' }, clock: 60 }
    // 3. A genuine agency act replayed from another Space's document.
    const replayed = await agency.sign({ type: 'ticket.transition', doc: 'other-city/' + atStranger.shard, clock: 70, payload: { ticket: id, from: 'acknowledged', to: 'closed' } })
    doc.transact(() => {
      log.set(recordHash(unauthorized), unauthorized)
      log.set('f'.repeat(64), tampered)
      log.set(recordHash(replayed), replayed)
    })
    await syncSpaces(...Object.values(spaces))
    for (const space of [spaces.root, spaces.citizen]) {
      const view = await (await space.tickets.require(id)).resolve()
      expect(view.status).toBe('acknowledged')
      const codes = Object.fromEntries(view.rejected.map((r) => [r.hash, r.code]))
      expect(codes[recordHash(unauthorized)]).toBe('E_FORBIDDEN')
      expect(codes[recordHash(replayed)]).toBe('E_INVALID')
      expect(Object.values(codes)).toContain('E_SIGNATURE')
      // the raw records are still in the document
      expect(actLogOf(await space.doc(atStranger.shard)).has(recordHash(unauthorized))).toBe(true)
    }
  })

  it('a revoked agency key cannot close any more', async () => {
    const { spaces, id } = await city()
    await spaces.root.revokeRole(agency.did, 'agency:roads')
    await syncSpaces(...Object.values(spaces))
    const atAgency = await spaces.agency.tickets.require(id)
    await expect(atAgency.close()).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
  })

  it('concurrent close and acknowledge from the same state: one wins on every replica, the other is a conflict', async () => {
    const { spaces, id } = await city()
    await (await spaces.agency.tickets.require(id)).close() // agency closes...
    await (await spaces.staff.tickets.require(id)).acknowledge() // ...while staff, offline, acknowledges
    await syncSpaces(...Object.values(spaces))
    const views = await Promise.all(Object.values(spaces).map(async (s) => (await s.tickets.require(id)).resolve()))
    for (const view of views) {
      expect(view).toEqual(views[0])
      expect(view.history).toHaveLength(1)
      expect(view.conflicts.some((c) => c.kind === 'lost')).toBe(true)
    }
  })

  it('the requester may reopen within the window; an outsider may not', async () => {
    const { spaces, id } = await city(5)
    await (await spaces.agency.tickets.require(id)).close()
    await syncSpaces(...Object.values(spaces))
    await expect((await spaces.stranger.tickets.require(id)).reopen()).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    const reopened = await (await spaces.citizen.tickets.require(id)).reopen({ note: 'Still there' })
    expect(reopened.status).toBe('open')
  })

  it('the requester may not reopen after the window', async () => {
    const { spaces, id } = await city(2)
    await (await spaces.agency.tickets.require(id)).close()
    // Time passes in Lamport ticks: the root makes more signed acts that every replica sees.
    for (let i = 0; i < 3; i++) await spaces.root.grantRole(stranger.did, `observer-${i}`)
    await syncSpaces(...Object.values(spaces))
    await expect((await spaces.citizen.tickets.require(id)).reopen()).rejects.toMatchObject({ code: 'E_LATE' })
    const byStaff = await (await spaces.staff.tickets.require(id)).reopen()
    expect(byStaff.status).toBe('open')
  })

  it('acts need an identity; a Space without one still reads and edits plain fields', async () => {
    const { spaces, id } = await city()
    const anonymous = createSpace({ id: 'city', districts: { north: root.did } })
    await syncSpaces(anonymous, spaces.root, spaces.citizen)
    const ticket = await anonymous.tickets.require(id)
    await expect(ticket.close()).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    expect((await ticket.resolve()).requester).toBe(citizen.did)
    const own = await anonymous.tickets.create({ service_code: 'graffiti', district: 'north' })
    expect((await own.resolve()).requester).toBeUndefined()
  })
})
