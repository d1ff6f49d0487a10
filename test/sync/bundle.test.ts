import { beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CabildoError } from '../../src/errors'
import { createIdentity, createSpace, decodeEnvelope, encodeEnvelope, MANIFEST_DOC, signEnvelope, type Identity, type Space } from '../../src/index'
import { BUNDLE_MAGIC, encodeBundle, exportBundle, importBundle, inspectBundle } from '../../src/sync/bundle'
import { docState, expectSameDocs } from './sync-fixtures'

let root: Identity
let agency: Identity
let mallory: Identity

beforeAll(async () => {
  ;[root, agency, mallory] = await Promise.all([createIdentity(), createIdentity(), createIdentity()])
})

function city(identity: Identity): Space {
  return createSpace({ id: 'city', identity, districts: { north: root.did } })
}

function expectParseError(fn: () => unknown, reason: RegExp): void {
  try {
    fn()
  } catch (error) {
    expect(CabildoError.is(error, 'E_PARSE')).toBe(true)
    const details = (error as CabildoError<'E_PARSE'>).details
    expect(details.format).toBe('cabildo-bundle')
    expect(details.reason).toMatch(reason)
    return
  }
  expect.fail('expected E_PARSE')
}

/** Every open document's heads, by name: what a peer tells an exporter it has. */
function headsOf(space: Space): Record<string, ReturnType<NonNullable<ReturnType<Space['signedDocs']['get']>>['heads']>> {
  return Object.fromEntries(space.signedDocs.list().map((signed) => [signed.name, signed.heads()]))
}

async function allStates(space: Space): Promise<Record<string, ReturnType<typeof docState>>> {
  const names = [MANIFEST_DOC, ...space.shardNames()]
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, docState(await space.doc(name))] as const)))
}

/** A north Space with a ticket the roads agency may act on, and a proposal. */
async function north(): Promise<{ space: Space; ticketId: string }> {
  const space = city(root)
  await space.grantRole(agency.did, 'agency:roads')
  const ticket = await space.tickets.create({ service_code: 'pothole', district: 'north', agency_responsible: 'roads' })
  await space.proposals.create({ title: 'Benches', district: 'north', process: 'pb2026', body: 'Ten benches.' })
  return { space, ticketId: ticket.id }
}

