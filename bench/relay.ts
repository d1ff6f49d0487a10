/**
 * A relay under load: one relay on 127.0.0.1 (in memory) and N client Spaces in the same
 * process, printed as one Markdown table per N.
 *
 *   npx tsx bench/relay.ts [--clients 50,200] [--seconds 10] [--rate 2]
 *   node --expose-gc --import tsx bench/relay.ts   (lets the "after" memory figure follow a GC)
 *
 * - rooms: one Space id per 10 clients; every client has its own identity (`createIdentity`) and
 *   connects with the WebSocket transport (`ws`), as a district laptop would;
 * - edits: each client creates one ticket, then for `--seconds` updates its `status_notes` at
 *   `--rate` edits per second (timers staggered by a seeded generator); the note carries the send
 *   time (`performance.timeOrigin + performance.now()`);
 * - envelopes delivered per second: the sum over clients of `engine.stats().envelopesReceived`
 *   during the edit window, divided by its length;
 * - propagation latency: from the send time to the moment another client of the same room sees
 *   the note in a remote change of `space.tickets.observe` (p50, p99 over every observation);
 * - memory: `process.memoryUsage().rss` of the process before the clients connect, the highest
 *   value sampled while they edit, and after every client closed (after a GC when `--expose-gc`);
 * - convergence: after the edits stop, engines resync until every client and the relay's replica
 *   of a room hold the same state vector of every document, and every client's last note is the
 *   value all of its room hold (no lost update).
 *
 * Clients and relay share one process, hence one event loop: the figures are a floor for a
 * relay on its own machine, not a ceiling.
 */
import { cpus } from 'node:os'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { createIdentity, createSpace, createWebSocketTransport, MANIFEST_DOC, type Space, type SyncEngine } from '../src/index'
import { startRelay, type Relay } from '../src/node/relay/relay'
import { createSeededRandom } from '../src/transports/seeded-random'

const ROOM_SIZE = 10
const SHARD = 'tickets.2026-11'
const REQUESTED = '2026-11-24T09:30:00Z'
const CONVERGE_TIMEOUT_MS = 30_000

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback
}

const CLIENTS = argument('clients', '50,200').split(',').map(Number)
const SECONDS = Number(argument('seconds', '10'))
const RATE = Number(argument('rate', '2'))

const now = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const mb = (bytes: number): string => `${fmt(bytes / 1024 / 1024)} MB`
const gc = (globalThis as { gc?: () => void }).gc

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

interface Client {
  readonly space: Space
  readonly engine: SyncEngine
  readonly room: string
  ticketId: string
  lastNote: string
}

async function collectGarbage(): Promise<void> {
  if (!gc) return
  for (let i = 0; i < 3; i++) {
    gc()
    await sleep(50)
  }
}

/** The state vector of every document of `spaces`, compared; true when all hold the same. */
async function sameState(spaces: readonly Space[]): Promise<boolean> {
  const names = [MANIFEST_DOC, ...new Set(spaces.flatMap((space) => space.shardNames()))]
  for (const name of names) {
    const vectors = await Promise.all(spaces.map(async (space) => Y.encodeStateVector(await space.doc(name)).join(',')))
    if (vectors.some((vector) => vector !== vectors[0])) return false
  }
  return true
}

