import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createIdentity, type Identity } from '../../../src/index'
import { startRelay, type Relay } from '../../../src/node/relay/relay'
import { expectSameDocs } from '../../sync/sync-fixtures'
import { converge, district, testCleanup, until, type District } from './relay-fixtures'

const tmp = mkdtempSync(join(tmpdir(), 'cabildo-relay-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

let roots: { north: Identity; south: Identity; east: Identity; west: Identity }
const cityRoots = (): Record<string, string> => ({ north: roots.north.did, south: roots.south.did, east: roots.east.did })

beforeAll(async () => {
  const [north, south, east, west] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity()])
  roots = { north: north as Identity, south: south as Identity, east: east as Identity, west: west as Identity }
})

const { cleanup, relayOf } = testCleanup()

function join3(url: string): [District, District, District] {
  const districts = (['north', 'south', 'east'] as const).map((name) => district(name, url, roots[name], cityRoots()))
  for (const d of districts) cleanup.push(() => d.engine.close())
  return districts as [District, District, District]
}

function relaySpace(relay: Relay) {
  const space = relay.space('city')
  if (space === undefined) throw new Error('the relay has no Space city')
  return space
}

describe('relay', () => {
  it('three districts, each with its own root, converge through a relay: identical documents, concurrent text edits merged, nothing refused', async () => {
    const relay = await relayOf({})
    const [north, south, east] = join3(relay.url)
    await until(() => [north, south, east].every((d) => d.transport.status === 'open'), 'three handshakes')

    const pothole = await north.space.tickets.create({ service_code: 'pothole', district: 'north' })
    await south.space.tickets.create({ service_code: 'streetlight', district: 'south' })
    const benches = await east.space.proposals.create({ title: 'Benches', district: 'east', process: 'pb2026', body: 'Ten benches.' })
    await converge([north.space, south.space, east.space, relaySpace(relay)])

    ;(await north.space.proposals.require(benches.id)).text('body').insert(0, 'Revised: ')
    ;(await south.space.proposals.require(benches.id)).text('body').insert(12, ' in the park')
    await converge([north.space, south.space, east.space, relaySpace(relay)])
    await expectSameDocs([north.space, south.space, east.space, relaySpace(relay)])

    const body = (await east.space.proposals.require(benches.id)).get().value.body
    expect(body).toContain('Revised: ')
    expect(body).toContain(' in the park')
    expect((await east.space.tickets.require(pothole.id)).get().value.service_code).toBe('pothole')
    const metrics = relay.metrics()
    expect(metrics).toMatchObject({ connections: 3, spaces: 1, rejected: {}, refusedFrames: {} })
    expect(metrics.messagesIn).toBeGreaterThan(0)
    expect(metrics.bytesOut).toBeGreaterThan(0)
  })

  it('a district away during a restart catches up on edits made meanwhile; a later client catches up from the relay storage alone', async () => {
    const dataDir = join(tmp, 'restart')
    let relay = await startRelay({ dataDir, spaces: ['city'] })
    cleanup.push(() => relay.close())
    const { port } = relay
    const relayDid = relay.identity.did
    const [north, south, east] = join3(relay.url)
    await north.space.tickets.create({ service_code: 'pothole', district: 'north' })
    await south.space.tickets.create({ service_code: 'graffiti', district: 'south' })
    await converge([north.space, south.space, east.space, relaySpace(relay)])

    east.engine.close() // east goes away
    const benches = await south.space.proposals.create({ title: 'Benches', district: 'south', process: 'pb2026', body: 'Ten benches.' })
    await converge([north.space, south.space, relaySpace(relay)])

    await relay.close()
    const offline = await north.space.tickets.create({ service_code: 'flooding', district: 'north' }) // made while no relay runs
    relay = await startRelay({ dataDir, port })
    expect(relay.identity.did).toBe(relayDid)
    expect(relay.spaces()).toEqual(['city']) // opened from disk at start
    await until(() => north.transport.status === 'open' && south.transport.status === 'open', 'north and south to reconnect')
    ;(await north.space.proposals.require(benches.id)).text('body').insert(0, 'Revised: ')

    const eastAgain = district('east', relay.url, roots.east, cityRoots(), east.space)
    cleanup.push(() => eastAgain.engine.close())
    await converge([north.space, south.space, east.space, relaySpace(relay)])
    await expectSameDocs([north.space, south.space, east.space, relaySpace(relay)])
    expect((await east.space.tickets.require(offline.id)).get().value.service_code).toBe('flooding')
    expect((await east.space.proposals.require(benches.id)).get().value.body).toBe('Revised: Ten benches.')

    for (const d of [north, south, eastAgain]) d.engine.close()
    await relay.close()
    relay = await startRelay({ dataDir, port })
    const late = district('west', relay.url, roots.west, cityRoots())
    cleanup.push(() => late.engine.close())
    await converge([late.space, relaySpace(relay)])
    await expectSameDocs([late.space, north.space, south.space, east.space])
  })

  it('serves /health and /metrics, and refuses upgrades it cannot route', async () => {
    const relay = await relayOf({})
    const health = await fetch(`http://127.0.0.1:${relay.port}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ ok: true })
    expect((await fetch(`http://127.0.0.1:${relay.port}/nothing`)).status).toBe(404)

    const { upgradeStatus } = await import('./upgrade-status')
    expect(await upgradeStatus(`${relay.url}/city`, [])).toBe(400) // no subprotocol on a cabildo path
    expect(await upgradeStatus(`${relay.url}/city/tickets.2026-11`, [])).toBe(404) // plain, without a plain handler
    expect(await upgradeStatus(`${relay.url}/city/tickets.2026-11`, ['cabildo.v1'])).toBe(400)
    expect(await upgradeStatus(`${relay.url}/..`, ['cabildo.v1'])).toBe(404)
    expect(await upgradeStatus(`${relay.url}/city`, ['cabildo.v1'])).toBe(101)

    const metrics = (await (await fetch(`http://127.0.0.1:${relay.port}/metrics`)).json()) as { refusedUpgrades: Record<string, number>; spaces: number }
    expect(metrics.refusedUpgrades).toEqual({ 400: 2, 404: 2 })
    expect(metrics.spaces).toBe(1)
  })
})
