/**
 * Relay members of one cluster in this process, sharing a real redis-server and a real
 * PostgreSQL (both throwaway): what each member's clients write reaches the clients of the
 * others, presence included; a member started late catches up from the store; start-up
 * failures are typed. The child-process acceptance (kill -9, outages) is in
 * test/integration/relay-cluster.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createIdentity, encodeSyncMessage, type Identity } from '../../../src/index'
import { createRedisTransport } from '../../../src/node/cluster/redis-transport'
import { startRelay, type Relay, type RelayOptions } from '../../../src/node/relay/relay'
import { createMemoryStorage } from '../../../src/storage/memory-storage'
import { expectSameDocs } from '../../sync/sync-fixtures'
import { startPostgresServer, type PostgresServer } from '../../helpers/postgres-server'
import { startRedisServer, type RedisServer } from '../../helpers/redis-server'
import { converge, district, until } from '../relay/relay-fixtures'

let redis: RedisServer
let postgres: PostgresServer
let north: Identity
let south: Identity
let schemas = 0
const roots = (): Record<string, string> => ({ north: north.did, south: south.did })

beforeAll(async () => {
  ;[redis, postgres, north, south] = await Promise.all([startRedisServer(), startPostgresServer(), createIdentity(), createIdentity()])
}, 60_000)
afterAll(async () => {
  await redis?.destroy()
  await postgres?.destroy()
})

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

/** Cluster options for a test: quick heartbeats, a schema of its own in PostgreSQL. */
function clusterOf(schema: string): (extra?: Partial<RelayOptions>) => Promise<Relay> {
  return async (extra = {}) => {
    const relay = await startRelay({
      redis: { url: redis.url, heartbeatMs: 100, timeoutMs: 1_000 },
      postgres: { connectionString: postgres.connectionString, schema, poolSize: 4 },
      resyncEvery: 0,
      ...extra,
    })
    cleanup.push(() => relay.close())
    return relay
  }
}

function spaceOf(relay: Relay) {
  const space = relay.space('city')
  if (space === undefined) throw new Error('the relay has no Space city')
  return space
}

