/**
 * A relay under load, shared by the CI load test (test/integration/relay-load.test.ts) and
 * `npm run soak` (bench/soak.ts): the relay runs as `cabildo relay` in a child process (so its
 * memory is its own, read from `/metrics`), and client Spaces in this process edit tickets
 * through it over WebSocket transports.
 *
 * - every client has its own identity; room `room-<r>` gets clients `r, r + rooms, ...`;
 * - each client creates one ticket, then updates its `status_notes` at `rate` edits per second
 *   (timers staggered by a seeded generator); a note carries its send time, and latency is
 *   measured when another client of the room sees it in a remote change;
 * - delivered updates: envelopes the clients' guards applied (`applied`: each update once per
 *   receiving client; `envelopesReceived` also counts copies that arrived twice);
 * - convergence: every client of a room holds the same state vector of every document, and every
 *   client's last note is what all of its room read (a lost update is one client missing
 *   another's last note).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { build } from 'esbuild'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { createIdentity, createSpace, createWebSocketTransport, MANIFEST_DOC, type Space, type SyncEngine } from '../../src/index'
import type { RelayMetrics } from '../../src/node/relay/relay-metrics'
import { createSeededRandom } from '../../src/transports/seeded-random'

/** Bundles the `cabildo` command line (src/cli.ts) into one ESM file node runs directly. */
export async function bundleCli(outfile: string): Promise<void> {
  await build({
    entryPoints: [new URL('../../src/cli.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'silent',
    external: ['pg-native', 'bufferutil', 'utf-8-validate'],
    banner: { js: "import { createRequire as __cabildoRequire } from 'node:module'; const require = __cabildoRequire(import.meta.url);" },
  })
}

/** `cabildo relay` running in a child process. */
export interface RelayProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Its metrics; with `gc`, after a full garbage collection (the child runs with `--expose-gc`). */
  metrics(gc?: boolean): Promise<RelayMetrics>
  /** Everything it wrote to stderr (the last 20,000 characters). */
  stderr(): string
  /** Stops it with SIGTERM (SIGKILL after 10 s) and waits for it to exit. */
  stop(): Promise<void>
}

/** Starts `node --expose-gc <cliBundle> relay --port 0 --data <dataDir> --idle-close <seconds>` and waits for its URL. */
export async function startRelayProcess(cliBundle: string, dataDir: string, idleCloseSeconds: number): Promise<RelayProcess> {
  const child = spawn(process.execPath, ['--expose-gc', cliBundle, 'relay', '--port', '0', '--data', dataDir, '--idle-close', String(idleCloseSeconds)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const deadline = Date.now() + 30_000
  let url: string | undefined
  while ((url = /listening on (ws:\/\/\S+)/.exec(stdout)?.[1]) === undefined) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the relay did not start (exit ${child.exitCode}):\n${stdout}\n${stderr}`)
    }
    await sleep(20)
  }
  const port = new URL(url).port
  return {
    url,
    child,
    metrics: async (gc = false) => (await (await fetch(`http://127.0.0.1:${port}/metrics${gc ? '?gc=1' : ''}`)).json()) as RelayMetrics,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** The relay's heap in use after a full garbage collection: the least of `samples` readings (collections are not exact). */
export async function settledHeap(relay: RelayProcess, samples = 3): Promise<number> {
  let least = Number.POSITIVE_INFINITY
  for (let i = 0; i < samples; i++) {
    least = Math.min(least, (await relay.metrics(true)).memory.heapUsed)
    await sleep(200)
  }
  return least
}

/** What a load run does. */
export interface LoadOptions {
  readonly url: string
  readonly clients: number
  readonly rooms: number
  /** The first room's number (rooms are `room-<first>` ...); default 0. */
  readonly firstRoom?: number
  readonly seconds: number
  /** Edits per second of each client. */
  readonly rate: number
  readonly seed: number
  /** Most milliseconds to wait for convergence after the last edit. */
  readonly convergeTimeoutMs: number
  /** Called about every `progressEveryMs` while clients edit and while the rooms converge. */
  readonly onProgress?: (progress: LoadProgress) => void | Promise<void>
  readonly progressEveryMs?: number
}

/** A progress report of a load run. */
export interface LoadProgress {
  readonly phase: 'edit' | 'converge'
  readonly elapsedMs: number
  readonly edits: number
  readonly delivered: number
}

/** What a load run measured. */
export interface LoadResult {
  readonly clients: number
  readonly rooms: number
  /** Milliseconds to connect every client, create a ticket each and converge. */
  readonly connectMs: number
  readonly edits: number
  readonly editMs: number
  /** Updates (envelopes) applied by clients during the edit window. */
  readonly deliveredDuringEdits: number
  /** Updates applied by clients from the first edit until every room converged. */
  readonly deliveredTotal: number
  /** Envelopes received by clients from the first edit until every room converged, copies included. */
  readonly receivedTotal: number
  /** Milliseconds from the last edit until every room converged (or the timeout). */
  readonly drainMs: number
  /** Propagation latencies in milliseconds, sorted. */
  readonly latencies: readonly number[]
  readonly converged: boolean
  /** Client pairs (writer, reader in its room) where the reader misses the writer's last note. */
  readonly lost: number
}

interface Client {
  readonly space: Space
  readonly engine: SyncEngine
  readonly room: string
  ticketId: string
  lastNote: string
}

const SHARD = 'tickets.2026-11'

/** Connects the clients, makes them edit, waits for convergence, checks for lost updates, then closes every client. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const rnd = createSeededRandom(options.seed)
  const latencies: number[] = []
  let measuring = false
  const identities = await Promise.all(Array.from({ length: options.clients }, () => createIdentity()))
  const clients: Client[] = []
  const connectStart = performance.now()
  for (const [i, identity] of identities.entries()) {
    const room = `room-${(options.firstRoom ?? 0) + (i % options.rooms)}`
    const space = createSpace({ id: room, identity })
    await space.doc(SHARD)
    space.tickets.observe((change) => {
      if (change.origin !== 'remote' || !measuring) return
      const at = now()
      for (const { id } of change.changes) {
        void space.tickets.get(id).then((entity) => {
          const sent = Number(entity?.get().value.status_notes?.split(' ')[1])
          if (Number.isFinite(sent)) latencies.push(at - sent)
        })
      }
    })
    const transport = createWebSocketTransport({ url: `${options.url}/${room}`, WebSocket, reconnect: { initialDelayMs: 50, maxDelayMs: 1_000 } })
    clients.push({ space, engine: space.sync(transport, { peerId: `client-${i}` }), room, ticketId: '', lastNote: '' })
  }
  try {
    for (const [i, client] of clients.entries()) {
      client.lastNote = `client-${i} ${now()}`
      client.ticketId = (await client.space.tickets.create({ service_code: 'pothole', district: 'north', requested_datetime: '2026-11-24T09:30:00Z', status_notes: client.lastNote })).id
    }
    if (!(await converge(clients, performance.now() + options.convergeTimeoutMs))) throw new Error('the clients did not converge after creating their tickets')
    const connectMs = performance.now() - connectStart

    const received = (): number => clients.reduce((sum, client) => sum + client.engine.stats().envelopesReceived, 0)
    const applied = (): number => clients.reduce((sum, client) => sum + client.engine.stats().applied, 0)
    const receivedBefore = received()
    const appliedBefore = applied()
    let edits = 0
    const timers: Array<ReturnType<typeof setTimeout>> = []
    measuring = true
    const editStart = performance.now()
    const progressEvery = options.progressEveryMs ?? 5_000
    const progress = setInterval(() => {
      void options.onProgress?.({ phase: performance.now() - editStart < options.seconds * 1000 ? 'edit' : 'converge', elapsedMs: performance.now() - editStart, edits, delivered: applied() - appliedBefore })
    }, progressEvery)
    for (const [i, client] of clients.entries()) {
      const edit = (): void => {
        void client.space.tickets.get(client.ticketId).then((ticket) => {
          if (ticket === undefined || client.engine.closed) return
          client.lastNote = `client-${i} ${now()}`
          ticket.update({ status_notes: client.lastNote })
          edits++
        })
      }
      timers.push(setTimeout(() => timers.push(setInterval(edit, 1000 / options.rate)), rnd.next() * (1000 / options.rate)))
    }
    await sleep(options.seconds * 1000)
    for (const timer of timers) clearInterval(timer)
    const editMs = performance.now() - editStart
    const deliveredDuringEdits = applied() - appliedBefore
    const drainStart = performance.now()
    const converged = await converge(clients, drainStart + options.convergeTimeoutMs)
    const drainMs = performance.now() - drainStart
    clearInterval(progress)
    measuring = false
    const deliveredTotal = applied() - appliedBefore
    const receivedTotal = received() - receivedBefore
    let lost = 0
    for (const writer of clients) {
      for (const reader of clients) {
        if (reader.room !== writer.room) continue
        const ticket = await reader.space.tickets.get(writer.ticketId)
        if (ticket?.get().value.status_notes !== writer.lastNote) lost++
      }
    }
    latencies.sort((a, b) => a - b)
    return { clients: clients.length, rooms: options.rooms, connectMs, edits, editMs, deliveredDuringEdits, deliveredTotal, receivedTotal, drainMs, latencies, converged, lost }
  } finally {
    for (const client of clients) client.engine.close()
    await Promise.all(clients.map((client) => client.space.close()))
  }
}

/** Waits until every room holds one state of every document (resyncing the engines meanwhile); false at the deadline. */
async function converge(clients: readonly Client[], deadline: number): Promise<boolean> {
  const rooms = [...new Set(clients.map((client) => client.room))]
  let resynced = performance.now()
  for (;;) {
    await Promise.all(clients.map((client) => client.engine.idle()))
    let all = true
    for (const room of rooms) {
      if (!(await sameState(clients.filter((client) => client.room === room).map((client) => client.space)))) {
        all = false
        break
      }
    }
    if (all) return true
    if (performance.now() > deadline) return false
    // A resync asks every peer for what it lacks: now and then, not on every check (it would add to the backlog).
    if (performance.now() - resynced > 2_000) {
      for (const client of clients) client.engine.resync()
      resynced = performance.now()
    }
    await sleep(250)
  }
}

async function sameState(spaces: readonly Space[]): Promise<boolean> {
  const names = [MANIFEST_DOC, ...new Set(spaces.flatMap((space) => space.shardNames()))]
  for (const name of names) {
    const vectors = await Promise.all(spaces.map(async (space) => Y.encodeStateVector(await space.doc(name)).join(',')))
    if (vectors.some((vector) => vector !== vectors[0])) return false
  }
  return true
}

/** The value at percentile `p` of sorted numbers (NaN for none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

const now = (): number => performance.timeOrigin + performance.now()

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
