/**
 * Runs one workload on one system, in this process, and returns its raw figures. The driver
 * (`main.ts`) starts one process per system × workload with `--expose-gc`, so heap figures only
 * hold that system's data.
 *
 * A phase of many small writes (creates, updates, keystrokes) runs one transaction per item
 * until it has taken `capMs`; what is left then runs through the system's bulk path (one
 * transaction per 1,000 items) so that later figures still see the whole state. The per-item
 * figure is then the mean over the items done one by one, and the result says how many those were.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { partBytes, type Parts, type System } from './system'
import {
  MONTH,
  budgetWorkload,
  syntheticTrace,
  ticket,
  ticketWorkload,
  type TicketUpdate,
  type TicketWorkload,
} from './workloads'

/** Raw figures of one run, by name (units in the names: `Ms`, `Us`, `Bytes`, `MB`). */
export type Figures = Record<string, number>

/** What one child process reports. */
export interface RunResult {
  readonly system: string
  readonly workload: 'civic311' | 'budget' | 'text'
  readonly size: number
  readonly description: string
  readonly figures: Figures
  readonly notes: string[]
  /** Set when the figures were measured on this many items and scaled to `size` (`scaleResult`). */
  readonly sampledFrom?: number
}

declare const gc: (() => void) | undefined

