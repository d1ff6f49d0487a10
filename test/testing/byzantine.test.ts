import { beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import { CabildoError, createMemoryNetwork, decodeEnvelope, identityFromKeyPair, keyPairFromSeed, type Identity } from '../../src/index'
import { inspectUpdate } from '../../src/sync/update-inspector'
import { attackSession, craftUpdate } from '../../src/testing/byzantine/attack'
import { ByzantinePeer } from '../../src/testing/byzantine/byzantine-peer'
import { bitFlippedEnvelope, garbageMessage, truncatedEnvelope, v2BombUpdate } from '../../src/testing/byzantine/damage-attacks'
import { decodeSyncMessage } from '../../src/sync/sync-protocol'
import { openAll, replica, settle } from '../sync/sync-fixtures'

let citizen: Identity
let mallory: Identity

beforeAll(async () => {
  const seeded = async (n: number) => identityFromKeyPair(await keyPairFromSeed(new Uint8Array(32).fill(n)))
  citizen = await seeded(3)
  mallory = await seeded(4)
})

/** A city with one ticket, one honest replica, and a Byzantine peer that mirrors the ticket's shard. */
async function city() {
  const network = createMemoryNetwork({ seed: 3 })
  const north = replica(network, 'north', citizen)
  const peer = new ByzantinePeer({ transport: network.transport(), peerId: 'mallory', spaceId: 'city', signer: mallory.keyPair })
  const ticket = await north.space.tickets.create({ service_code: 'pothole', district: 'north', description: 'Deep' })
  await settle(network, [north.engine])
  await openAll([north.space])
  peer.follow(ticket.shard)
  await settle(network, [north.engine])
  return { network, north, peer, ticket }
}

describe('Byzantine peer', () => {
  it('mirrors a followed document from the genuine envelopes honest peers send it, and knows their sessions', async () => {
    const { north, peer, ticket } = await city()
    expect(peer.peers()).toEqual(['north'])
    expect(Y.encodeStateAsUpdate(peer.mirror(ticket.shard))).toEqual(Y.encodeStateAsUpdate(await north.space.doc(ticket.shard)))
    expect(peer.genuine(ticket.shard).length).toBe(north.space.signedDocs.get(ticket.shard)?.log().length)
    expect(peer.sessions(ticket.shard)).toEqual([expect.objectContaining({ author: citizen.did, clientId: north.space.signedDocs.get(ticket.shard)?.writer?.clientId })])
    peer.close()
    await north.space.close()
  })

  it('keeps its mirror up to date with live edits, and serves nothing: honest peers receive no envelope from it unless it attacks', async () => {
    const { network, north, peer, ticket } = await city()
    ;(await north.space.tickets.require(ticket.id)).update({ status_notes: 'later' })
    await settle(network, [north.engine])
    expect((peer.mirror(ticket.shard).getMap('tickets').get(ticket.id) as Y.Map<unknown>).get('status_notes')).toBe('later')
    expect(north.engine.stats()).toMatchObject({ envelopesReceived: 0, malformed: 0, rejected: 0 })
    peer.launch(truncatedEnvelope(peer.genuine(ticket.shard)[0] as Uint8Array, ticket.shard))
    await settle(network, [north.engine])
    expect(north.engine.stats()).toMatchObject({ envelopesReceived: 1, malformed: 1, rejected: 1 })
    peer.close()
    await north.space.close()
  })
})

describe('attack helpers', () => {
  it('name sessions deterministically, and craft updates under any client id without touching the document', () => {
    expect(attackSession('a')).toEqual(attackSession('a'))
    expect(attackSession('a')).toHaveLength(16)
    expect(attackSession('a')).not.toEqual(attackSession('b'))
    const base = new Y.Doc()
    base.getMap('tickets').set('t1', 'open')
    const before = Y.encodeStateAsUpdate(base)
    const update = craftUpdate(base, 42, (d) => d.getMap('tickets').set('t2', 'forged'))
    expect(Y.encodeStateAsUpdate(base)).toEqual(before)
    const inspected = inspectUpdate(update)
    expect(inspected.ok && [...inspected.update.ranges.keys()]).toEqual([42])
  })

  it('truncate and bit-flip genuine envelopes: a strict prefix, and exactly one bit of the update', async () => {
    const { north, peer, ticket } = await city()
    const genuine = peer.genuine(ticket.shard)[0] as Uint8Array
    const truncated = truncatedEnvelope(genuine, ticket.shard).envelopes[0] as Uint8Array
    expect(truncated).toEqual(genuine.slice(0, Math.floor(genuine.length / 2)))
    const flipped = bitFlippedEnvelope(genuine, ticket.shard).envelopes[0] as Uint8Array
    const differing = [...flipped].flatMap((byte, i) => (byte === genuine[i] ? [] : [{ i, bits: byte ^ (genuine[i] as number) }]))
    expect(differing).toHaveLength(1)
    expect([1, 2, 4, 8, 16, 32, 64, 128]).toContain(differing[0]?.bits)
    const original = decodeEnvelope(genuine)
    const changed = decodeEnvelope(flipped)
    expect(original.ok && changed.ok).toBe(true)
    if (original.ok && changed.ok) {
      expect(changed.envelope.update).not.toEqual(original.envelope.update)
      expect({ ...changed.envelope, update: undefined }).toEqual({ ...original.envelope, update: undefined })
    }
    expect(() => truncatedEnvelope(genuine, ticket.shard, genuine.length)).toThrow(CabildoError)
    expect(() => bitFlippedEnvelope(genuine, ticket.shard, 1e9)).toThrow(CabildoError)
    expect(() => bitFlippedEnvelope(new Uint8Array([1, 2, 3]), ticket.shard)).toThrow(CabildoError)
    peer.close()
    await north.space.close()
  })

  it('the V2 bomb declares 30 million structs in 24 bytes (read here with lib0 only, never with a Yjs V2 decoder); read as V1 it is an empty update', () => {
    const bomb = v2BombUpdate()
    expect(bomb).toHaveLength(24)
    const decoder = decoding.createDecoder(bomb)
    decoding.readVarUint(decoder) // feature flag
    const sections = Array.from({ length: 9 }, () => decoding.readVarUint8Array(decoder))
    const [, clients, , , infos, , , , lengths] = sections as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array]
    expect(decoding.readVarInt(decoding.createDecoder(clients))).toBe(1)
    expect([...infos]).toEqual([0]) // one GC info and no run count: the run-length decoder repeats it forever
    const lengthRun = decoding.createDecoder(lengths)
    expect(decoding.readVarInt(lengthRun)).toBe(-1) // a run of length-1 structs...
    expect(decoding.readVarUint(lengthRun) + 2).toBe(30_000_000) // ...30 million long
    expect(decoding.readVarUint(decoder)).toBe(1) // one client
    expect(decoding.readVarUint(decoder)).toBe(30_000_000) // with 30 million structs
    // Read as V1 (the only way the guard reads), it is an empty update followed by unread bytes: refused.
    expect(inspectUpdate(bomb)).toMatchObject({ ok: false, code: 'E_UPDATE_MALFORMED', reason: '22 bytes after the update' })
  })

  it('the garbage message is refused by the protocol decoder without allocating its billion entries', () => {
    const { message } = garbageMessage('tickets.2026-11')
    expect(message.length).toBeLessThan(32)
    expect(decodeSyncMessage(message)).toMatchObject({ ok: false, kind: 'malformed' })
  })
})