describe('file bundles: round trip without a transport', () => {
  it('export → import gives identical docs and ticket views both ways; heads limit a bundle to what the peer lacks', async () => {
    const { space: a, ticketId } = await north()
    const b = city(agency)

    const first = await exportBundle(a)
    const info = inspectBundle(first)
    expect(info.spaceId).toBe('city')
    expect(info.createdBy).toBe(root.did)
    expect(info.docs.map((doc) => doc.name)).toEqual([MANIFEST_DOC, ...a.shardNames()])
    const logged = a.signedDocs.list().reduce((sum, signed) => sum + signed.log().length, 0)
    expect(info.envelopes).toBe(logged)

    const report = await importBundle(b, first)
    expect(report.totals).toEqual({ applied: logged, released: 0, duplicate: 0, pending: 0, rejected: 0 })
    await expectSameDocs([a, b])

    // The agency answers offline; only its new envelopes travel back.
    const atAgency = await b.tickets.require(ticketId)
    await atAgency.acknowledge({ note: 'Seen' })
    await atAgency.close({ note: 'Filled' })
    const before = new Map(a.signedDocs.list().map((signed) => [signed.name, signed.log().length]))
    const back = await exportBundle(b, { heads: headsOf(a) })
    const fresh = b.signedDocs.list().reduce((sum, signed) => sum + signed.log().length - (before.get(signed.name) ?? 0), 0)
    expect(fresh).toBeGreaterThan(0)
    expect(inspectBundle(back).envelopes).toBe(fresh)
    expect((await importBundle(a, back)).totals).toEqual({ applied: fresh, released: 0, duplicate: 0, pending: 0, rejected: 0 })

    await expectSameDocs([a, b])
    const views = await Promise.all([a, b].map(async (space) => (await space.tickets.require(ticketId)).resolve()))
    expect(views[0]?.status).toBe('closed')
    expect(views[1]).toEqual(views[0])
    // Nothing is left to hand over in either direction.
    expect(inspectBundle(await exportBundle(a, { heads: headsOf(b) })).envelopes).toBe(0)
    expect(inspectBundle(await exportBundle(b, { heads: headsOf(a) })).envelopes).toBe(0)
    await Promise.all([a.close(), b.close()])
  })

  it('importing the same bundle twice changes nothing: every envelope is a duplicate', async () => {
    const { space: a } = await north()
    const b = city(agency)
    const bytes = await exportBundle(a)
    await importBundle(b, bytes)
    const states = await allStates(b)
    const again = await importBundle(b, bytes)
    expect(again.totals).toEqual({ applied: 0, released: 0, duplicate: inspectBundle(bytes).envelopes, pending: 0, rejected: 0 })
    expect(await allStates(b)).toEqual(states)
    await Promise.all([a.close(), b.close()])
  })

  it('envelopes whose predecessors a bundle lacks wait as pending, and apply once a later bundle brings them', async () => {
    const a = city(root)
    const proposal = await a.proposals.create({ title: 'Benches', district: 'north', process: 'pb2026', body: 'Ten benches.' })
    proposal.text('body').insert(0, 'Revised: ')
    await a.flush()
    const shard = proposal.shard
    const log = a.signedDocs.get(shard)?.log() ?? []
    const first = log[0]
    if (first === undefined) throw new Error('no envelope')
    const later = log.filter((entry) => entry.key === first.key && entry.seq > 1).length
    expect(later).toBeGreaterThan(0)
    const partial = await exportBundle(a, { shards: [shard], heads: { [shard]: [{ author: first.author, session: first.session, seq: 1, hash: first.hash }] } })
    expect(inspectBundle(partial).envelopes).toBe(log.length - 1)

    const b = city(agency)
    const waiting = await importBundle(b, partial)
    expect(waiting.totals).toMatchObject({ applied: 0, pending: later, rejected: 0 })
    const full = await importBundle(b, await exportBundle(a, { shards: [shard] }))
    expect(full.totals).toEqual({ applied: log.length - later, released: later, duplicate: later, pending: 0, rejected: 0 })
    expect(docState(await b.doc(shard))).toEqual(docState(await a.doc(shard)))
    await Promise.all([a.close(), b.close()])
  })

  it('a bundle limited to some shards carries only those; shards the receiver did not know are opened', async () => {
    const { space: a } = await north()
    const shard = a.shardNames().find((name) => name.startsWith('tickets.')) as string
    const bytes = await exportBundle(a, { shards: [MANIFEST_DOC, shard] })
    expect(inspectBundle(bytes).docs.map((doc) => doc.name)).toEqual([MANIFEST_DOC, shard])
    const b = city(agency)
    await importBundle(b, bytes)
    expect(docState(await b.doc(shard))).toEqual(docState(await a.doc(shard)))
    await Promise.all([a.close(), b.close()])
  })
})