/** Heap plus external memory (WASM memories and array buffers live outside the JS heap), after full collections. */
function memory(): number {
  if (typeof gc === 'function') {
    gc()
    gc()
  }
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

const now = (): number => performance.now()
/** A phase running longer than this reports its progress (see `progress`). */
const PROGRESS_EVERY_MS = 60_000
const MB = 1024 * 1024
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

interface PhaseResult {
  /** Items done one by one. */
  readonly single: number
  /** Time of those. */
  readonly singleMs: number
  /** Each of those items' time, in ms. */
  readonly times: number[]
  /** Time of the bulk remainder. */
  readonly bulkMs: number
}

async function phase<T>(
  items: readonly T[],
  one: (item: T) => void | Promise<void>,
  bulk: (items: T[]) => void | Promise<void>,
  capMs: number,
  yieldEvery = 0,
  label = '',
): Promise<PhaseResult> {
  const times: number[] = []
  const start = now()
  let reported = start
  const report = (done: number): void => {
    if (now() - reported < PROGRESS_EVERY_MS) return
    reported = now()
    progress(`${label}: ${done.toLocaleString('en-US')} of ${items.length.toLocaleString('en-US')} (${((reported - start) / 1000).toFixed(0)} s)`)
  }
  let k = 0
  for (; k < items.length; k++) {
    const t = now()
    const pending = one(items[k] as T)
    if (pending) await pending
    times.push(now() - t)
    if (yieldEvery > 0 && k % yieldEvery === yieldEvery - 1) await tick()
    if (now() - start > capMs) {
      k++
      break
    }
  }
  const singleMs = now() - start
  const bulkStart = now()
  for (let from = k; from < items.length; from += 1000) {
    const pending = bulk(items.slice(from, from + 1000))
    if (pending) await pending
    report(from + 1000)
    if (yieldEvery > 0) await tick()
  }
  return { single: k, singleMs, times, bulkMs: now() - bulkStart }
}

const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = now()
  const value = await fn()
  return [value, now() - t]
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench check failed: ${what}`)
}

/** The largest size at which the signed full load and catch-up run (see `runTickets`). */
const SIGNED_PATH_MAX_TICKETS = 100_000

/**
 * Above this size the writer and the fresh replicas run in two processes, one after the other
 * (`runTicketWriter`, then `runTicketReader`), the full state and the day's changes passed
 * through files: two replicas of 1,000,000 tickets and the encoded state do not fit one process.
 */
export const SPLIT_ABOVE_TICKETS = 100_000

/** Progress of long steps on stderr (the driver passes it through), so that a long run shows where it is. */
function progress(text: string): void {
  process.stderr.write(`    ${new Date().toISOString().slice(11, 19)} ${text}\n`)
}

type Replica = Awaited<ReturnType<System['tickets']>>

/** Files the year's tickets, then the year's updates, on the writer; adds their figures. */
async function buildYear(a: Replica, w: TicketWorkload, capMs: number, figures: Figures, notes: string[]): Promise<void> {
  const { n, seed } = w
  // Tickets are made one at a time from their index: the workload holds an index array, not N records.
  const indices = Array.from({ length: n }, (_, i) => i)
  const created = await phase(
    indices,
    (i) => a.create(i, ticket(seed, n, i)),
    (batch) => a.createBulk(batch.map((i) => [i, ticket(seed, n, i)] as const)),
    capMs,
    0,
    'create',
  )
  const [, settleMs] = await timed(() => a.settle())
  figures['createUs'] = ((created.singleMs + (created.single === n ? settleMs : 0)) * 1000) / created.single
  figures['createTotalMs'] = created.singleMs + created.bulkMs + settleMs
  if (created.single < n) notes.push(`create: ${created.single} of ${n} tickets one transaction each within the ${capMs / 1000} s cap, the rest in bulk`)

  const updated = await phase(w.updates, (u) => a.update(u), (us) => a.updateBulk(us), capMs, 0, 'update')
  const [, updateSettleMs] = await timed(() => a.settle())
  const done = w.updates.slice(0, updated.single)
  const kindTimes = (kind: TicketUpdate['kind']): number[] => updated.times.filter((_, i) => (done[i] as TicketUpdate).kind === kind)
  figures['updateTotalMs'] = updated.singleMs + updated.bulkMs + updateSettleMs
  figures['buildMs'] = figures['createTotalMs'] + figures['updateTotalMs']
  figures['updateUs'] = ((updated.singleMs + (updated.single === w.updates.length ? updateSettleMs : 0)) * 1000) / updated.single
  figures['transitionMedianUs'] = median(kindTimes('transition')) * 1000
  figures['noteMedianUs'] = median(kindTimes('note')) * 1000
  if (updated.single < w.updates.length) notes.push(`update: ${updated.single} of ${w.updates.length} updates one transaction each within the cap, the rest in bulk`)
}

/** Encodes the writer's full state; adds its figures. */
async function encodeFull(a: Replica, n: number, figures: Figures): Promise<Parts> {
  const [full, encodeMs] = await timed(() => a.encodeFull())
  figures['encodeMs'] = encodeMs
  figures['fullBytes'] = partBytes(full)
  figures['bytesPerTicket'] = partBytes(full) / n
  figures['parts'] = full.length
  return full
}

/** Loads the full state on a fresh replica and reads every ticket; adds the figures. */
async function loadFresh(b: Replica, full: Parts, n: number, figures: Figures): Promise<void> {
  const [, loadMs] = await timed(() => b.apply(full))
  const [count, readMs] = await timed(() => b.readAll())
  check(count === n, `fresh replica read ${count} of ${n} tickets`)
  figures['loadMs'] = loadMs
  figures['readMs'] = readMs
  figures['loadReadMs'] = loadMs + readMs
}

/** Opens one month on another fresh replica; adds the figures. */
async function openMonth(system: System, full: Parts, figures: Figures): Promise<void> {
  const c = await system.tickets(false)
  const [monthCount, monthMs] = await timed(() => c.loadMonth(full, MONTH))
  await c.close()
  figures['monthMs'] = monthMs
  figures['monthTickets'] = monthCount
}

/** One day: new tickets and updates on the writer; adds the figures. */
async function writeDay(a: Replica, w: TicketWorkload, capMs: number, figures: Figures, notes: string[]): Promise<void> {
  const { n, seed } = w
  const dayStart = now()
  const dayIndices = Array.from({ length: w.dayNew }, (_, k) => n + k)
  const dayCreated = await phase(dayIndices, (i) => a.create(i, ticket(seed, n, i)), (batch) => a.createBulk(batch.map((i) => [i, ticket(seed, n, i)] as const)), capMs, 0, 'day create')
  const dayUpdated = await phase(w.dayUpdates, (u) => a.update(u), (us) => a.updateBulk(us), capMs, 0, 'day update')
  await a.settle()
  figures['dayWriteMs'] = now() - dayStart
  figures['dayNew'] = w.dayNew
  figures['dayUpdates'] = w.dayUpdates.length
  if (dayCreated.single < w.dayNew || dayUpdated.single < w.dayUpdates.length) notes.push('day: part of the day\'s writes in bulk (cap)')
}

/** Encodes what a replica at `token` lacks; adds the figures. */
async function encodeDay(a: Replica, token: unknown, figures: Figures): Promise<Parts> {
  const [diff, syncEncodeMs] = await timed(() => a.encodeSince(token))
  figures['syncBytes'] = partBytes(diff)
  figures['syncEncodeMs'] = syncEncodeMs
  return diff
}

/** Applies the day's changes on the fresh replica and checks it has the day's tickets; adds the figures. */
async function applyDay(b: Replica, diff: Parts, expected: number, figures: Figures): Promise<void> {
  const [, syncApplyMs] = await timed(() => b.apply(diff))
  check((await b.readAll()) === expected, 'caught-up replica has the day\'s tickets')
  figures['syncApplyMs'] = syncApplyMs
}

/** civic311 (create, update, size, load, one month) and sync (one day's catch-up) on tickets, in one process. */
export async function runTickets(system: System, n: number, seed: number, capMs: number): Promise<RunResult> {
  const w = ticketWorkload(seed, n)
  const notes: string[] = []
  const figures: Figures = { tickets: n, updates: w.updates.length }
  const base = memory()
  const a = await system.tickets(true)
  await buildYear(a, w, capMs, figures, notes)
  figures['heapMB'] = (memory() - base) / MB
  const full = await encodeFull(a, n, figures)
  const b = await system.tickets(false)
  await loadFresh(b, full, n, figures)
  await openMonth(system, full, figures)

  // Refusals of our own envelopes are a finding, not a reason to lose the run's other figures.
  const refusals = (refused: string[], what: string): void => {
    if (refused.length === 0) return
    figures[what === 'signed load' ? 'signedLoadRefused' : 'signedSyncRefused'] = refused.length
    const codes = [...new Set(refused.map((r) => r.replace(/^[^:]*: /, '').slice(0, 120)))].slice(0, 3)
    notes.push(`${what}: the guards refused ${refused.length} of the writer's own envelopes (${codes.join('; ')})`)
  }
  // A third full replica (the signed one, holding every envelope) beside the writer and the
  // fresh replica does not fit one process at the large size: the signed path stops at 100,000.
  const signedPath = a.signed !== undefined && n <= SIGNED_PATH_MAX_TICKETS
  if (a.signed && !signedPath) notes.push(`signed path: not run above ${SIGNED_PATH_MAX_TICKETS.toLocaleString('en-US')} tickets (a third full replica in one process)`)
  const s = signedPath ? await system.tickets(false) : undefined
  if (a.signed && s?.signed) {
    const [bundle, exportMs] = await timed(() => (a.signed as NonNullable<typeof a.signed>).exportAll())
    const [refused, importMs] = await timed(() => (s.signed as NonNullable<typeof s.signed>).importBundle(bundle))
    refusals(refused, 'signed load')
    if (refused.length === 0) check((await s.readAll()) === n, 'signed replica read every ticket')
    figures['signedFullBytes'] = bundle.length
    figures['signedExportMs'] = exportMs
    figures['signedLoadMs'] = importMs
  }

  await writeDay(a, w, capMs, figures, notes)
  const diff = await encodeDay(a, await b.since(), figures)
  await applyDay(b, diff, n + w.dayNew, figures)
  figures['syncMs'] = (figures['syncEncodeMs'] as number) + (figures['syncApplyMs'] as number)

  if (a.signed && s?.signed) {
    const heads = await s.signed.heads()
    const [bundle, exportMs] = await timed(() => (a.signed as NonNullable<typeof a.signed>).exportSince(heads))
    const [refused, importMs] = await timed(() => (s.signed as NonNullable<typeof s.signed>).importBundle(bundle))
    refusals(refused, 'signed catch-up')
    if (refused.length === 0) check((await s.readAll()) === n + w.dayNew, 'signed replica caught up')
    figures['signedSyncBytes'] = bundle.length
    figures['signedSyncMs'] = exportMs + importMs
    await s.close()
  }
  await b.close()
  await a.close()
  return { system: system.name, workload: 'civic311', size: n, description: system.description, figures, notes }
}

