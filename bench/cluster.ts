/**
 * Relay cluster benchmark: end-to-end updates per second and propagation latency (p50, p99)
 * with 1, 2 and 3 relay processes sharing Redis and PostgreSQL.
 *
 * Writers (cabildo districts, each signing its edits) are spread over the members; one observer
 * per member, a plain y-websocket client of the tickets' room, measures for every edit it
 * receives the time from the writer's edit to its arrival: signing, the writer's relay (guard,
 * store, forward), Redis, the other member (guard, store) and its plain room. Observers are
 * plain clients so that they cost this process no signature checks: the writers and observers
 * share one process, and on two cores it must not be what is measured. Each writer repeatedly
 * sets the description of its own ticket; edits made while the previous one is being signed are
 * merged into one envelope, so an observer may see only the last of a burst (the latencies are
 * those of the edits it saw).
 *
 * Uses `REDIS_URL` and `DATABASE_URL` if set; otherwise starts a throwaway redis-server and
 * PostgreSQL from the local binaries and removes them after.
 *
 *   npx tsx bench/cluster.ts [seconds=8] [writers=4] [rates per writer=25,50,100]
 *   BENCH_MEMBERS=1,3 npx tsx bench/cluster.ts   (which cluster sizes to run; default 1,2,3)
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import pg from 'pg'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { createIdentity, loadOrCreateIdentity, type Identity, type Space, type SyncEngine } from '../src/index'
import { fileIdentityStore } from '../src/node/file-identity-store'
import { createSpace } from '../src/sync/space'
import { createWebSocketTransport } from '../src/transports/websocket-transport'
import { startPostgresServer, type PostgresServer } from '../test/helpers/postgres-server'
import { startRedisServer, type RedisServer } from '../test/helpers/redis-server'
import type { MemberConfig } from '../test/integration/cluster-member'

const SECONDS = Number(process.argv[2] ?? 8)
const WRITERS = Number(process.argv[3] ?? 4)
/** Edits per second offered by each writer. */
const RATES = (process.argv[4] ?? '25,50,100').split(',').map(Number)
const MEMBERS = (process.env.BENCH_MEMBERS ?? '1,2,3').split(',').map(Number)

interface Member {
  readonly url: string
  readonly child: ChildProcess
}

interface Client {
  readonly space: Space
  readonly engine: SyncEngine
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

let redis: RedisServer | undefined
let postgres: PostgresServer | undefined
const redisUrl = process.env.REDIS_URL ?? (redis = await startRedisServer()).url
const databaseUrl = process.env.DATABASE_URL ?? (postgres = await startPostgresServer()).connectionString
const root = await mkdtemp(join(tmpdir(), 'cabildo-bench-cluster-'))
const bundle = join(root, 'cluster-member.mjs')
await build({
  entryPoints: [fileURLToPath(new URL('../test/integration/cluster-member.ts', import.meta.url))],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: bundle,
  logLevel: 'silent',
  external: ['pg-native', 'bufferutil', 'utf-8-validate'],
  banner: { js: "import { createRequire as __cabildoRequire } from 'node:module'; const require = __cabildoRequire(import.meta.url);" },
})
const keyFile = join(root, 'relay.jwk.json')
await loadOrCreateIdentity(fileIdentityStore(keyFile))
const tokens: Record<string, string> = {}
for (let i = 0; i < WRITERS; i++) tokens[`w${i}`] = `w${i}`
for (let i = 0; i < 3; i++) tokens[`o${i}`] = `o${i}`
const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 })
const children = new Set<ChildProcess>()
let databases = 0