describe('file bundles: damaged and forged bundles', () => {
  it('truncated bytes, a flipped checksum byte, wrong magic and an unknown version are E_PARSE', async () => {
    const { space: a } = await north()
    const bytes = await exportBundle(a)
    expectParseError(() => inspectBundle(bytes.slice(0, bytes.length - 1)), /checksum/)
    expectParseError(() => inspectBundle(bytes.slice(0, 20)), /checksum|truncated/)
    expectParseError(() => inspectBundle(bytes.slice(0, 4)), /magic/)
    const flipped = bytes.slice()
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 0x01
    expectParseError(() => inspectBundle(flipped), /checksum/)
    const magic = bytes.slice()
    magic[0] = 0x58
    expectParseError(() => inspectBundle(magic), /magic/)
    const version = bytes.slice()
    version[BUNDLE_MAGIC.length] = 2
    expectParseError(() => inspectBundle(version), /version 2/)
    const b = city(agency)
    await expect(importBundle(b, flipped)).rejects.toMatchObject({ code: 'E_PARSE' })
    expect(b.shardNames()).toEqual([])
    await Promise.all([a.close(), b.close()])
  })

  it('any single flipped byte is detected', async () => {
    const { space: a } = await north()
    const bytes = await exportBundle(a)
    await a.close()
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (index, mask) => {
        const damaged = bytes.slice()
        damaged[index] = (damaged[index] as number) ^ mask
        expect(() => inspectBundle(damaged)).toThrow(CabildoError)
      }),
      { seed: 42, numRuns: 300 },
    )
  })

  it('a bundle of another Space is refused with E_ARGUMENT and imports nothing', async () => {
    const { space: a } = await north()
    const other = createSpace({ id: 'town', identity: agency })
    await expect(importBundle(other, await exportBundle(a))).rejects.toMatchObject({ code: 'E_ARGUMENT' })
    expect(other.shardNames()).toEqual([])
    await Promise.all([a.close(), other.close()])
  })

  it('forged envelopes in a valid bundle are refused by the guard and reported; the honest ones apply', async () => {
    const { space: a, ticketId } = await north()
    await a.flush() // every local edit signed into an envelope before the log is read
    const shard = a.shardNames().find((name) => name.startsWith('tickets.')) as string
    const honest = (await a.doc(shard), a.signedDocs.get(shard)?.log() ?? []).map((entry) => entry.bytes)
    const firstDecoded = decodeEnvelope(honest[0] as Uint8Array)
    if (!firstDecoded.ok) throw new Error('honest envelope does not decode')
    const envelope = firstDecoded.envelope
    // Re-signed by another key: the update's structs belong to the honest author's session.
    const resigned = encodeEnvelope(await signEnvelope(mallory.keyPair, { doc: envelope.doc, session: envelope.session, seq: 1, prev: new Uint8Array(0), update: envelope.update }))
    // The honest author's signature over other content.
    const tampered = encodeEnvelope({ ...envelope, seq: envelope.seq + 50, prev: new Uint8Array(32), update: new Uint8Array([0, 0]) })
    const manifest = a.signedDocs.get(MANIFEST_DOC)?.log().map((entry) => entry.bytes) ?? []
    const bytes = encodeBundle({ spaceId: 'city', createdAt: '2026-11-25T00:00:00.000Z', docs: [{ name: MANIFEST_DOC, envelopes: manifest }, { name: shard, envelopes: [...honest, resigned, tampered] }] })

    const b = city(agency)
    const report = await importBundle(b, bytes)
    const shardReport = report.docs.find((doc) => doc.name === shard)
    expect(shardReport?.applied).toBe(honest.length)
    expect(shardReport?.rejected.map((r) => r.code).sort()).toEqual(['E_FORGED_CLIENT', 'E_SIGNATURE'])
    expect(report.totals.rejected).toBe(2)
    expect(b.signedDocs.quarantine().map((entry) => [entry.doc, entry.code]).sort()).toEqual([
      [shard, 'E_FORGED_CLIENT'],
      [shard, 'E_SIGNATURE'],
    ])
    expect(docState(await b.doc(shard))).toEqual(docState(await a.doc(shard)))
    expect((await b.tickets.require(ticketId)).get().value.service_code).toBe('pothole')
    await Promise.all([a.close(), b.close()])
  })

  it('a document name that is no valid shard is reported, and the rest still imports', async () => {
    const { space: a } = await north()
    await a.flush()
    const manifest = a.signedDocs.get(MANIFEST_DOC)?.log().map((entry) => entry.bytes) ?? []
    const bytes = encodeBundle({ spaceId: 'city', createdAt: '2026-11-25T00:00:00.000Z', docs: [{ name: '../etc', envelopes: [] }, { name: MANIFEST_DOC, envelopes: manifest }] })
    const b = city(agency)
    const report = await importBundle(b, bytes)
    expect(report.docs[0]?.error?.code).toBe('E_ARGUMENT')
    expect(report.docs[1]?.applied).toBe(manifest.length)
    await Promise.all([a.close(), b.close()])
  })
})
