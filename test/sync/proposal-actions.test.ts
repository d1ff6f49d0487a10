import { beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createIdentity, createSpace, proposalBodyHash, recordHash, syncSpaces, type Identity, type Space } from '../../src/index'
import { actLogOf } from '../../src/civic/act-log'

let root: Identity
let moderator: Identity
let author: Identity
let alice: Identity
let bob: Identity
let stranger: Identity

beforeAll(async () => {
  ;[root, moderator, author, alice, bob, stranger] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity(), createIdentity(), createIdentity()])
})

const BODY = 'Plant ten trees around the playground.'

function replica(identity: Identity | undefined): Space {
  return createSpace({
    id: 'city',
    ...(identity ? { identity } : {}),
    districts: { north: root.did },
    proposals: { supportThreshold: (process) => (process === 'pb-2027' ? 2 : 100) },
  })
}

/** A city where the root made `moderator` a moderator and the author drafted a proposal, all synced. */
async function city() {
  const spaces = {
    root: replica(root),
    moderator: replica(moderator),
    author: replica(author),
    alice: replica(alice),
    bob: replica(bob),
    stranger: replica(stranger),
  }
  await spaces.root.grantRole(moderator.did, 'moderator')
  const draft = await spaces.author.proposals.create({ title: 'Shade for the playground', district: 'north', process: 'pb-2027' })
  draft.text('body').insert(0, BODY)
  await syncSpaces(...Object.values(spaces))
  return { spaces, id: draft.id, all: () => syncSpaces(...Object.values(spaces)) }
}