/** Writes named parts to `<dir>/<what>.<k>.bin`, with their names in `<dir>/<what>.json`. */
function saveParts(dir: string, what: string, parts: Parts): void {
  parts.forEach((part, k) => writeFileSync(join(dir, `${what}.${k}.bin`), part.bytes))
  writeFileSync(join(dir, `${what}.json`), JSON.stringify(parts.map((p) => p.name)))
}

/** Reads parts saved by {@link saveParts}. */
function loadParts(dir: string, what: string): Parts {
  const names = JSON.parse(readFileSync(join(dir, `${what}.json`), 'utf8')) as string[]
  return names.map((name, k) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, `${what}.${k}.bin`))) }))
}

/**
 * The first half of a split civic311 run (sizes above {@link SPLIT_ABOVE_TICKETS}): builds the
 * year on the writer, saves its full state to `dir`, writes the day and saves what a replica
 * holding that full state lacks (the token a fresh replica sends after loading the full state
 * is the writer's own at that point). The signed path does not run at these sizes.
 */
export async function runTicketWriter(system: System, n: number, seed: number, capMs: number, dir: string): Promise<RunResult> {
  const w = ticketWorkload(seed, n)
  const notes: string[] = ['writer and fresh replicas in two processes, the full state and the day\'s changes passed through files']
  const figures: Figures = { tickets: n, updates: w.updates.length }
  const base = memory()
  const a = await system.tickets(true)
  await buildYear(a, w, capMs, figures, notes)
  progress(`${system.name}: year built (${(figures['buildMs'] as number / 1000).toFixed(0)} s)`)
  figures['heapMB'] = (memory() - base) / MB
  saveParts(dir, 'full', await encodeFull(a, n, figures))
  progress(`${system.name}: full state encoded (${((figures['fullBytes'] as number) / MB).toFixed(0)} MB)`)
  const token = await a.since()
  await writeDay(a, w, capMs, figures, notes)
  saveParts(dir, 'day', await encodeDay(a, token, figures))
  if (a.signed) notes.push(`signed path: not run above ${SIGNED_PATH_MAX_TICKETS.toLocaleString('en-US')} tickets`)
  await a.close()
  return { system: system.name, workload: 'civic311', size: n, description: system.description, figures, notes }
}

