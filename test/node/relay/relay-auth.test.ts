import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createIdentity, type Identity } from '../../../src/index'
import type { PlainConnection, PlainRoomHandler } from '../../../src/node/relay/plain-handler'
import { startRelay } from '../../../src/node/relay/relay'
import { readTokenFile } from '../../../src/node/relay/relay-auth'
import type { Space } from '../../../src/sync/space'
import { converge, district, testCleanup, until } from './relay-fixtures'
import { upgradeStatus } from './upgrade-status'

const tmp = mkdtempSync(join(tmpdir(), 'cabildo-relay-auth-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

let north: Identity
let press: Identity
const roots = (): Record<string, string> => ({ north: north.did })

beforeAll(async () => {
  ;[north, press] = (await Promise.all([createIdentity(), createIdentity()])) as [Identity, Identity]
})

const { cleanup, relayOf } = testCleanup()

const tokenFile = join(tmp, 'tokens.json')
writeFileSync(tokenFile, JSON.stringify({ 'north-secret': 'north', 'press-secret': { identity: 'press', access: 'read' } }))

describe('relay auth', () => {
  it('refuses connections without a token or with a wrong one (401) and admits a valid token', async () => {
    const relay = await relayOf({ tokenFile })
    expect(await upgradeStatus(`${relay.url}/city`, ['cabildo.v1'])).toBe(401)
    expect(await upgradeStatus(`${relay.url}/city?token=guess`, ['cabildo.v1'])).toBe(401)
    expect(await upgradeStatus(`${relay.url}/city?token=north-secret`, ['cabildo.v1'])).toBe(101)
    const bearer = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${relay.url}/city`, ['cabildo.v1'], { headers: { authorization: 'Bearer north-secret' } })
      socket.on('open', () => {
        resolve(101)
        socket.close()
      })
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
    })
    expect(bearer).toBe(101)
    expect(relay.metrics().refusedUpgrades).toEqual({ 401: 2 })
  })

  it('lets a read-only token receive everything while nothing it writes is accepted', async () => {
    const relay = await relayOf({ tokenFile, spaces: ['city'] })
    const writer = district('north', relay.url, north, roots(), undefined, 'north-secret')
    const reader = district('press', relay.url, press, roots(), undefined, 'press-secret')
    cleanup.push(() => writer.engine.close(), () => reader.engine.close())
    await writer.space.tickets.create({ service_code: 'pothole', district: 'north' })
    const space = relay.space('city') as Space
    await converge([writer.space, space])
    await until(() => reader.space.shardNames().length === 1, 'the reader to learn the shard')
    await converge([reader.space, space]) // the reader received everything

    const own = await reader.space.tickets.create({ service_code: 'graffiti', district: 'north' })
    await until(() => (relay.metrics().refusedFrames['read-only'] ?? 0) > 0, 'the relay to drop the reader envelopes')
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await space.tickets.get(own.id)).toBeUndefined()
    expect(await writer.space.tickets.get(own.id)).toBeUndefined()
  })

  it('reads the token file format and refuses a malformed one with E_PARSE', async () => {
    expect(await readTokenFile(tokenFile)).toEqual({ 'north-secret': 'north', 'press-secret': { identity: 'press', access: 'read' } })
    const bad = join(tmp, 'bad.json')
    writeFileSync(bad, JSON.stringify({ token: { identity: 'x', access: 'admin' } }))
    await expect(readTokenFile(bad)).rejects.toMatchObject({ code: 'E_PARSE', details: { format: 'cabildo-token-file' } })
    writeFileSync(bad, '{ not json')
    await expect(readTokenFile(bad)).rejects.toMatchObject({ code: 'E_PARSE' })
    await expect(startRelay({ tokenFile: join(tmp, 'missing.json') })).rejects.toMatchObject({ code: 'E_STORAGE' })
    await expect(startRelay({ tokenFile, tokens: {} })).rejects.toMatchObject({ code: 'E_ARGUMENT' })
  })

  it('hands plain y-websocket upgrades on /<space>/<shard> to the plain handler, with the admission of the auth hook', async () => {
    const handled: Array<{ connection: Omit<PlainConnection, 'socket'>; space: string }> = []
    let closed = false
    const plain: PlainRoomHandler = {
      handle(connection: PlainConnection, space: Space) {
        const { socket, ...rest } = connection
        handled.push({ connection: rest, space: space.id })
        socket.on('message', (data) => socket.send(data)) // an echo room
      },
      async close() {
        closed = true
      },
    }
    const seen: string[] = []
    const relay = await relayOf({
      plain: ({ identity }) => {
        seen.push(identity.did)
        return plain
      },
      authenticate: async (request, target) => (request.url?.includes('key=ok') ? { identity: `${target.protocol}:${target.shard ?? ''}`, access: 'read' } : null),
    })
    expect(seen).toEqual([relay.identity.did])
    expect(await upgradeStatus(`${relay.url}/city/tickets.2026-11`, [])).toBe(401)
    const socket = new WebSocket(`${relay.url}/city/tickets.2026-11?key=ok`)
    const echoed = await new Promise<string>((resolve, reject) => {
      socket.on('open', () => socket.send('ping'))
      socket.on('message', (data) => resolve(String(data)))
      socket.on('error', reject)
    })
    expect(echoed).toBe('ping')
    expect(handled).toEqual([{ connection: { spaceId: 'city', shard: 'tickets.2026-11', identity: 'plain:tickets.2026-11', access: 'read' }, space: 'city' }])
    expect(relay.metrics()).toMatchObject({ plainConnections: 1, rooms: 1, connections: 1 })
    await relay.close()
    expect(closed).toBe(true)
  })
})