describe('relay cluster (in one process)', () => {
  it('two members sharing Redis and PostgreSQL: districts on different members converge, presence crosses; a member started late catches up from the store', async () => {
    const member = clusterOf(`cluster_${process.pid}_${++schemas}`)
    const a = await member()
    const b = await member()
    const atA = district('north', a.url, north, roots())
    const atB = district('south', b.url, south, roots())
    cleanup.push(() => atA.space.close(), () => atB.space.close())

    const pothole = await atA.space.tickets.create({ service_code: 'pothole', district: 'north' })
    const benches = await atB.space.proposals.create({ title: 'Benches', district: 'south', process: 'pb2026', body: 'Ten benches.' })
    await until(() => a.metrics().cluster?.members === 1 && b.metrics().cluster?.members === 1, 'the members to meet')
    await converge([atA.space, atB.space])
    ;(await atA.space.proposals.require(benches.id)).text('body').insert(0, 'Revised: ')
    await converge([atA.space, atB.space, spaceOf(a), spaceOf(b)])
    expect((await atB.space.tickets.require(pothole.id)).get().value.service_code).toBe('pothole')
    expect((await atB.space.proposals.require(benches.id)).get().value.body).toBe('Revised: Ten benches.')

    // Presence set at one member's client is seen at the other's.
    const presenceA = await atA.space.presence(benches.shard)
    const presenceB = await atB.space.presence(benches.shard)
    presenceA.setLocalStateField('user', { name: 'Ana' })
    await until(() => [...presenceB.getStates().values()].some((state) => (state as { user?: { name?: string } }).user?.name === 'Ana'), 'Ana\'s presence at the other member')

    // A third member, started after everything was written, with no client: it opens the Space
    // from PostgreSQL at start and serves everything to a client that connects to it.
    const c = await member()
    expect(c.spaces()).toEqual(['city'])
    const late = district('late', c.url, await createIdentity(), roots())
    cleanup.push(() => late.space.close())
    await converge([atA.space, late.space])
    await expectSameDocs([atA.space, atB.space, late.space, spaceOf(c)])
    expect(a.metrics()).toMatchObject({ cluster: { redis: 'ready', members: 2 }, rejected: {}, storageFailures: {} })
    expect(a.peerId).not.toBe(b.peerId)
  })

  it('members sharing one key tell each other apart by their member names', async () => {
    const identity = await createIdentity()
    const member = clusterOf(`cluster_${process.pid}_${++schemas}`)
    const a = await member({ identity, redis: { url: redis.url, member: 'a', heartbeatMs: 100, timeoutMs: 1_000 } })
    const b = await member({ identity, redis: { url: redis.url, member: 'b', heartbeatMs: 100, timeoutMs: 1_000 } })
    expect([a.peerId, b.peerId]).toEqual([`relay:${identity.did}#a`, `relay:${identity.did}#b`])
    const atA = district('north', a.url, north, roots())
    const atB = district('south', b.url, south, roots())
    cleanup.push(() => atA.space.close(), () => atB.space.close())
    await atA.space.tickets.create({ service_code: 'graffiti', district: 'north' })
    await until(() => a.metrics().cluster?.members === 1, 'a and b to meet')
    await converge([atA.space, atB.space])
    expect(b.metrics().cluster).toEqual({ redis: 'ready', member: 'b', members: 1 })
  })

  it('trusts the Redis bus no more than a WebSocket: tampered envelopes from a peer on it are refused and change nothing', async () => {
    const member = clusterOf(`cluster_${process.pid}_${++schemas}`)
    const a = await member()
    const atA = district('north', a.url, north, roots())
    cleanup.push(() => atA.space.close())
    const ticket = await atA.space.tickets.create({ service_code: 'pothole', district: 'north' })
    await until(() => a.space('city') !== undefined, 'the member to open the Space')
    await converge([atA.space, spaceOf(a)])
    const before = spaceOf(a).signedDocs.get(ticket.shard)?.heads()
    // A process on the bus that is no relay: it says hello for the Space, then sends tampered copies of real envelopes.
    const mallory = createRedisTransport({ url: redis.url, channel: 'city', heartbeatMs: 100 })
    cleanup.push(() => mallory.close())
    mallory.on('peer', ({ peerId }) => {
      mallory.send(peerId, encodeSyncMessage({ type: 'hello', space: 'city', ask: true }))
      const tampered = (atA.space.signedDocs.get(ticket.shard)?.log() ?? []).map(({ bytes }) => {
        const copy = bytes.slice()
        const at = copy.length >> 1 // inside the signed body: the signature no longer matches
        copy[at] = (copy[at] ?? 0) ^ 0x01
        return copy
      })
      mallory.send(peerId, encodeSyncMessage({ type: 'envelopes', doc: ticket.shard, envelopes: tampered }))
    })
    mallory.connect({ peerId: 'mallory' })
    await until(() => Object.keys(a.metrics().rejected).length > 0, 'the tampered envelopes to be refused')
    expect(spaceOf(a).signedDocs.get(ticket.shard)?.heads()).toEqual(before)
    await atA.space.tickets.create({ service_code: 'streetlight', district: 'north' })
    await converge([atA.space, spaceOf(a)])
  })

  it('fails to start with typed errors: E_NETWORK without Redis, E_STORAGE without PostgreSQL, E_ARGUMENT for two stores', async () => {
    await expect(startRelay({ redis: { url: 'redis://127.0.0.1:1', connectTimeoutMs: 300 } })).rejects.toMatchObject({ code: 'E_NETWORK', details: { cause: 'ECONNREFUSED' } })
    await expect(startRelay({ postgres: { connectionString: 'postgres://postgres@127.0.0.1:1/postgres', retry: { attempts: 1 } } })).rejects.toMatchObject({ code: 'E_STORAGE' })
    await expect(startRelay({ storage: createMemoryStorage(), postgres: postgres.connectionString })).rejects.toMatchObject({ code: 'E_ARGUMENT' })
    await expect(startRelay({ redis: { url: redis.url, member: 'no spaces allowed' } })).rejects.toMatchObject({ code: 'E_ARGUMENT' })
  })
})