/** The second half of a split civic311 run: one month, then a fresh replica's load, read and catch-up, from the files of {@link runTicketWriter}. */
export async function runTicketReader(system: System, n: number, seed: number, dir: string): Promise<RunResult> {
  const w = ticketWorkload(seed, n)
  const figures: Figures = {}
  const full = loadParts(dir, 'full')
  await openMonth(system, full, figures)
  const b = await system.tickets(false)
  await loadFresh(b, full, n, figures)
  progress(`${system.name}: fresh replica loaded (${((figures['loadMs'] as number) / 1000).toFixed(0)} s)`)
  await applyDay(b, loadParts(dir, 'day'), n + w.dayNew, figures)
  await b.close()
  return { system: system.name, workload: 'civic311', size: n, description: system.description, figures, notes: [] }
}

/** The budget: ingest, verify, fold, outcome, then one ballot at a time. */
export async function runBudget(system: System, ballots: number, seed: number): Promise<RunResult> {
  const w = await budgetWorkload(seed, ballots)
  const figures: Figures = { ballots }
  const r = await system.budget()
  await r.setup(w)
  const [, ingestMs] = await timed(() => r.ingest(w.ballots, 1000))
  figures['ingestMs'] = ingestMs
  figures['fullBytes'] = partBytes(await r.encodeFull())
  const [verified, verifyMs] = await timed(() => r.verify())
  check(verified === ballots, `verified ${verified} of ${ballots}`)
  figures['verifyMs'] = verifyMs
  figures['verifyUs'] = (verifyMs * 1000) / ballots
  figures['verifiesPerSec'] = ballots / (verifyMs / 1000)
  const [counted, foldMs] = await timed(() => r.fold())
  check(counted === ballots, `counted ${counted} of ${ballots}`)
  figures['foldMs'] = foldMs
  const [selected, outcomeMs] = await timed(() => r.outcome())
  figures['outcomeMs'] = outcomeMs
  figures['selected'] = selected.length
  const [, warmMs] = await timed(() => r.warm())
  figures['firstViewMs'] = warmMs
  const times: number[] = []
  let last = 0
  for (const ballot of w.extra) {
    const [n, ms] = await timed(() => r.addBallot(ballot))
    times.push(ms)
    last = n
  }
  check(last === ballots + w.extra.length, `incremental count ${last}`)
  figures['incrementalMedianMs'] = median(times)
  await r.close()
  return { system: system.name, workload: 'budget', size: ballots, description: system.description, figures, notes: [`outcome: ${selected.join(' ')}`] }
}

