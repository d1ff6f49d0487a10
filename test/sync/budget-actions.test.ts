import { beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createIdentity, createSpace, recordHash, syncSpaces, type BudgetOptions, type Identity, type Space } from '../../src/index'
import { actLogOf } from '../../src/civic/act-log'

let root: Identity
let staff: Identity
let v1: Identity
let v2: Identity
let v3: Identity
let stranger: Identity

beforeAll(async () => {
  ;[root, staff, v1, v2, v3, stranger] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity(), createIdentity(), createIdentity()])
})

function replica(identity: Identity | undefined, budgets: BudgetOptions = {}): Space {
  return createSpace({ id: 'city', ...(identity ? { identity } : {}), districts: { north: root.did }, budgets })
}

/**
 * A city where staff created a budget of 1000 with three projects (approval, at most 2), the
 * root granted the staff role and voter roles to v1..v3, and everyone synced.
 */
async function city(budgets: BudgetOptions = {}) {
  const spaces = { root: replica(root, budgets), staff: replica(staff, budgets), v1: replica(v1, budgets), v2: replica(v2, budgets), v3: replica(v3, budgets), stranger: replica(stranger, budgets) }
  const all = () => syncSpaces(...Object.values(spaces))
  await spaces.root.grantRole(staff.did, 'staff')
  const budget = await spaces.staff.budgets.create({ title: 'PB 2027', total: '1000', currency: 'EUR', district: 'north', votingMethod: { kind: 'approval', maxProjects: 2 } })
  const project = async (title: string, cost: string) => (await spaces.staff.projects.create({ budget: budget.id, title, cost, district: 'north' })).id
  const park = await project('Park', '600')
  const library = await project('Library', '300')
  const pool = await project('Pool', '500')
  for (const voter of [v1, v2, v3]) await spaces.root.grantRole(voter.did, `voter:${budget.id}`)
  await all()
  const at = (space: Space) => space.budgets.require(budget.id)
  return { spaces, all, id: budget.id, at, projects: { park, library, pool } }
}

/** A city whose vote staff opened, synced everywhere. */
async function votingCity(budgets: BudgetOptions = {}) {
  const c = await city(budgets)
  await (await c.at(c.spaces.staff)).openVoting()
  await c.all()
  return c
}