describe('signed proposal lifecycle', () => {
  it('the author publishes a signed revision, a moderator reviews and accepts; every replica resolves the same view', async () => {
    const { spaces, id, all } = await city()
    const published = await (await spaces.author.proposals.require(id)).publish()
    expect(published.status).toBe('published')
    expect(published.officialRevision).toMatchObject({ author: author.did, title: 'Shade for the playground', bodyHash: proposalBodyHash(BODY) })
    await all()
    const atModerator = await spaces.moderator.proposals.require(id)
    await atModerator.review()
    await atModerator.accept({ note: 'Funded next year' })
    await all()
    const views = await Promise.all(Object.values(spaces).map(async (s) => (await s.proposals.require(id)).resolve()))
    for (const view of views) {
      expect(view).toEqual(views[0])
      expect(view.status).toBe('accepted')
      expect(view.author).toBe(author.did)
      expect(view.bodyMatchesOfficial).toBe(true)
      expect(view.history.map((t) => t.to)).toEqual(['published', 'under_review', 'accepted'])
      expect(view.rejected).toEqual([])
    }
    expect((await spaces.alice.proposals.require(id)).get().value.status).toBe('accepted')
  })

  it('the published-revision hash detects a body edited after publication, on every replica', async () => {
    const { spaces, id, all } = await city()
    await (await spaces.author.proposals.require(id)).publish()
    await all()
    ;(await spaces.stranger.proposals.require(id)).text('body').insert(BODY.length, ' And a casino.')
    await all()
    for (const space of [spaces.author, spaces.root]) {
      const view = await (await space.proposals.require(id)).resolve()
      expect(view.bodyMatchesOfficial).toBe(false)
      expect(view.titleMatchesOfficial).toBe(true)
      expect(view.officialRevision?.bodyHash).toBe(proposalBodyHash(BODY))
    }
  })

  it('refuses, before storing anything, a non-moderator accepting and a non-author withdrawing, even one listed in `authors`', async () => {
    const { spaces, id, all } = await city()
    await (await spaces.author.proposals.require(id)).publish()
    await all()
    await (await spaces.moderator.proposals.require(id)).review()
    await all()
    const atStranger = await spaces.stranger.proposals.require(id)
    atStranger.addToSet('authors', stranger.did) // the unsigned set authorizes nothing
    const doc = await spaces.stranger.doc(atStranger.shard)
    const before = Y.encodeStateAsUpdate(doc)
    await expect(atStranger.accept()).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    await expect(atStranger.withdraw()).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
    await expect((await spaces.author.proposals.require(id)).accept()).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    await expect((await spaces.moderator.proposals.require(id)).withdraw()).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    expect((await atStranger.resolve()).status).toBe('under_review')
  })

  it('forged, replayed and unauthorized acts written into the document are reported and change nothing', async () => {
    const { spaces, id, all } = await city()
    await (await spaces.author.proposals.require(id)).publish()
    await all()
    const atStranger = await spaces.stranger.proposals.require(id)
    const before = await atStranger.resolve()
    const doc = await spaces.stranger.doc(atStranger.shard)
    const log = actLogOf(doc)
    const docId = `city/${atStranger.shard}`
    const unauthorized = await stranger.sign({ type: 'proposal.transition', doc: docId, clock: 50, payload: { proposal: id, from: 'published', to: 'withdrawn' } })
    const genuine = [...log.values()].find((v) => (v as { payload: { to?: string } }).payload.to === 'published') as Record<string, unknown>
    const tampered = { ...genuine, payload: { ...(genuine['payload'] as object), bodyHash: '0'.repeat(64) } }
    const replayed = await moderator.sign({ type: 'proposal.transition', doc: `other-city/${atStranger.shard}`, clock: 70, payload: { proposal: id, from: 'published', to: 'under_review' } })
    doc.transact(() => {
      log.set(recordHash(unauthorized), unauthorized)
      log.set('f'.repeat(64), tampered)
      log.set(recordHash(replayed), replayed)
    })
    await all()
    for (const space of [spaces.root, spaces.alice]) {
      const view = await (await space.proposals.require(id)).resolve()
      expect({ ...view, rejected: [] }).toEqual({ ...before, rejected: [] })
      const codes = view.rejected.map((r) => r.code).sort()
      expect(codes).toEqual(['E_FORBIDDEN', 'E_INVALID', 'E_SIGNATURE'])
      expect(view.rejected.find((r) => r.code === 'E_FORBIDDEN')?.hash).toBe(recordHash(unauthorized))
      expect(view.rejected.find((r) => r.code === 'E_INVALID')?.hash).toBe(recordHash(replayed))
      expect(actLogOf(await space.doc(atStranger.shard)).has(recordHash(unauthorized))).toBe(true)
    }
  })

  it('supports: one per key, open after publication, closed after withdrawal; the per-process threshold derives qualified', async () => {
    const { spaces, id, all } = await city()
    await expect((await spaces.alice.proposals.require(id)).support()).rejects.toMatchObject({ code: 'E_INVALID', details: { rule: 'not-published' } })
    await (await spaces.author.proposals.require(id)).publish()
    await all()
    const atAlice = await spaces.alice.proposals.require(id)
    await atAlice.support()
    expect((await atAlice.support()).supporters).toHaveLength(1) // supporting again stores nothing new
    await (await spaces.bob.proposals.require(id)).support()
    await all()
    const qualified = await (await spaces.root.proposals.require(id)).resolve()
    expect(qualified.supporters.map((s) => s.supporter).sort()).toEqual([alice.did, bob.did].sort())
    expect([qualified.threshold, qualified.qualified]).toEqual([2, true])
    const afterUnsupport = await atAlice.unsupport()
    expect([afterUnsupport.supporters.length, afterUnsupport.qualified, afterUnsupport.qualifiedAt]).toEqual([1, false, qualified.qualifiedAt])
    await expect(atAlice.unsupport()).rejects.toMatchObject({ code: 'E_INVALID' })
    await all()
    await (await spaces.author.proposals.require(id)).withdraw()
    await all()
    await expect((await spaces.alice.proposals.require(id)).support()).rejects.toMatchObject({ code: 'E_LATE' })
  })

  it('a review and a withdrawal made concurrently offline: one wins on every replica, the other is a lost conflict', async () => {
    const { spaces, id, all } = await city()
    await (await spaces.author.proposals.require(id)).publish()
    await all()
    await (await spaces.moderator.proposals.require(id)).review()
    await (await spaces.author.proposals.require(id)).withdraw()
    await all()
    const views = await Promise.all(Object.values(spaces).map(async (s) => (await s.proposals.require(id)).resolve()))
    for (const view of views) {
      expect(view).toEqual(views[0])
      expect(view.history).toHaveLength(2)
      expect(view.conflicts.some((c) => c.kind === 'lost')).toBe(true)
    }
  })

  it('without an identity a Space reads the view but signs nothing; its own proposals have no author', async () => {
    const { spaces, id } = await city()
    const anonymous = replica(undefined)
    await syncSpaces(anonymous, spaces.author)
    const proposal = await anonymous.proposals.require(id)
    await expect(proposal.publish()).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    await expect(proposal.support()).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    expect((await proposal.resolve()).author).toBe(author.did)
    const own = await anonymous.proposals.create({ title: 'Benches', district: 'north', process: 'pb-2027' })
    expect((await own.resolve()).author).toBeUndefined()
  })
})
