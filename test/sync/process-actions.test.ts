import { beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createIdentity, createSpace, recordHash, syncSpaces, type Identity, type Space } from '../../src/index'
import { actLogOf } from '../../src/civic/act-log'

let root: Identity
let staff: Identity
let staff2: Identity
let author: Identity
let alice: Identity
let bob: Identity
let stranger: Identity

beforeAll(async () => {
  ;[root, staff, staff2, author, alice, bob, stranger] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity(), createIdentity(), createIdentity(), createIdentity()])
})

const PHASES = [
  { phase: 'proposing', start: '2026-03-01T00:00:00Z', end: '2026-04-01T00:00:00Z' },
  { phase: 'supports', start: '2026-04-01T00:00:00Z', end: '2026-05-01T00:00:00Z' },
  { phase: 'evaluation', start: '2026-05-01T00:00:00Z', end: '2026-06-01T00:00:00Z' },
  { phase: 'results', start: '2026-06-15T00:00:00Z', end: '2026-06-30T00:00:00Z' },
] as const

function replica(identity: Identity | undefined): Space {
  // The Space option says 100: a governing process's signed threshold replaces it.
  return createSpace({ id: 'city', ...(identity ? { identity } : {}), districts: { north: root.did }, proposals: { supportThreshold: 100 } })
}

/** A city where the root made two staff members, and everyone synced. */
async function city() {
  const spaces = {
    root: replica(root),
    staff: replica(staff),
    staff2: replica(staff2),
    author: replica(author),
    alice: replica(alice),
    bob: replica(bob),
    stranger: replica(stranger),
  }
  await spaces.root.grantRole(staff.did, 'staff')
  await spaces.root.grantRole(staff2.did, 'staff')
  const all = () => syncSpaces(...Object.values(spaces))
  await all()
  return { spaces, all }
}

/** The city, a process `pb2026` created by staff with threshold 2, and a published proposal in it. */
async function cityWithProposal() {
  const { spaces, all } = await city()
  const pb = await spaces.staff.processes.create({ title: 'PB 2026', district: 'north', key: 'pb2026', supportThreshold: 2, phases: [...PHASES] })
  const draft = await spaces.author.proposals.create({ title: 'Shade for the playground', district: 'north', process: 'pb2026' })
  draft.text('body').insert(0, 'Plant ten trees.')
  await draft.publish()
  await all()
  return { spaces, all, processId: pb.id, proposalId: draft.id }
}

