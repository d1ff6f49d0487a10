import { beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createIdentity, createSpace, recordHash, syncSpaces, type Identity, type Space } from '../../src/index'
import { actLogOf } from '../../src/civic/act-log'

let northRoot: Identity
let southRoot: Identity
let moderator: Identity
let moderator2: Identity
let southModerator: Identity
let citizen: Identity
let stranger: Identity

beforeAll(async () => {
  ;[northRoot, southRoot, moderator, moderator2, southModerator, citizen, stranger] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity(), createIdentity(), createIdentity(), createIdentity()])
})

function replica(identity: Identity): Space {
  return createSpace({ id: 'city', identity, districts: { north: northRoot.did, south: southRoot.did } })
}

/** A city with two north moderators and a south one, a north proposal and a citizen's comment on it, all synced. */
async function city() {
  const spaces = {
    north: replica(northRoot),
    south: replica(southRoot),
    moderator: replica(moderator),
    moderator2: replica(moderator2),
    southModerator: replica(southModerator),
    citizen: replica(citizen),
    stranger: replica(stranger),
  }
  await spaces.north.grantRole(moderator.did, 'moderator')
  await spaces.north.grantRole(moderator2.did, 'moderator')
  await spaces.south.grantRole(southModerator.did, 'moderator')
  const proposal = await spaces.citizen.proposals.create({ title: 'Benches', district: 'north', process: 'pb2026' })
  const comment = await spaces.citizen.comments.create({ target: proposal.id, author: citizen.did, body: 'Call me at 555-0100' })
  const all = () => syncSpaces(...Object.values(spaces))
  await all()
  return { spaces, all, proposalId: proposal.id, commentId: comment.id }
}