/**
 * The proposal body: apply an editing trace keystroke by keystroke, then encode and load.
 * `ops` below the trace's length applies only that many of its first edits (a sample).
 */
export async function runText(system: System, seed: number, capMs: number, ops?: number): Promise<RunResult> {
  const whole = syntheticTrace(seed)
  const count = ops !== undefined && ops > 0 && ops < whole.pos.length ? ops : whole.pos.length
  let finalLength = 0
  for (let k = 0; k < count; k++) finalLength += whole.chars[k] === '' ? -1 : 1
  const trace = { ...whole, pos: whole.pos.subarray(0, count), chars: whole.chars.slice(0, count), finalLength }
  const notes = [`trace: ${trace.label}${count < whole.pos.length ? `, its first ${count.toLocaleString('en-US')} edits` : ''}`]
  ops = count
  const indices = Array.from({ length: ops }, (_, k) => k)
  const base = memory()
  const a = await system.text(true)
  const applied = await phase(
    indices,
    (k) => (trace.chars[k] === '' ? a.delete(trace.pos[k] as number) : a.insert(trace.pos[k] as number, trace.chars[k] as string)),
    (batch) => a.bulk(trace.pos, trace.chars, batch[0] as number, (batch[batch.length - 1] as number) + 1),
    capMs,
    1000,
  )
  const [, settleMs] = await timed(() => a.settle())
  check(a.text().length === trace.finalLength, `text length ${a.text().length}, expected ${trace.finalLength}`)
  if (applied.single < ops) notes.push(`${applied.single} of ${ops} edits one transaction each within the cap, the rest in bulk`)
  const figures: Figures = {
    ops,
    opUs: ((applied.singleMs + (applied.single === ops ? settleMs : 0)) * 1000) / applied.single,
    heapMB: (memory() - base) / MB,
  }
  const [full, encodeMs] = await timed(() => a.encodeFull())
  figures['encodeMs'] = encodeMs
  figures['fullBytes'] = partBytes(full)
  const b = await system.text(false)
  const [text, loadMs] = await timed(() => b.load(full))
  check(text === a.text(), 'fresh replica has the same text')
  figures['loadMs'] = loadMs
  await b.close()
  await a.close()
  return { system: system.name, workload: 'text', size: ops, description: system.description, figures, notes }
}