describe('participatory processes', () => {
  it('staff creates a process in its proposals shard and moves it through its phases; every replica resolves the same planned dates and signed phase', async () => {
    const { spaces, all } = await city()
    const pb = await spaces.staff.processes.create({ title: 'PB 2026', district: 'north', key: 'pb2026', supportThreshold: 300, phases: [...PHASES] })
    expect(pb.shard).toBe('process.pb2026')
    expect(await pb.resolve()).toMatchObject({ governing: true, phase: 'proposing', threshold: undefined })
    expect((await pb.openSupports({ note: 'Support the proposals you like' })).threshold).toBe(300)
    await all()
    const atStaff2 = await spaces.staff2.processes.require(pb.id)
    await atStaff2.startEvaluation()
    await atStaff2.publishResults()
    await all()
    const views = await Promise.all(Object.values(spaces).map(async (s) => (await s.processes.require(pb.id)).resolve()))
    for (const view of views) {
      expect(view).toEqual(views[0])
      expect(view).toMatchObject({ governing: true, phase: 'results', threshold: 300, creation: { creator: staff.did, district: 'north', key: 'pb2026' } })
      expect(view.planned).toEqual(PHASES)
      expect(view.history.map((t) => [t.author, t.to])).toEqual([
        [staff.did, 'supports'],
        [staff2.did, 'evaluation'],
        [staff2.did, 'results'],
      ])
      expect(view.rejected).toEqual([])
    }
    expect((await spaces.alice.processes.list()).map((p) => p.id)).toEqual([pb.id])
  })

  it('refuses, before storing anything, a process created by a non-staff key, a second process for a key, and a plan with overlapping phases', async () => {
    const { spaces, all } = await city()
    const input = { title: 'PB 2026', district: 'north', key: 'pb2026', supportThreshold: 3 }
    await expect(spaces.stranger.processes.create(input)).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    expect(spaces.stranger.shardNames()).not.toContain('process.pb2026')
    await spaces.staff.processes.create(input)
    await all()
    await expect(spaces.staff2.processes.create(input)).rejects.toMatchObject({ code: 'E_INVALID', details: { rule: 'duplicate' } })
    expect(await spaces.staff2.processes.list()).toHaveLength(1)
    const overlapping = [PHASES[0], { ...PHASES[1], start: '2026-03-20T00:00:00Z' }]
    await expect(spaces.staff.processes.create({ ...input, key: 'pb2027', phases: overlapping })).rejects.toMatchObject({ code: 'E_SCHEMA', path: ['phases', 1, 'start'] })
  })

  it('refuses phase acts of non-staff keys and phases out of order before storing them', async () => {
    const { spaces, all } = await city()
    const pb = await spaces.staff.processes.create({ title: 'PB', district: 'north', key: 'pb2026', supportThreshold: 3 })
    await all()
    const atStranger = await spaces.stranger.processes.require(pb.id)
    const doc = await spaces.stranger.doc(pb.shard)
    const before = Y.encodeStateAsUpdate(doc)
    await expect(atStranger.openSupports()).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
    await expect(pb.publishResults()).rejects.toMatchObject({ code: 'E_INVALID' })
    expect((await pb.resolve()).phase).toBe('proposing')
  })

  it('forged and unauthorized phase acts written straight into the act log are reported and move nothing', async () => {
    const { spaces, all, processId, proposalId } = await cityWithProposal()
    const atStranger = await spaces.stranger.processes.require(processId)
    await (await spaces.staff.processes.require(processId)).openSupports()
    await all()
    const doc = await spaces.stranger.doc(atStranger.shard)
    const log = actLogOf(doc)
    const unauthorized = await stranger.sign({ type: 'process.phase', doc: `city/${atStranger.shard}`, clock: 90, payload: { process: processId, from: 'supports', to: 'evaluation' } })
    const opening = [...log.values()].find((v) => (v as { type: string }).type === 'process.phase') as Record<string, unknown>
    const tampered = { ...opening, payload: { ...(opening['payload'] as object), terms: { supportThreshold: 1 } } }
    doc.transact(() => {
      log.set(recordHash(unauthorized), unauthorized)
      log.set('e'.repeat(64), tampered)
    })
    await all()
    for (const space of [spaces.root, spaces.alice]) {
      const view = await (await space.processes.require(processId)).resolve()
      expect([view.phase, view.threshold]).toEqual(['supports', 2])
      expect(view.rejected.map((r) => r.code).sort()).toEqual(['E_FORBIDDEN', 'E_SIGNATURE'])
      expect(view.rejected.find((r) => r.code === 'E_FORBIDDEN')?.hash).toBe(recordHash(unauthorized))
      // Proposals still see the supports phase and the signed threshold.
      expect(await (await space.proposals.require(proposalId)).resolve()).toMatchObject({ processPhase: 'supports', threshold: 2 })
    }
  })

  it('supports count only in the signed supports phase, against the threshold signed at its opening; the same view on every replica', async () => {
    const { spaces, all, processId, proposalId } = await cityWithProposal()
    await expect((await spaces.alice.proposals.require(proposalId)).support()).rejects.toMatchObject({ code: 'E_INVALID', details: { rule: 'process-phase' } })
    await (await spaces.staff.processes.require(processId)).openSupports()
    await all()
    // A later plain edit of the record's threshold changes nothing: the opening signed 2.
    ;(await spaces.stranger.processes.require(processId)).update({ supportThreshold: 1000 })
    await (await spaces.alice.proposals.require(proposalId)).support()
    const supported = await (await spaces.bob.proposals.require(proposalId)).support()
    expect([supported.threshold, supported.qualified]).toEqual([2, false]) // bob has not seen alice's support yet
    await all()
    expect(await (await spaces.bob.proposals.require(proposalId)).resolve()).toMatchObject({ threshold: 2, qualified: true, processPhase: 'supports' })
    await (await spaces.staff2.processes.require(processId)).startEvaluation()
    await all()
    await expect((await spaces.stranger.proposals.require(proposalId)).support()).rejects.toMatchObject({ code: 'E_LATE', details: { reason: expect.stringContaining('evaluation') } })
    await expect((await spaces.alice.proposals.require(proposalId)).unsupport()).rejects.toMatchObject({ code: 'E_LATE' })
    const views = await Promise.all(Object.values(spaces).map(async (s) => (await s.proposals.require(proposalId)).resolve()))
    for (const view of views) {
      expect(view).toEqual(views[0])
      expect(view.supporters.map((s) => s.supporter).sort()).toEqual([alice.did, bob.did].sort())
      expect([view.qualified, view.processPhase]).toEqual([true, 'evaluation'])
    }
  })

  it('concurrent phase changes by two staff members offline: one wins on every replica, the other is a lost conflict', async () => {
    const { spaces, all, processId } = await cityWithProposal()
    await (await spaces.staff.processes.require(processId)).openSupports()
    await (await spaces.staff2.processes.require(processId)).openSupports({ note: 'also opening' })
    await all()
    const views = await Promise.all(Object.values(spaces).map(async (s) => (await s.processes.require(processId)).resolve()))
    for (const view of views) {
      expect(view).toEqual(views[0])
      expect(view.history).toHaveLength(1)
      expect(view.conflicts).toEqual([expect.objectContaining({ kind: 'lost' })])
    }
  })

  it('a process record created without an identity governs nothing: its proposals keep the Space threshold', async () => {
    const { spaces, all } = await city()
    const anonymous = replica(undefined)
    const plain = await anonymous.processes.create({ title: 'PB', district: 'north', key: 'pb2026', supportThreshold: 1 })
    await syncSpaces(anonymous, ...Object.values(spaces))
    const draft = await spaces.author.proposals.create({ title: 'Benches', district: 'north', process: 'pb2026' })
    await draft.publish()
    await all()
    await (await spaces.alice.proposals.require(draft.id)).support()
    expect(await (await spaces.alice.proposals.require(draft.id)).resolve()).toMatchObject({ threshold: 100, processPhase: undefined, supporters: [expect.objectContaining({ supporter: alice.did })] })
    expect((await (await spaces.root.processes.require(plain.id)).resolve()).governing).toBe(false)
  })
})