describe('comment moderation', () => {
  it('a district moderator hides a comment with a reason: it stays in the document, every replica resolves it hidden; unhide shows it again', async () => {
    const { spaces, all, proposalId, commentId } = await city()
    const hidden = await (await spaces.moderator.comments.require(commentId)).hide({ reason: 'Personal data' })
    expect(hidden.hidden).toEqual({ by: moderator.did, reason: 'Personal data' })
    await all()
    for (const space of Object.values(spaces)) {
      const onTarget = await space.comments.list({ where: (c) => c.target === proposalId })
      expect(onTarget.map((c) => [c.id, c.get().value.body])).toEqual([[commentId, 'Call me at 555-0100']])
      expect(await (onTarget[0]?.resolve())).toMatchObject({ author: citizen.did, target: proposalId, hidden: { by: moderator.did, reason: 'Personal data' }, rejected: [] })
    }
    await (await spaces.moderator2.comments.require(commentId)).unhide({ note: 'Number removed' })
    await all()
    const views = await Promise.all(Object.values(spaces).map(async (s) => (await s.comments.require(commentId)).resolve()))
    for (const view of views) {
      expect(view).toEqual(views[0])
      expect(view.hidden).toBeUndefined()
      expect(view.history.map((t) => [t.author, t.to])).toEqual([
        [moderator.did, 'hidden'],
        [moderator2.did, 'visible'],
      ])
    }
  })

  it('refuses, before storing anything, a hide by a non-moderator, by the author, and by a moderator of another district', async () => {
    const { spaces, commentId } = await city()
    for (const space of [spaces.stranger, spaces.citizen, spaces.southModerator]) {
      const comment = await space.comments.require(commentId)
      const doc = await space.doc(comment.shard)
      const before = Y.encodeStateAsUpdate(doc)
      await expect(comment.hide({ reason: 'I disagree' })).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
      expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
    }
    const atModerator = await spaces.moderator.comments.require(commentId)
    await expect(atModerator.hide({ reason: '' })).rejects.toMatchObject({ code: 'E_INVALID', details: { rule: 'payload' } })
    await expect(atModerator.unhide()).rejects.toMatchObject({ code: 'E_INVALID' })
    await atModerator.hide({ reason: 'Personal data' })
    await expect(atModerator.hide({ reason: 'Again' })).rejects.toMatchObject({ code: 'E_INVALID', details: { rule: 'state' } })
  })

  it('forged and unauthorized hides written straight into the act log are reported and hide nothing', async () => {
    const { spaces, all, commentId } = await city()
    await (await spaces.moderator.comments.require(commentId)).hide({ reason: 'Personal data' })
    await (await spaces.moderator.comments.require(commentId)).unhide()
    await all()
    const atStranger = await spaces.stranger.comments.require(commentId)
    const doc = await spaces.stranger.doc(atStranger.shard)
    const log = actLogOf(doc)
    const docId = `city/${atStranger.shard}`
    const unauthorized = await stranger.sign({ type: 'comment.hide', doc: docId, clock: 80, payload: { comment: commentId, reason: 'Censored' } })
    const foreign = await southModerator.sign({ type: 'comment.hide', doc: docId, clock: 81, payload: { comment: commentId, reason: 'Not my district' } })
    const genuine = [...log.values()].find((v) => (v as { type: string }).type === 'comment.hide') as Record<string, unknown>
    const tampered = { ...genuine, clock: 90 } // a replay at a later clock: the signature no longer matches
    doc.transact(() => {
      log.set(recordHash(unauthorized), unauthorized)
      log.set(recordHash(foreign), foreign)
      log.set('d'.repeat(64), tampered)
    })
    await all()
    for (const space of [spaces.citizen, spaces.north, spaces.moderator2]) {
      const view = await (await space.comments.require(commentId)).resolve()
      expect(view.hidden).toBeUndefined()
      expect(view.rejected.map((r) => r.code).sort()).toEqual(['E_FORBIDDEN', 'E_FORBIDDEN', 'E_SIGNATURE'])
      expect(view.rejected.filter((r) => r.code === 'E_FORBIDDEN').map((r) => r.hash).sort()).toEqual([recordHash(unauthorized), recordHash(foreign)].sort())
    }
  })

  it('the plain fields decide nothing: `hidden` is no field of a comment, and editing `author` or `target` moves neither authorship nor moderation', async () => {
    const { spaces, all, commentId } = await city()
    const ticket = await spaces.citizen.tickets.create({ service_code: 'pothole', district: 'south' })
    await expect(spaces.citizen.comments.create({ target: ticket.id, author: citizen.did, body: 'x', hidden: { by: stranger.did, reason: 'no' } } as never)).rejects.toMatchObject({ code: 'E_SCHEMA' })
    const atStranger = await spaces.stranger.comments.require(commentId)
    atStranger.update({ author: stranger.did, target: ticket.id })
    await all()
    // The signed target is still the north proposal: a south moderator may not hide it, a north one may.
    await expect((await spaces.southModerator.comments.require(commentId)).hide({ reason: 'Spam' })).rejects.toMatchObject({ code: 'E_FORBIDDEN' })
    const view = await (await spaces.moderator.comments.require(commentId)).hide({ reason: 'Spam' })
    expect([view.author, view.hidden?.by]).toEqual([citizen.did, moderator.did])
  })

  it('comments on a ticket are moderated by the ticket district; two moderators hiding concurrently converge on one hide', async () => {
    const { spaces, all } = await city()
    const ticket = await spaces.citizen.tickets.create({ service_code: 'pothole', district: 'north' })
    const comment = await spaces.citizen.comments.create({ target: ticket.id, author: citizen.did, body: 'Idiots!' })
    expect(comment.shard).toBe(ticket.shard)
    await all()
    await (await spaces.moderator.comments.require(comment.id)).hide({ reason: 'Insult' })
    await (await spaces.moderator2.comments.require(comment.id)).hide({ reason: 'Rude' })
    await all()
    const views = await Promise.all(Object.values(spaces).map(async (s) => (await s.comments.require(comment.id)).resolve()))
    for (const view of views) {
      expect(view).toEqual(views[0])
      expect(view.history).toHaveLength(1)
      expect(view.conflicts).toEqual([expect.objectContaining({ kind: 'lost' })])
      expect([moderator.did, moderator2.did]).toContain(view.hidden?.by)
    }
  })
})