async function run(n: number): Promise<Array<[string, string]>> {
  await collectGarbage()
  const rssBefore = process.memoryUsage().rss
  const relay: Relay = await startRelay({ host: '127.0.0.1', port: 0 })
  const rnd = createSeededRandom(n)
  const latencies: number[] = []
  const clients: Client[] = []
  const rooms = Math.ceil(n / ROOM_SIZE)
  const identities = await Promise.all(Array.from({ length: n }, () => createIdentity()))

  const connectStart = performance.now()
  for (let i = 0; i < n; i++) {
    const room = `room-${Math.floor(i / ROOM_SIZE)}`
    const space = createSpace({ id: room, identity: identities[i] as (typeof identities)[number] })
    await space.doc(SHARD)
    space.tickets.observe((change) => {
      if (change.origin !== 'remote') return
      const at = now()
      for (const { id } of change.changes) {
        void space.tickets.get(id).then((entity) => {
          const note = entity?.get().value.status_notes
          const sent = note === undefined ? Number.NaN : Number(note.split(' ')[1])
          if (Number.isFinite(sent)) latencies.push(at - sent)
        })
      }
    })
    const transport = createWebSocketTransport({ url: `${relay.url}/${room}`, WebSocket })
    const engine = space.sync(transport, { peerId: `client-${i}` })
    clients.push({ space, engine, room, ticketId: '', lastNote: '' })
  }
  // Everyone creates its ticket; then wait until every room holds every ticket.
  for (const [i, client] of clients.entries()) {
    const ticket = await client.space.tickets.create({ service_code: 'pothole', district: 'north', requested_datetime: REQUESTED, status_notes: `client-${i} ${now()}` })
    client.ticketId = ticket.id
  }
  await converge(clients, relay)
  const connectMs = performance.now() - connectStart
  latencies.length = 0

  // Steady edits.
  const received = (): number => clients.reduce((sum, c) => sum + c.engine.stats().envelopesReceived, 0)
  const receivedBefore = received()
  const messagesBefore = relay.metrics().messagesOut
  let rssPeak = process.memoryUsage().rss
  let edits = 0
  const timers: Array<ReturnType<typeof setInterval>> = []
  const editStart = performance.now()
  for (const [i, client] of clients.entries()) {
    const edit = (): void => {
      void client.space.tickets.get(client.ticketId).then((ticket) => {
        client.lastNote = `client-${i} ${now()}`
        ticket?.update({ status_notes: client.lastNote })
        edits++
      })
    }
    const start = setTimeout(() => timers.push(setInterval(edit, 1000 / RATE)), rnd.next() * (1000 / RATE))
    timers.push(start)
  }
  const sampler = setInterval(() => void (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 250)
  await sleep(SECONDS * 1000)
  for (const timer of timers) clearInterval(timer)
  const editMs = performance.now() - editStart
  const delivered = received() - receivedBefore
  const relayMessages = relay.metrics().messagesOut - messagesBefore

  // Drain and check convergence.
  const drainStart = performance.now()
  const converged = await converge(clients, relay).then(() => true, () => false)
  const drainMs = performance.now() - drainStart
  clearInterval(sampler)
  let lost = 0
  for (const client of clients) {
    for (const other of clients.filter((c) => c.room === client.room)) {
      const ticket = await other.space.tickets.get(client.ticketId)
      if (ticket?.get().value.status_notes !== client.lastNote) lost++
    }
  }
  const metrics = relay.metrics()

  // Close every client, then measure what the relay keeps.
  for (const client of clients) client.engine.close()
  await Promise.all(clients.map((c) => c.space.close()))
  clients.length = 0
  await sleep(500)
  await collectGarbage()
  const rssAfter = process.memoryUsage().rss
  const open = relay.metrics().connections
  await relay.close()

  latencies.sort((a, b) => a - b)
  return [
    ['clients / rooms', `${n} / ${rooms} (${ROOM_SIZE} per room), ${fmt(connectMs)} ms to connect, create a ticket each and converge`],
    ['edits', `${fmt(edits)} in ${fmt(editMs / 1000, 1)} s (${fmt((edits / editMs) * 1000)}/s; ${RATE}/s per client)`],
    ['envelopes delivered to clients', `${fmt((delivered / editMs) * 1000)}/s (${fmt(delivered)} in total)`],
    ['relay data frames sent', `${fmt((relayMessages / editMs) * 1000)}/s`],
    ['propagation latency p50 / p99', `${fmt(percentile(latencies, 50), 1)} ms / ${fmt(percentile(latencies, 99), 1)} ms (${fmt(latencies.length)} observations, max ${fmt(latencies.at(-1) ?? Number.NaN)} ms)`],
    ['process RSS before / peak during / after close', `${mb(rssBefore)} / ${mb(rssPeak)} / ${mb(rssAfter)}${gc ? ' (after GC)' : ' (no --expose-gc)'}`],
    ['converged (state vectors equal per room, relay included)', `${converged ? 'yes' : 'NO'}, ${fmt(drainMs)} ms after the last edit; ${lost} lost updates; ${open} connections left open`],
    ['relay refused / rejected', `${JSON.stringify(metrics.refusedFrames)} / ${JSON.stringify(metrics.rejected)}; closed: ${JSON.stringify(metrics.closedConnections)}`],
  ]
}

/** Waits until every room (its clients and the relay's replica) holds the same state of every document. */
async function converge(clients: readonly Client[], relay: Relay): Promise<void> {
  const deadline = performance.now() + CONVERGE_TIMEOUT_MS
  const rooms = [...new Set(clients.map((c) => c.room))]
  for (;;) {
    await Promise.all(clients.filter((c) => !c.engine.closed).map((c) => c.engine.idle()))
    let all = true
    for (const room of rooms) {
      const replica = relay.space(room)
      const spaces = [...clients.filter((c) => c.room === room).map((c) => c.space), ...(replica ? [replica] : [])]
      if (!(await sameState(spaces))) {
        all = false
        break
      }
    }
    if (all) return
    if (performance.now() > deadline) throw new Error(`bench: rooms did not converge within ${CONVERGE_TIMEOUT_MS} ms`)
    for (const client of clients) if (!client.engine.closed) client.engine.resync()
    await sleep(100)
  }
}

const cpu = cpus()
console.log(`Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}; Node ${process.version}; clients and relay in one process; ${SECONDS} s of edits per run\n`)
for (const n of CLIENTS) {
  const rows = await run(n)
  console.log(`### ${n} clients\n`)
  console.log('| measure | figure |')
  console.log('| --- | --- |')
  for (const [what, figure] of rows) console.log(`| ${what} | ${figure} |`)
  console.log('')
}