describe('amendments', () => {
  it('a citizen amends a proposal in its process; its author accepts one and rejects another; every replica lists them with their decisions', async () => {
    const { spaces, all, proposalId } = await cityWithProposal()
    const fromAlice = await (await spaces.alice.proposals.require(proposalId)).amend({ title: 'Shade and benches' })
    const fromBob = await (await spaces.bob.proposals.require(proposalId)).amend({ title: 'Shade and a fountain', body: 'Trees and water.' })
    expect(fromAlice.get().value).toMatchObject({ amends: proposalId, process: 'pb2026', district: 'north' })
    expect(fromAlice.shard).toBe('process.pb2026')
    expect(await fromAlice.resolve()).toMatchObject({ amends: proposalId, author: alice.did })
    await all()
    const parent = await spaces.author.proposals.require(proposalId)
    expect((await parent.amendments()).map((a) => a.id).sort()).toEqual([fromAlice.id, fromBob.id].sort())
    await expect((await spaces.stranger.proposals.require(proposalId)).acceptAmendment(fromAlice.id)).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    await parent.acceptAmendment(fromAlice.id, { note: 'Benches added' })
    await parent.rejectAmendment(fromBob.id)
    await expect(parent.rejectAmendment(fromAlice.id)).rejects.toMatchObject({ code: 'E_INVALID', details: { rule: 'decided' } })
    await expect(parent.acceptAmendment(proposalId)).rejects.toMatchObject({ code: 'E_INVALID', details: { rule: 'not-an-amendment' } })
    await all()
    const views = await Promise.all(Object.values(spaces).map(async (s) => (await s.proposals.require(proposalId)).resolve()))
    for (const view of views) {
      expect(view).toEqual(views[0])
      const decisions = Object.fromEntries(view.amendments.map((a) => [a.id, [a.author, a.decision, a.decided?.note]]))
      expect(decisions).toEqual({ [fromAlice.id]: [alice.did, 'accepted', 'Benches added'], [fromBob.id]: [bob.did, 'rejected', undefined] })
      expect(view.rejected).toEqual([])
    }
  })

  it('a plain `amends` field links nothing: a proposal edited to claim a parent is not among its signed amendments', async () => {
    const { spaces, all, proposalId } = await cityWithProposal()
    const other = await spaces.stranger.proposals.create({ title: 'Casino', district: 'north', process: 'pb2026' })
    other.update({ amends: proposalId })
    await all()
    const parent = await spaces.author.proposals.require(proposalId)
    expect((await parent.amendments()).map((a) => a.id)).toEqual([other.id]) // listed by the plain field
    expect((await parent.resolve()).amendments).toEqual([]) // but not a signed amendment
    await expect(parent.acceptAmendment(other.id)).rejects.toMatchObject({ code: 'E_INVALID', details: { rule: 'not-an-amendment' } })
  })
})