describe('signed participatory budget', () => {
  it('staff opens the vote, voters cast signed ballots, staff closes and allocates; every replica resolves the same view', async () => {
    const { spaces, all, at, projects } = await votingCity()
    await (await at(spaces.v1)).castBallot({ kind: 'approval', approved: [projects.park] })
    await (await at(spaces.v2)).castBallot({ kind: 'approval', approved: [projects.park, projects.library] })
    await all()
    const atStaff = await at(spaces.staff)
    await atStaff.closeVoting()
    await atStaff.allocate({ project: projects.park, amount: '600', note: 'Winner' })
    await all()
    const views = await Promise.all(Object.values(spaces).map(async (s) => (await at(s)).resolve()))
    for (const view of views) {
      expect(view).toEqual(views[0])
      expect(view.phase).toBe('closed')
      expect(view.creator).toBe(staff.did)
      expect(view.ballots.map((b) => b.voter).sort()).toEqual([v1.did, v2.did].sort())
      expect(view.terms?.projects).toEqual({ [projects.park]: '600', [projects.library]: '300', [projects.pool]: '500' })
      expect(view.allocations).toMatchObject({ cap: '1000', allocated: '600', remaining: '400' })
      expect(view.rejected).toEqual([])
    }
    expect((await at(spaces.v3)).get().value.phase).toBe('closed')
  })

  it('double voting: only the latest ballot counts, the earlier one is superseded', async () => {
    const { spaces, at, projects } = await votingCity()
    const budget = await at(spaces.v1)
    await budget.castBallot({ kind: 'approval', approved: [projects.park] })
    const view = await budget.castBallot({ kind: 'approval', approved: [projects.pool] })
    expect(view.ballots).toHaveLength(1)
    expect(view.ballots[0]?.payload).toMatchObject({ choice: { approved: [projects.pool] } })
    expect(view.superseded).toEqual([expect.objectContaining({ kind: 'superseded', path: [v1.did] })])
  })

  it('refuses before storing: an ineligible key (E_FORBIDDEN), too many projects (E_INVALID), a vote not open (E_INVALID), after the close (E_LATE)', async () => {
    const c = await city()
    await expect((await c.at(c.spaces.v1)).castBallot({ kind: 'approval', approved: [c.projects.park] })).rejects.toMatchObject({ code: 'E_INVALID', details: { rule: 'phase' } })
    await (await c.at(c.spaces.staff)).openVoting()
    await c.all()
    const atStranger = await c.at(c.spaces.stranger)
    const doc = await c.spaces.stranger.doc(atStranger.shard)
    const before = Y.encodeStateAsUpdate(doc)
    await expect(atStranger.castBallot({ kind: 'approval', approved: [c.projects.park] })).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    await expect(atStranger.closeVoting()).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    await expect(atStranger.allocate({ project: c.projects.park, amount: '1' })).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
    const atV1 = await c.at(c.spaces.v1)
    const all3 = [c.projects.park, c.projects.library, c.projects.pool]
    await expect(atV1.castBallot({ kind: 'approval', approved: all3 })).rejects.toMatchObject({ code: 'E_INVALID', details: { rule: 'max-projects' } })
    await expect(atV1.castBallot({ kind: 'ordinal', ranking: [c.projects.park] })).rejects.toMatchObject({ code: 'E_INVALID', details: { rule: 'kind' } })
    await (await c.at(c.spaces.staff)).closeVoting()
    await c.all()
    await expect(atV1.castBallot({ kind: 'approval', approved: [c.projects.park] })).rejects.toMatchObject({ code: 'E_LATE' })
    expect((await atV1.resolve()).ballots).toEqual([])
  })

  it('a revoked voter cannot vote any more; its earlier ballot still counts', async () => {
    const c = await votingCity()
    await (await c.at(c.spaces.v3)).castBallot({ kind: 'approval', approved: [c.projects.park] })
    await c.all()
    await c.spaces.root.revokeRole(v3.did, `voter:${c.id}`)
    await c.all()
    const atV3 = await c.at(c.spaces.v3)
    await expect(atV3.castBallot({ kind: 'approval', approved: [c.projects.pool] })).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    expect((await atV3.resolve()).ballots.map((b) => b.voter)).toEqual([v3.did])
  })

  it('forged, replayed, ineligible, late, over-cap and unauthorized acts written into the document are reported and change nothing', async () => {
    const c = await votingCity()
    await (await c.at(c.spaces.v1)).castBallot({ kind: 'approval', approved: [c.projects.park] })
    await c.all()
    const atStaff = await c.at(c.spaces.staff)
    await atStaff.closeVoting()
    await atStaff.allocate({ project: c.projects.park, amount: '600' })
    await c.all()
    const atStranger = await c.at(c.spaces.stranger)
    const before = await atStranger.resolve()
    const shard = atStranger.shard
    const doc = await c.spaces.stranger.doc(shard)
    const log = actLogOf(doc)
    const docId = `city/${shard}`
    const genuine = [...log.values()].find((v) => (v as { type: string }).type === 'budget.ballot') as Record<string, unknown>
    const raw = {
      forged: { ...genuine, payload: { budget: c.id, choice: { kind: 'approval', approved: [c.projects.pool] } } },
      replayed: await v2.sign({ type: 'budget.ballot', doc: `other-city/${shard}`, clock: 5, payload: { budget: c.id, choice: { kind: 'approval', approved: [c.projects.pool] } } }),
      ineligible: await stranger.sign({ type: 'budget.ballot', doc: docId, clock: 9_999, payload: { budget: c.id, choice: { kind: 'approval', approved: [c.projects.pool] } } }),
      late: await v2.sign({ type: 'budget.ballot', doc: docId, clock: 10_000, payload: { budget: c.id, choice: { kind: 'approval', approved: [c.projects.pool] } } }),
      overCap: await staff.sign({ type: 'budget.allocate', doc: docId, clock: 10_001, payload: { budget: c.id, project: c.projects.pool, amount: '500' } }),
      reopen: await v1.sign({ type: 'budget.phase', doc: docId, clock: 10_002, payload: { budget: c.id, from: 'closed', to: 'voting' } }),
    }
    doc.transact(() => {
      for (const [name, record] of Object.entries(raw)) log.set(name === 'forged' ? 'f'.repeat(64) : recordHash(record as never), record)
    })
    await c.all()
    for (const space of [c.spaces.root, c.spaces.v3, c.spaces.stranger]) {
      const view = await (await c.at(space)).resolve()
      expect([view.phase, view.ballots, view.allocations, view.close]).toEqual([before.phase, before.ballots, before.allocations, before.close])
      const codes = Object.fromEntries(view.rejected.map((r) => [r.hash, r.code]))
      expect(codes[recordHash(raw.replayed)]).toBe('E_INVALID')
      expect(codes[recordHash(raw.ineligible)]).toBe('E_FORBIDDEN')
      expect(codes[recordHash(raw.late)]).toBe('E_LATE')
      expect(codes[recordHash(raw.overCap)]).toBe('over_cap')
      expect(codes[recordHash(raw.reopen)]).toBe('E_INVALID') // no transition closed → voting
      expect(Object.values(codes)).toContain('E_SIGNATURE')
      const stored = actLogOf(await space.doc(shard))
      for (const [name, record] of Object.entries(raw)) expect(stored.has(name === 'forged' ? 'f'.repeat(64) : recordHash(record as never))).toBe(true)
    }
  })

  it('a vote open to anyone (Space option, signed into the terms) counts any key once', async () => {
    const c = await votingCity({ eligibility: 'anyone' })
    const view = await (await c.at(c.spaces.stranger)).castBallot({ kind: 'approval', approved: [c.projects.pool] })
    expect(view.terms?.eligibility).toBe('anyone')
    expect(view.ballots.map((b) => b.voter)).toEqual([stranger.did])
  })

  it('the signed terms decide validity: editing a project cost during the vote changes no ballot', async () => {
    const c = await votingCity()
    await (await c.spaces.stranger.projects.require(c.projects.pool)).update({ cost: '5' })
    await c.all()
    const view = await (await c.at(c.spaces.v1)).castBallot({ kind: 'approval', approved: [c.projects.pool] })
    expect(view.terms?.projects[c.projects.pool]).toBe('500')
    await (await c.at(c.spaces.staff)).closeVoting()
    const atStaff = await c.at(c.spaces.staff)
    await atStaff.allocate({ project: c.projects.park, amount: '600' })
    await expect(atStaff.allocate({ project: c.projects.pool, amount: '500' })).rejects.toMatchObject({ code: 'E_INVALID', details: { rule: 'over_cap' } })
  })

  it('the terms take the projects as they are when the vote opens, after earlier views (local and synced edits, a new project)', async () => {
    const c = await city()
    const atStaff = await c.at(c.spaces.staff)
    await atStaff.resolve()
    await (await c.spaces.stranger.projects.require(c.projects.pool)).update({ cost: '450' })
    await c.all()
    const garden = (await c.spaces.staff.projects.create({ budget: c.id, title: 'Garden', cost: '120', district: 'north' })).id
    await atStaff.resolve()
    await (await c.spaces.staff.projects.require(c.projects.library)).update({ cost: '310' })
    const view = await atStaff.openVoting()
    expect(view.terms?.projects).toEqual({ [c.projects.park]: '600', [c.projects.library]: '310', [c.projects.pool]: '450', [garden]: '120' })
  })

  it('concurrent allocations that fit alone but not together: one is over_cap on every replica', async () => {
    const c = await votingCity()
    const staff2 = await createIdentity()
    await c.spaces.root.grantRole(staff2.did, 'staff')
    const other = replica(staff2)
    await syncSpaces(other, ...Object.values(c.spaces))
    await (await c.at(c.spaces.staff)).allocate({ project: c.projects.park, amount: '600' })
    await (await c.at(other)).allocate({ project: c.projects.pool, amount: '500' })
    await syncSpaces(other, ...Object.values(c.spaces))
    const views = await Promise.all([other, ...Object.values(c.spaces)].map(async (s) => (await c.at(s)).resolve()))
    for (const view of views) {
      expect(view).toEqual(views[0])
      expect(view.allocations.lines).toHaveLength(1)
      expect(view.rejected.map((r) => r.code)).toEqual(['over_cap'])
    }
  })

  it('live views update as ballots arrive, and replicas receiving the same acts in different orders resolve identical views', async () => {
    const c = await votingCity()
    // Voters vote offline, each unaware of the others.
    await (await c.at(c.spaces.v1)).castBallot({ kind: 'approval', approved: [c.projects.park] })
    await (await c.at(c.spaces.v1)).castBallot({ kind: 'approval', approved: [c.projects.library] })
    await (await c.at(c.spaces.v2)).castBallot({ kind: 'approval', approved: [c.projects.pool] })
    await (await c.at(c.spaces.v3)).castBallot({ kind: 'approval', approved: [c.projects.park, c.projects.pool] })
    // Made offline too, at the same clock as v3's ballot: a revocation counts from its own clock on.
    await c.spaces.root.revokeRole(v3.did, `voter:${c.id}`)
    const a = replica(undefined)
    const b = replica(undefined)
    await syncSpaces(a, c.spaces.staff)
    await syncSpaces(b, c.spaces.staff)
    const seen: number[] = []
    for (const source of [c.spaces.v1, c.spaces.v2, c.spaces.root, c.spaces.v3]) {
      await syncSpaces(a, source)
      seen.push((await (await c.at(a)).resolve()).ballots.length) // the live tally started at the first resolve
    }
    expect(seen).toEqual([1, 2, 2, 2])
    await (await c.at(b)).resolve()
    for (const source of [c.spaces.v3, c.spaces.root, c.spaces.v2, c.spaces.v1]) await syncSpaces(b, source)
    const [viewA, viewB] = await Promise.all([(await c.at(a)).resolve(), (await c.at(b)).resolve()])
    await c.all()
    const fresh = replica(undefined)
    await syncSpaces(fresh, ...Object.values(c.spaces))
    const viewFresh = await (await c.at(fresh)).resolve()
    expect(viewB).toEqual(viewA)
    expect(viewFresh).toEqual(viewA)
    expect(viewA.ballots.map((x) => x.voter).sort()).toEqual([v1.did, v2.did].sort())
    expect(viewA.superseded).toHaveLength(1)
    expect(viewA.rejected).toEqual([expect.objectContaining({ code: 'E_FORBIDDEN' })])
  })
})
