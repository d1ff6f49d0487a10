import { beforeAll, describe, expect, it } from 'vitest'
import { createIdentity, type Identity } from '../../../src/index'
import { startRelay, type Relay } from '../../../src/node/relay/relay'
import { expectSameDocs } from '../../sync/sync-fixtures'
import { converge, district, testCleanup, until } from './relay-fixtures'

let north: Identity
let south: Identity
const roots = (): Record<string, string> => ({ north: north.did, south: south.did })

beforeAll(async () => {
  ;[north, south] = (await Promise.all([createIdentity(), createIdentity()])) as [Identity, Identity]
})

const { cleanup, relayOf } = testCleanup()

function spaceOf(relay: Relay) {
  const space = relay.space('city')
  if (space === undefined) throw new Error('the relay has no Space city')
  return space
}

describe('relay federation', () => {
  it('two relays with one district each converge over the cabildo protocol; a third relay joining late catches up', async () => {
    const relayA = await relayOf({})
    const relayB = await relayOf({ peers: [relayA.url] })
    const atA = district('north', relayA.url, north, roots())
    const atB = district('south', relayB.url, south, roots())
    cleanup.push(() => atA.engine.close(), () => atB.engine.close())

    const pothole = await atA.space.tickets.create({ service_code: 'pothole', district: 'north' })
    const benches = await atB.space.proposals.create({ title: 'Benches', district: 'south', process: 'pb2026', body: 'Ten benches.' })
    await until(() => relayB.metrics().federationLinks === 1 && relayA.space('city') !== undefined, 'relay B to link to relay A')
    await converge([atA.space, atB.space, spaceOf(relayA), spaceOf(relayB)])
    ;(await atA.space.proposals.require(benches.id)).text('body').insert(0, 'Revised: ')
    await converge([atA.space, atB.space, spaceOf(relayA), spaceOf(relayB)])
    await expectSameDocs([atA.space, atB.space, spaceOf(relayA), spaceOf(relayB)])
    expect((await atB.space.tickets.require(pothole.id)).get().value.service_code).toBe('pothole')
    expect((await atB.space.proposals.require(benches.id)).get().value.body).toBe('Revised: Ten benches.')

    // Relay C knows only relay B; it opens the Space at start and catches up through B.
    const relayC = await relayOf({ peers: [relayB.url], spaces: ['city'] })
    await converge([atA.space, spaceOf(relayC)])
    await expectSameDocs([atA.space, atB.space, spaceOf(relayC)])
    expect(relayC.metrics().federationLinks).toBe(1)
    expect(relayA.metrics().rejected).toEqual({})
    expect(relayC.metrics().rejected).toEqual({})
  })

  it('refuses a peer URL that is not ws: or wss:', async () => {
    await expect(startRelay({ peers: ['http://127.0.0.1:1'] })).rejects.toMatchObject({ code: 'E_ARGUMENT' })
  })
})
