/**
 * The relay cluster with real processes: relay members are child processes (a bundle of
 * test/integration/cluster-member.ts, and the `cabildo relay` command itself), sharing a real
 * redis-server and a real PostgreSQL (both throwaway, on 127.0.0.1). Cabildo districts and plain
 * y-websocket clients connect to different members, or through a TCP balancer (the failover a
 * production load balancer gives: a client reconnects to one URL and lands on a live member).
 *
 * - two members: cabildo Spaces and plain clients on different processes converge, presence crosses;
 * - three members: one is killed with SIGKILL mid-edit, its clients fail over, nothing is lost,
 *   in the clients or in the store;
 * - Redis is restarted mid-session: members keep serving, then catch up with each other;
 * - PostgreSQL is stopped: writes fail with E_STORAGE, sync goes on in memory, and once it is back
 *   the store holds everything.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type * as Y from 'yjs'
import { createIdentity, loadOrCreateIdentity, openSpace, type Identity, type Space } from '../../src/index'
import { createPrefixedStorage } from '../../src/node/cluster/prefixed-storage'
import { fileIdentityStore } from '../../src/node/file-identity-store'
import { createPostgresStorage } from '../../src/node/postgres-storage'
import type { RelayMetrics } from '../../src/node/relay/relay-metrics'
import { startPostgresServer, type PostgresServer } from '../helpers/postgres-server'
import { startRedisServer, type RedisServer } from '../helpers/redis-server'
import { startTcpBalancer, type TcpBalancer } from '../helpers/tcp-balancer'
import { converge, district, type District } from '../node/relay/relay-fixtures'
import { plainClient, until, type PlainClient } from '../node/relay/plain-fixtures'
import type { MemberConfig } from './cluster-member'

const TOKENS = { 'token-north': 'north', 'token-south': 'south', 'token-ana': 'ana', 'token-bea': 'bea' }

let redis: RedisServer
let postgres: PostgresServer
let admin: pg.Pool
let root: string
let memberBundle: string
let cliBundle: string
let keyFile: string
let tokenFile: string
let northRoot: Identity
let southRoot: Identity
let databases = 0
const roots = (): Record<string, string> => ({ north: northRoot.did, south: southRoot.did })

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cabildo-cluster-'))
  memberBundle = join(root, 'cluster-member.mjs')
  cliBundle = join(root, 'cli.mjs')
  // Bundles run with plain `node`: a member starts in a fraction of tsx's time on a busy machine.
  const bundle = (entry: string, outfile: string) =>
    build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'silent',
      external: ['pg-native', 'bufferutil', 'utf-8-validate'],
      banner: { js: "import { createRequire as __cabildoRequire } from 'node:module'; const require = __cabildoRequire(import.meta.url);" },
    })
  ;[redis, postgres, northRoot, southRoot] = await Promise.all([
    startRedisServer(),
    startPostgresServer(),
    createIdentity(),
    createIdentity(),
    bundle(fileURLToPath(new URL('./cluster-member.ts', import.meta.url)), memberBundle),
    bundle(fileURLToPath(new URL('../../src/cli.ts', import.meta.url)), cliBundle),
  ])
  admin = new pg.Pool({ connectionString: postgres.connectionString, max: 2 })
  admin.on('error', () => undefined)
  // One key for every member: plain clients' client ids are vouched for by the same relay key
  // whichever member they reach.
  keyFile = join(root, 'relay.jwk.json')
  await loadOrCreateIdentity(fileIdentityStore(keyFile))
  tokenFile = join(root, 'tokens.json')
  await writeFile(tokenFile, JSON.stringify(TOKENS))
}, 120_000)
afterAll(async () => {
  await admin?.end()
  await redis?.destroy()
  await postgres?.destroy()
  await rm(root, { recursive: true, force: true })
})

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
  if (!redis.running) await redis.start()
  if (!postgres.running) await postgres.start()
}, 60_000)

/** A fresh database for a test: the members' shared store. */
async function freshDatabase(): Promise<string> {
  const name = `cluster_${process.pid}_${++databases}`
  await admin.query(`CREATE DATABASE ${name}`)
  return postgres.connectionString.replace(/\/postgres$/, `/${name}`)
}