async function startMember(name: string, database: string): Promise<Member> {
  // Production timings: heads exchanged every 30 s, heartbeats every 2 s.
  const config: MemberConfig = { redis: redisUrl, postgres: database, keyFile, tokens, member: name, resyncEvery: 30_000, heartbeatMs: 2_000, timeoutMs: 10_000 }
  const child = spawn(process.execPath, [bundle, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.add(child)
  let stdout = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  await until(() => /listening (ws:\/\/\S+)/.test(stdout) || child.exitCode !== null, `member ${name}`)
  const url = /listening (ws:\/\/\S+)/.exec(stdout)?.[1]
  if (url === undefined) throw new Error(`member ${name} did not start`)
  return { url, child }
}

function connect(name: string, url: string, identity?: Identity): Client {
  const space = createSpace({ id: 'city', ...(identity === undefined ? {} : { identity }) })
  const transport = createWebSocketTransport({ url: `${url}/city`, WebSocket, token: name, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } })
  return { space, engine: space.sync(transport, { peerId: name, resyncEvery: 0 }) }
}

interface Result {
  readonly members: number
  readonly offered: number
  readonly made: number
  readonly updatesPerSecond: number
  readonly p50: number
  readonly p99: number
  readonly samples: number
}

async function run(memberCount: number, rate: number): Promise<Result> {
  const name = `bench_${process.pid}_${++databases}`
  await admin.query(`CREATE DATABASE ${name}`)
  const database = databaseUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`)
  const members: Member[] = []
  for (let i = 0; i < memberCount; i++) members.push(await startMember(`m${i}`, database))
  const clients: Client[] = []
  const providers: WebsocketProvider[] = []
  try {
    const writers = await Promise.all(Array.from({ length: WRITERS }, async (_, i) => connect(`w${i}`, (members[i % memberCount] as Member).url, await createIdentity())))
    clients.push(...writers)
    const tickets = await Promise.all(writers.map(async (writer, i) => (await writer.space.tickets.create({ service_code: 'bench', district: `d${i}`, description: `w${i}-0` })).id))
    const shard = (tickets[0] as string).split('/')[0] as string
    const observers = members.map((member, i) => {
      const doc = new Y.Doc()
      const provider = new WebsocketProvider(member.url, `city/${shard}`, doc, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, params: { token: `o${i}` }, disableBc: true })
      providers.push(provider)
      return doc
    })
    // Each writer's ticket, known at every observer before the clock starts.
    await until(() => observers.every((doc) => tickets.every((id) => doc.getMap('tickets').has(id))), 'the tickets to reach every observer')

    const sent: number[][] = writers.map(() => [])
    const latencies: number[] = []
    const seen = observers.map(() => writers.map(() => 0))
    for (const [o, doc] of observers.entries()) {
      const records = doc.getMap('tickets')
      doc.on('update', () => {
        const now = performance.now()
        for (const [w, id] of tickets.entries()) {
          // A plain field is a string; a long text field a Y.Text: both print as their text.
          const description = String((records.get(id) as { get(field: string): unknown } | undefined)?.get('description') ?? '')
          const seq = Number(description.split('-')[1] ?? 0)
          const row = seen[o] as number[]
          if (seq > (row[w] as number)) {
            row[w] = seq
            const at = sent[w]?.[seq]
            if (at !== undefined) latencies.push(now - at)
          }
        }
      })
    }

    const entities = await Promise.all(writers.map((writer, i) => writer.space.tickets.require(tickets[i] as string)))
    const started = performance.now()
    const end = started + SECONDS * 1000
    let made = 0
    await Promise.all(
      entities.map(async (entity, w) => {
        const interval = 1000 / rate
        let next = performance.now()
        for (let seq = 1; performance.now() < end; seq++) {
          ;(sent[w] as number[])[seq] = performance.now()
          entity.update({ description: `w${w}-${seq}` })
          made++
          next += interval
          await sleep(Math.max(0, next - performance.now()))
        }
      }),
    )
    const last = sent.map((times) => times.length - 1)
    await until(() => seen.every((row) => row.every((seq, w) => seq >= (last[w] as number))), 'every observer to see every last edit', 120_000)
    const elapsed = (performance.now() - started) / 1000
    const sorted = [...latencies].sort((a, b) => a - b)
    return { members: memberCount, offered: rate * WRITERS, made, updatesPerSecond: made / elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99), samples: sorted.length }
  } finally {
    for (const provider of providers) {
      provider.destroy()
      provider.awareness.destroy() // its timer would keep the process alive
    }
    for (const client of clients) await client.space.close().catch(() => undefined)
    for (const member of members) {
      member.child.kill('SIGTERM')
      await new Promise((resolve) => (member.child.exitCode !== null ? resolve(undefined) : member.child.once('exit', resolve)))
      children.delete(member.child)
    }
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined)
  }
}

try {
  console.log(`cluster bench: ${WRITERS} writers spread over the members, one observer per member, ${SECONDS} s per run (Node ${process.version})`)
  console.log('| members | offered (edits/s) | made | delivered to all (edits/s) | p50 ms | p99 ms | samples |')
  console.log('| --- | --- | --- | --- | --- | --- | --- |')
  for (const rate of RATES) {
    for (const count of MEMBERS) {
      const result = await run(count, rate)
      console.log(`| ${result.members} | ${result.offered} | ${result.made} | ${Math.round(result.updatesPerSecond)} | ${result.p50.toFixed(1)} | ${result.p99.toFixed(1)} | ${result.samples} |`)
    }
  }
} finally {
  for (const child of children) child.kill('SIGKILL')
  await admin.end()
  await redis?.destroy()
  await postgres?.destroy()
  await rm(root, { recursive: true, force: true })
}
