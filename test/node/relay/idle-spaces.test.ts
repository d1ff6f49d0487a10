import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createIdentity, createMemoryStorage, type DocStore, type Identity, type Storage } from '../../../src/index'
import { runRelayCommand } from '../../../src/node/cli/relay'
import { createPlainRooms } from '../../../src/node/relay/plain-rooms'
import type { RelayAdmission } from '../../../src/node/relay/relay-auth'
import { startRelay, type Relay } from '../../../src/node/relay/relay'
import { plainClient, until } from './plain-fixtures'
import { converge, district, testCleanup, type District } from './relay-fixtures'

const tmp = mkdtempSync(join(tmpdir(), 'cabildo-idle-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

let roots: { north: Identity; south: Identity; east: Identity }
const cityRoots = (): Record<string, string> => ({ north: roots.north.did, south: roots.south.did, east: roots.east.did })
beforeAll(async () => {
  const [north, south, east] = await Promise.all([createIdentity(), createIdentity(), createIdentity()])
  roots = { north: north as Identity, south: south as Identity, east: east as Identity }
})

const { cleanup, relayOf } = testCleanup()
let dirs = 0

function join1(name: 'north' | 'south' | 'east', relay: Relay): District {
  const joined = district(name, relay.url, roots[name], cityRoots())
  cleanup.push(() => joined.engine.close())
  return joined
}

/** Whether `client` holds the ticket `id`. */
async function holds(client: District, id: string): Promise<boolean> {
  return (await client.space.tickets.get(id)) != null
}

/** Writes a ticket from `name`, waits until the relay holds it, then leaves. */
async function writeAndLeave(name: 'north' | 'south' | 'east', relay: Relay, serviceCode: string): Promise<string> {
  const writer = join1(name, relay)
  const ticket = await writer.space.tickets.create({ service_code: serviceCode, district: name })
  await until(() => writer.transport.status === 'open', `${name} to connect`)
  await until(() => relay.space('city') !== undefined, 'the relay to open city')
  await converge([writer.space, relay.space('city') as NonNullable<ReturnType<Relay['space']>>])
  writer.engine.close()
  await writer.space.close()
  return ticket.id
}

/** A storage whose stores wait for `release()` before they close, so a test can act while a Space is closing. */
function gatedStorage(): { storage: Storage; closing: () => number; release: () => void } {
  const inner = createMemoryStorage()
  let closing = 0
  let open = (): void => undefined
  let gate = new Promise<void>((resolve) => (open = resolve))
  const storage: Storage = {
    async open(key) {
      const store = await inner.open(key)
      const gated: DocStore = {
        key: store.key,
        load: () => store.load(),
        append: (record) => store.append(record),
        compact: (state) => store.compact(state),
        close: async () => {
          closing++
          await gate
          await store.close()
        },
      }
      return gated
    },
  }
  return {
    storage,
    closing: () => closing,
    release: () => {
      open()
      gate = Promise.resolve()
    },
  }
}

describe('idle Spaces', () => {
  it('a stored Space no connection holds closes after idleCloseMs, and opens again from its store for the next client, which reads everything', async () => {
    const relay = await relayOf({ dataDir: join(tmp, `relay-${++dirs}`), idleCloseMs: 200 })
    const ticketId = await writeAndLeave('north', relay, 'pothole')
    await until(() => relay.metrics().spacesClosedIdle === 1, 'the idle Space to close')
    expect(relay.spaces()).toEqual([])
    expect(relay.space('city')).toBeUndefined()

    const reader = join1('south', relay)
    await until(async () => await holds(reader, ticketId), 'south to read the ticket written before the close')
    expect((await reader.space.tickets.require(ticketId)).get().value.service_code).toBe('pothole')
    expect(relay.spaces()).toEqual(['city'])
    const { spacesClosedIdle, rejected, refusedFrames, refusedUpgrades, storageFailures } = relay.metrics()
    expect({ spacesClosedIdle, rejected, refusedFrames, refusedUpgrades, storageFailures }).toEqual({ spacesClosedIdle: 1, rejected: {}, refusedFrames: {}, refusedUpgrades: {}, storageFailures: {} })
  })

  it('a connection that arrives while the Space is closing waits for the close, then reopens it: nothing is lost, the store is never opened twice', async () => {
    const gated = gatedStorage()
    let upgrades = 0
    const authenticate = async (): Promise<RelayAdmission> => {
      upgrades++
      return { identity: 'anyone', access: 'read-write' }
    }
    const relay = await relayOf({ storage: gated.storage, idleCloseMs: 100, authenticate })
    const first = await writeAndLeave('north', relay, 'pothole')
    await until(() => gated.closing() > 0, 'the idle Space to start closing')
    expect(relay.spaces()).toEqual([])

    // South connects and writes while the store has not closed yet.
    const racer = join1('south', relay)
    const second = await racer.space.tickets.create({ service_code: 'graffiti', district: 'south' })
    await until(() => upgrades === 2, "south's upgrade to reach the relay")
    expect(relay.metrics().connections).toBe(0) // south waits for the close
    gated.release()
    await until(() => relay.space('city') !== undefined, 'the Space to open again')
    await until(async () => await holds(racer, first), 'south to read the ticket written before the close')
    await converge([racer.space, relay.space('city') as NonNullable<ReturnType<Relay['space']>>])
    racer.engine.close()
    await racer.space.close()
    await until(() => relay.metrics().spacesClosedIdle === 2, 'the Space to close again')

    const reader = join1('east', relay)
    await until(async () => await holds(reader, first) && await holds(reader, second.id), 'east to read both tickets')
    const { rejected, refusedUpgrades, storageFailures } = relay.metrics()
    expect({ rejected, refusedUpgrades, storageFailures }).toEqual({ rejected: {}, refusedUpgrades: {}, storageFailures: {} })
  })

  it('a Space whose store fails stays open (it holds what the store lacks) and closes once the store is back', async () => {
    let failing = false
    const storage = createMemoryStorage({
      faults: (operation) => {
        if (failing && (operation === 'append' || operation === 'compact')) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' })
      },
    })
    const relay = await relayOf({ storage, idleCloseMs: 100 })
    const writer = join1('north', relay)
    await until(() => writer.transport.status === 'open', 'north to connect')
    failing = true
    const ticket = await writer.space.tickets.create({ service_code: 'pothole', district: 'north' })
    await until(async () => (await relay.space('city')?.tickets.get(ticket.id)) !== undefined, 'the relay to hold the ticket')
    writer.engine.close()
    await until(() => relay.metrics().connections === 0, 'north to leave')
    await until(() => (relay.metrics().storageFailures.ENOSPC ?? 0) > 0, 'a storage failure')
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(relay.spaces()).toEqual(['city'])
    expect(relay.metrics().spacesClosedIdle).toBe(0)

    failing = false
    await until(() => relay.metrics().spacesClosedIdle === 1, 'the Space to close once stored', 20_000)
    const reader = join1('south', relay)
    await until(async () => await holds(reader, ticket.id), 'south to read the ticket the store lacked for a while')
  })

  it('Spaces stay open in a relay without a store, when listed in `spaces`, with a federation peer, and while a plain y-websocket client is connected', async () => {
    const stored = await relayOf({ dataDir: join(tmp, `relay-${++dirs}`), idleCloseMs: 100 })
    const inMemory = await relayOf({ idleCloseMs: 100 })
    const listed = await relayOf({ dataDir: join(tmp, `relay-${++dirs}`), idleCloseMs: 100, spaces: ['city'] })
    const federated = await relayOf({ dataDir: join(tmp, `relay-${++dirs}`), idleCloseMs: 100, peers: [inMemory.url] })
    const plain = await relayOf({ dataDir: join(tmp, `relay-${++dirs}`), idleCloseMs: 100, plain: ({ identity }) => createPlainRooms({ identity, accept: ['city/*'], pingEvery: 0 }) })
    const reader = plainClient(plain.url, 'city/tickets.2026-11', {})
    cleanup.push(() => reader.destroy())
    await until(() => plain.metrics().plainConnections === 1, 'the plain client to connect')

    for (const relay of [stored, inMemory, listed, federated, plain]) await writeAndLeave('north', relay, 'pothole')
    // The stored relay is the control: once its Space closed, the others had the same time to.
    await until(() => stored.metrics().spacesClosedIdle === 1, 'the control Space to close')
    await new Promise((resolve) => setTimeout(resolve, 300))
    for (const relay of [inMemory, listed, federated, plain]) {
      expect(relay.spaces()).toContain('city')
      expect(relay.metrics().spacesClosedIdle).toBe(0)
    }

    reader.destroy()
    await until(() => plain.metrics().spacesClosedIdle === 1, 'the Space to close once the plain client left')
  })

  it('refuses an invalid idle time: startRelay with E_ARGUMENT, the CLI with a usage error', async () => {
    await expect(startRelay({ idleCloseMs: -1 })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { argument: 'idleCloseMs' } })
    let stderr = ''
    const code = await runRelayCommand(['--port', '0', '--idle-close', 'soon'], { stdout: () => undefined, stderr: (text) => (stderr += text), signal: AbortSignal.abort() })
    expect(code).toBe(2)
    expect(stderr).toContain('--idle-close must be a number of seconds')
  })
})