/** A relay member running in a child process. */
interface Member {
  readonly name: string
  readonly url: string
  readonly port: number
  readonly peerId: string
  readonly child: ChildProcess
  /** Everything it wrote to stderr. */
  readonly stderr: () => string
  metrics(): Promise<RelayMetrics>
  /** Kills it with `signal` and waits for it to exit. */
  kill(signal: NodeJS.Signals): Promise<void>
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Spawns `args` with node and waits for the member to print its URL and peer id. */
async function spawnMember(name: string, args: string[], parse: (stdout: string) => { url: string; peerId: string } | undefined): Promise<Member> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)))
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    await exited(child)
  }
  cleanup.push(() => kill('SIGKILL'))
  await until(() => parse(stdout) !== undefined || child.exitCode !== null, `member ${name} to start`, 60_000)
  const started = parse(stdout)
  if (started === undefined) throw new Error(`member ${name} exited (${child.exitCode}):\n${stdout}\n${stderr}`)
  const port = Number(new URL(started.url).port)
  return {
    name,
    ...started,
    port,
    child,
    stderr: () => stderr,
    metrics: async () => (await (await fetch(`http://127.0.0.1:${port}/metrics`)).json()) as RelayMetrics,
    kill,
  }
}

/** A member from the test's script: plain rooms for `city/*`, quick heartbeats. */
function scriptMember(name: string, database: string): Promise<Member> {
  const config: MemberConfig = { redis: redis.url, postgres: database, keyFile, tokens: TOKENS, member: name }
  return spawnMember(name, [memberBundle, JSON.stringify(config)], (stdout) => {
    const match = /listening (ws:\/\/\S+) (\S+)/.exec(stdout)
    return match === null ? undefined : { url: match[1] as string, peerId: match[2] as string }
  })
}

/** A member started as `cabildo relay --redis ... --postgres ...`, its key copied into its data directory. */
async function cliMember(name: string, database: string): Promise<Member> {
  const data = join(root, `data-${name}-${databases}`)
  await mkdir(data, { recursive: true })
  await copyFile(keyFile, join(data, 'relay.jwk.json'))
  const args = [cliBundle, 'relay', '--port', '0', '--redis', redis.url, '--postgres', database, '--data', data, '--token-file', tokenFile, '--space', 'city']
  return spawnMember(name, args, (stdout) => {
    const url = /listening on (ws:\/\/\S+)/.exec(stdout)?.[1]
    const peerId = /peer id (\S+)\)/.exec(stdout)?.[1]
    return url === undefined || peerId === undefined ? undefined : { url, peerId }
  })
}

/** Waits until every member hears from the others on Redis. */
async function meet(members: readonly Member[]): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const all = await Promise.all(members.map((member) => member.metrics()))
    if (all.every((metrics) => metrics.cluster?.redis === 'ready' && metrics.cluster.members === members.length - 1)) return
    if (Date.now() > deadline) throw new Error(`the members did not meet: ${JSON.stringify(all.map((metrics) => metrics.cluster))}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function at(name: string, url: string, identity: Identity): District {
  const replica = district(name, url, identity, roots(), undefined, `token-${name}`)
  cleanup.push(() => replica.space.close())
  return replica
}

function plainAt(url: string, token: string): PlainClient {
  const client = plainClient(url, 'city/process.p1', { token })
  cleanup.push(() => client.destroy())
  return client
}

function body(doc: Y.Doc, id: string): string {
  return ((doc.getMap('proposals').get(id) as Y.Map<unknown> | undefined)?.get('body') as Y.Text | undefined)?.toString() ?? ''
}

async function bodyOf(space: Space, id: string): Promise<string> {
  return (await space.proposals.get(id))?.get().value.body ?? ''
}

/** Opens the Space `city` from the members' PostgreSQL store (not from any member), in this process. */
async function fromStore(database: string, use: (space: Space) => Promise<boolean>): Promise<boolean> {
  const storage = createPostgresStorage({ connectionString: database, poolSize: 2 })
  const space = await openSpace({ id: 'city', storage: createPrefixedStorage(storage, 'city/') })
  try {
    for (const shard of space.shardNames()) await space.doc(shard)
    return await use(space)
  } finally {
    await space.close()
    await storage.close()
  }
}

describe('relay cluster (child processes, Redis and PostgreSQL)', () => {
  it('two members: cabildo Spaces and plain y-websocket clients connected to different processes converge; presence crosses', async () => {
    const database = await freshDatabase()
    const [a, b] = await Promise.all([scriptMember('a', database), scriptMember('b', database)])
    await meet([a, b])
    const north = at('north', a.url, northRoot)
    const south = at('south', b.url, southRoot)
    const proposal = await north.space.proposals.create({ title: 'Benches', district: 'north', process: 'p1', body: 'Ten benches.' })
    await converge([north.space, south.space], 30_000)
    const ana = plainAt(a.url, 'token-ana')
    const bea = plainAt(b.url, 'token-bea')
    await until(() => body(ana.doc, proposal.id) === 'Ten benches.' && body(bea.doc, proposal.id) === 'Ten benches.', 'the plain clients to read the proposal', 30_000)

    const text = (doc: Y.Doc) => (doc.getMap('proposals').get(proposal.id) as Y.Map<unknown>).get('body') as Y.Text
    text(ana.doc).insert(0, '[ana] ')
    text(bea.doc).insert(text(bea.doc).length, ' [bea]')
    ;(await north.space.proposals.require(proposal.id)).text('body').insert(0, '[north] ')
    ;(await south.space.proposals.require(proposal.id)).text('body').insert(0, '[south] ')
    const all = (value: string) => ['[ana]', '[bea]', '[north]', '[south]', 'Ten benches.'].every((mark) => value.includes(mark))
    await until(async () => {
      const bodies = [await bodyOf(north.space, proposal.id), await bodyOf(south.space, proposal.id), body(ana.doc, proposal.id), body(bea.doc, proposal.id)]
      return all(bodies[0] as string) && bodies.every((value) => value === bodies[0])
    }, 'the four writers to converge', 30_000)
    await converge([north.space, south.space], 30_000)

    const presenceNorth = await north.space.presence(proposal.shard)
    const presenceSouth = await south.space.presence(proposal.shard)
    presenceNorth.setLocalStateField('user', { name: 'Nora' })
    await until(() => [...presenceSouth.getStates().values()].some((state) => (state as { user?: { name?: string } }).user?.name === 'Nora'), 'north\'s presence at south', 30_000)
    expect((await a.metrics()).rejected).toEqual({})
    expect((await b.metrics()).rejected).toEqual({})
  }, 180_000)

  it('three members, one killed with SIGKILL mid-edit: its clients fail over through the balancer and no edit is lost, in the clients or the store', async () => {
    const database = await freshDatabase()
    const [a, b] = await Promise.all([scriptMember('a', database), scriptMember('b', database)])
    const c = await cliMember('c', database)
    await meet([a, b, c])
    const balancer: TcpBalancer = await startTcpBalancer([a.port])
    cleanup.push(() => balancer.close())
    // North and the plain client Ana reach member a through the balancer; south is on the CLI member c.
    const north = at('north', balancer.url, northRoot)
    const south = at('south', c.url, southRoot)
    const proposal = await north.space.proposals.create({ title: 'Benches', district: 'north', process: 'p1', body: 'Ten benches.' })
    const ana = plainAt(balancer.url, 'token-ana')
    await until(() => body(ana.doc, proposal.id) === 'Ten benches.', 'ana to read the proposal', 30_000)
    expect(north.engine.peers().map((peer) => peer.peerId)).toEqual([a.peerId])
    balancer.targets = [a.port, b.port, c.port]

    // Both write without pause: north a ticket per edit, ana a marker per edit.
    const tickets: string[] = []
    let writing = true
    const text = () => (ana.doc.getMap('proposals').get(proposal.id) as Y.Map<unknown>).get('body') as Y.Text
    cleanup.push(() => {
      writing = false
    })
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        tickets.push((await north.space.tickets.create({ service_code: `edit-${i}`, district: 'north' })).id)
        text().insert(text().length, ` [ana-${i}]`)
        await new Promise((resolve) => setTimeout(resolve, 15))
      }
    })()
    await until(async () => tickets.length >= 20 && (await south.space.tickets.get(tickets[10] as string)) !== undefined && (await bodyOf(south.space, proposal.id)).includes('[ana-10]'), 'edits before the kill, seen at south', 30_000)
    // Acknowledged: what the other side of the cluster has seen (north is still writing).
    const acknowledged = (await Promise.all(tickets.map(async (id) => ((await south.space.tickets.get(id)) === undefined ? undefined : id)))).filter((id) => id !== undefined)
    await a.kill('SIGKILL')
    const atKill = tickets.length
    await until(() => tickets.length >= atKill + 20 && north.engine.peers().some((peer) => peer.peerId !== a.peerId), 'edits after the kill, north reconnected', 60_000)
    writing = false
    await writer

    const markers = tickets.map((_, i) => `[ana-${i}]`)
    await converge([north.space, south.space], 60_000)
    await until(async () => markers.every((marker) => body(ana.doc, proposal.id).includes(marker)) && (await bodyOf(south.space, proposal.id)) === body(ana.doc, proposal.id), 'ana\'s edits everywhere', 60_000)
    for (const id of tickets) expect(await south.space.tickets.get(id), id).toBeDefined()
    expect(acknowledged.length).toBeGreaterThan(0)
    expect(ana.closeCodes.filter((code) => code >= 4400 && code < 4500)).toEqual([]) // never refused: the same key vouches on every member
    expect(north.engine.peers().map((peer) => peer.peerId)).not.toContain(a.peerId)
    // The store holds every edit, acknowledged or not (read by this process, not through a member).
    await until(
      () =>
        fromStore(database, async (stored) => {
          for (const id of tickets) if ((await stored.tickets.get(id)) === undefined) return false
          return (await bodyOf(stored, proposal.id)) === body(ana.doc, proposal.id)
        }),
      'the store to hold every edit',
      60_000,
    )
    expect((await b.metrics()).rejected).toEqual({})
    expect((await c.metrics()).rejected).toEqual({})
  }, 240_000)

  it('Redis restarted mid-session: each member keeps serving its clients, and the cluster catches up once Redis is back', async () => {
    const database = await freshDatabase()
    const [a, b] = await Promise.all([scriptMember('a', database), scriptMember('b', database)])
    await meet([a, b])
    const north = at('north', a.url, northRoot)
    const south = at('south', b.url, southRoot)
    await north.space.tickets.create({ service_code: 'before', district: 'north' })
    await converge([north.space, south.space], 30_000)

    await redis.stop()
    await until(async () => (await a.metrics()).cluster?.redis === 'down' && (await b.metrics()).cluster?.redis === 'down', 'the members to see Redis down', 30_000)
    const during = [
      (await north.space.tickets.create({ service_code: 'during-north', district: 'north' })).id,
      (await south.space.tickets.create({ service_code: 'during-south', district: 'south' })).id,
    ]
    // A second client of member a still syncs with north through a alone.
    const neighbour = at('south', a.url, southRoot)
    await until(async () => (await neighbour.space.tickets.get(during[0] as string)) !== undefined, 'member a to keep serving its clients', 30_000)

    await redis.start()
    await meet([a, b])
    await converge([north.space, south.space, neighbour.space], 60_000)
    for (const id of during) expect(await south.space.tickets.get(id)).toBeDefined()
  }, 180_000)

  it('PostgreSQL stopped: writes surface E_STORAGE, sync goes on in memory, and once it is back the store holds everything', async () => {
    const database = await freshDatabase()
    const [a, b] = await Promise.all([scriptMember('a', database), scriptMember('b', database)])
    await meet([a, b])
    const north = at('north', a.url, northRoot)
    const south = at('south', b.url, southRoot)
    const first = await north.space.tickets.create({ service_code: 'before', district: 'north' })
    await converge([north.space, south.space], 30_000)

    await postgres.stop()
    const during: string[] = []
    for (let i = 0; i < 5; i++) during.push((await north.space.tickets.create({ service_code: `during-${i}`, district: 'north' })).id)
    await until(() => /storage E_STORAGE (ECONNREFUSED|ECONNRESET|57P01)/.test(a.stderr()), 'member a to report the failures', 30_000)
    await converge([north.space, south.space], 30_000)
    expect(Object.keys((await a.metrics()).storageFailures).length).toBeGreaterThan(0)

    await postgres.start()
    await until(
      () =>
        fromStore(database, async (stored) => {
          for (const id of [first.id, ...during]) if ((await stored.tickets.get(id)) === undefined) return false
          return true
        }).catch(() => false),
      'the store to hold every ticket',
      60_000,
    )
  }, 180_000)
})
