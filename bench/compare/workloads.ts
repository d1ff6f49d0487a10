/**
 * The comparison workloads, generated from a seed and identical for every system.
 *
 * - `civic311`: N Open311-like service tickets (12 fields, a description of about 80 characters)
 *   filed over one year, then M = N/5 updates (status transitions with a note, and notes alone).
 * - `sync`: one day of changes on top of that (8% N new tickets, 20% N updates; from N = 100,000
 *   on, 8,000 and 20,000: {@link DAY_SCALE_MAX}).
 * - `budget`: 150 projects and B signed approval ballots, one per voter key, plus a few more
 *   ballots for the incremental figures. Signing B keys takes a while, so the ballots are made
 *   once per (seed, B) and kept in the system's temporary folder.
 * - `text`: a synthetic editing trace with the statistics of the automerge-perf trace (no package
 *   of the npm registry ships that trace): 259,778 single-character edits, 182,315 insertions and
 *   77,463 deletions, ending in a text of 104,852 characters, typed mostly in runs at a cursor.
 *
 * Tickets are made on demand (`ticket(i)` is a pure function of the seed and `i`) so that the
 * workload itself holds no memory while a system's heap is measured.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { boundKey } from '../../src/civic/bound-key'
import { decodeDidKey } from '../../src/identity/did-key'
import { keyPairFromSeed } from '../../src/identity/keys'
import { recordHash, recordSigningBytes, signRecord, type SignedRecord } from '../../src/identity/signed-record'
import { decodeBase64url } from '../../src/identity/base64url'

/** The seed of every workload unless `--seed` says otherwise. */
export const DEFAULT_SEED = 20_261_125

/** mulberry32: a small seeded generator (the same one the other benchmarks use). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A generator for item `i` of a stream, independent of the items before it. */
function itemRandom(seed: number, stream: number, i: number): () => number {
  return prng(Math.imul(seed ^ (stream * 0x9e3779b1), 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35))
}

const pick = <T>(rnd: () => number, items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T

// ---------------------------------------------------------------------------------------------
// Service tickets

/** The Open311 fields of a ticket, as every system stores them (12 fields). */
export interface TicketFields {
  service_code: string
  service_name: string
  description: string
  status: 'open' | 'acknowledged' | 'in_progress' | 'closed'
  agency_responsible: string
  address: string
  zipcode: string
  lat: number
  long: number
  requested_datetime: string
  district: string
  media_url: string
}

/** The status of an open ticket after one transition. */
export const NEXT_STATUS = { open: 'acknowledged', acknowledged: 'in_progress', in_progress: 'closed' } as const
type Moving = keyof typeof NEXT_STATUS

/** One update of a ticket: a status transition with a note, or a note alone. */
export interface TicketUpdate {
  /** The ticket's index in creation order. */
  readonly ticket: number
  readonly kind: 'transition' | 'note'
  /** The new status (transitions only). */
  readonly to?: 'acknowledged' | 'in_progress' | 'closed'
  /** The new `status_notes`. */
  readonly note: string
  /** The new `updated_datetime`. */
  readonly at: string
}

const SERVICES = [
  ['pothole', 'Pothole in street', 'roads'],
  ['streetlight', 'Street light out', 'lighting'],
  ['graffiti', 'Graffiti removal', 'cleaning'],
  ['abandoned-vehicle', 'Abandoned vehicle', 'police'],
  ['trash', 'Missed trash pickup', 'cleaning'],
  ['sidewalk', 'Damaged sidewalk', 'roads'],
  ['tree', 'Fallen tree or branch', 'parks'],
  ['noise', 'Noise complaint', 'police'],
  ['water-leak', 'Water leak', 'water'],
  ['sign', 'Damaged traffic sign', 'traffic'],
] as const
/** The agencies tickets are assigned to (`agency_responsible`). */
export const AGENCIES = ['roads', 'lighting', 'cleaning', 'police', 'parks', 'water', 'traffic'] as const
/** The districts tickets are filed in. */
export const DISTRICTS = ['north', 'south', 'east', 'west', 'centre'] as const
const STREETS = ['Calle Mayor', 'Gran Via', 'Calle de Alcala', 'Paseo del Prado', 'Calle de Atocha', 'Calle de Toledo', 'Calle de Serrano', 'Avenida de America', 'Calle de Bravo Murillo', 'Calle de Embajadores']
const WORDS = (
  'the a near in front of corner school market park bus stop crossing since yesterday morning large deep broken ' +
  'dangerous cars bikes children lamp post sidewalk pavement water leaking blocked drain behind church pharmacy ' +
  'entrance several neighbours reported again please check urgent night smell loud damaged left side right side ' +
  'opposite building number metres from traffic light'
).split(' ')

/** `count` words of filler text, cut to at most `max` characters. */
function words(rnd: () => number, max: number): string {
  let text = pick(rnd, WORDS)
  while (text.length < max - 8) text += ' ' + pick(rnd, WORDS)
  return text.slice(0, max)
}

const YEAR_START = Date.UTC(2025, 11, 1) // tickets are filed from 2025-12-01 ...
const YEAR_MS = 365 * 24 * 3600 * 1000 // ... to 2026-11-30
/** The day whose changes the sync workload sends: 2026-11-30. */
export const DAY_START = Date.UTC(2026, 10, 30)
/** The month the "open one month" figure reads (mid-year). */
export const MONTH = '2026-06'

/** Ticket `i` of a workload of `n` tickets filed over one year (indices ≥ n are the day's new tickets). */
export function ticket(seed: number, n: number, i: number): TicketFields {
  const rnd = itemRandom(seed, 1, i)
  const [code, name, agency] = pick(rnd, SERVICES)
  const filed = i < n ? YEAR_START + Math.floor(((i + rnd()) * YEAR_MS) / n) : DAY_START + Math.floor(rnd() * 86_400_000)
  return {
    service_code: code,
    service_name: name,
    description: words(rnd, 76 + Math.floor(rnd() * 9)),
    status: 'open',
    agency_responsible: agency,
    address: `${1 + Math.floor(rnd() * 250)} ${pick(rnd, STREETS)}`,
    zipcode: `280${String(Math.floor(rnd() * 60)).padStart(2, '0')}`,
    lat: Math.round((40.38 + rnd() * 0.1) * 1e6) / 1e6,
    long: Math.round((-3.75 + rnd() * 0.1) * 1e6) / 1e6,
    requested_datetime: new Date(filed).toISOString(),
    district: pick(rnd, DISTRICTS),
    media_url: `https://media.example.org/${code}/${(i * 7919 + 17).toString(36)}.jpg`,
  }
}

/**
 * `count` updates of tickets `0 .. live-1`, uniformly chosen; 60% are transitions (a closed
 * ticket gets a note instead). `status` tracks every ticket's status and is updated in place.
 */
export function ticketUpdates(seed: number, stream: number, live: number, count: number, status: Uint8Array, from: number, span: number): TicketUpdate[] {
  const names = ['open', 'acknowledged', 'in_progress', 'closed'] as const
  const rnd = prng(seed ^ (stream * 0x27d4eb2d))
  const out: TicketUpdate[] = []
  for (let u = 0; u < count; u++) {
    const t = Math.floor(rnd() * live)
    const current = names[status[t] as number] as (typeof names)[number]
    const at = new Date(from + Math.floor((u * span) / count)).toISOString()
    const note = words(rnd, 24 + Math.floor(rnd() * 20))
    if (current !== 'closed' && rnd() < 0.6) {
      status[t] = (status[t] as number) + 1
      out.push({ ticket: t, kind: 'transition', to: NEXT_STATUS[current as Moving], note, at })
    } else {
      out.push({ ticket: t, kind: 'note', note, at })
    }
  }
  return out
}

/** The civic311 + sync workload of size `n`. */
export interface TicketWorkload {
  readonly seed: number
  readonly n: number
  /** The year's updates (M = n/5). */
  readonly updates: readonly TicketUpdate[]
  /** The day's new tickets: indices `n .. n + dayNew - 1`. */
  readonly dayNew: number
  /** The day's updates (of any ticket, new ones included). */
  readonly dayUpdates: readonly TicketUpdate[]
}

/**
 * The store size up to which one day grows with it (8% new tickets, 20% updates): a larger
 * store's day is that of this size, 8,000 new tickets and 20,000 updates (a city's day does not
 * grow with the years kept).
 */
export const DAY_SCALE_MAX = 100_000

/** Builds the ticket workload of size `n` (tickets themselves come from {@link ticket}). */
export function ticketWorkload(seed: number, n: number): TicketWorkload {
  const day = Math.min(n, DAY_SCALE_MAX)
  const dayNew = Math.round(day * 0.08)
  const status = new Uint8Array(n + dayNew)
  const updates = ticketUpdates(seed, 2, n, Math.round(n / 5), status, YEAR_START + YEAR_MS / 2, YEAR_MS / 2)
  const dayUpdates = ticketUpdates(seed, 3, n + dayNew, Math.round(day * 0.2), status, DAY_START, 86_400_000)
  return { seed, n, updates, dayNew, dayUpdates }
}

// ---------------------------------------------------------------------------------------------
// Participatory budget

/** The id of the Space every system's budget data is signed for. */
export const SPACE_ID = 'city'
/** The budget's shard key (its shard is `budget.<key>`). */
export const BUDGET_SHARD_KEY = 'pb2027'
/** The nonce of the budget's signed creation act. */
export const BUDGET_NONCE = 'pb2027nonce'
/** The seed of the district root key that creates the budget and opens the vote. */
export const ROOT_SEED = new Uint8Array(32).fill(7)
/** The clock of the first ballot (above every setup act). */
const BALLOT_CLOCK = 1_000

/** The budget shard, its document id and the budget record's id (fixed by the root key and the nonce). */
export async function budgetIds(): Promise<{ shard: string; docId: string; budgetId: string; rootDid: string }> {
  const root = await keyPairFromSeed(ROOT_SEED)
  const shard = `budget.${BUDGET_SHARD_KEY}`
  return { shard, docId: `${SPACE_ID}/${shard}`, budgetId: `${shard}/${boundKey(root.did, BUDGET_NONCE)}`, rootDid: root.did }
}

/** A budget project. */
export interface BudgetProjectSpec {
  /** Its record key (`p000` ..). */
  readonly key: string
  /** Its full record id. */
  readonly id: string
  readonly title: string
  /** Whole euros, as text. */
  readonly cost: string
}

/** The budget workload: projects, the budget's total and the signed ballots. */
export interface BudgetWorkload {
  readonly total: string
  readonly projects: readonly BudgetProjectSpec[]
  /** `ballots` signed ballots, one per voter. */
  readonly ballots: readonly SignedRecord[]
  /** Ballots of further voters, for the incremental figures. */
  readonly extra: readonly SignedRecord[]
}

/** How many further ballots the incremental figure takes its median over. */
export const EXTRA_BALLOTS = 25
/** The most projects a ballot may approve. */
export const MAX_APPROVED = 5

function voterSeed(i: number): Uint8Array {
  const seed = new Uint8Array(32).fill(0xb5)
  new DataView(seed.buffer).setUint32(0, i + 1)
  return seed
}

/**
 * The budget workload with `count` ballots. Made once per (seed, count) and cached in the
 * temporary folder (signing 100,000 keys takes tens of seconds); pass `cacheDir` to move it.
 */
export async function budgetWorkload(seed: number, count: number, cacheDir = join(tmpdir(), 'cabildo-bench')): Promise<BudgetWorkload> {
  const file = join(cacheDir, `budget-${seed}-${count}.json`)
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as BudgetWorkload
  const { shard, docId, budgetId } = await budgetIds()
  const rnd = prng(seed ^ 0x5bd1e995)
  const projects = Array.from({ length: 150 }, (_, p) => {
    const key = `p${String(p).padStart(3, '0')}`
    return { key, id: `${shard}/${key}`, title: `Project ${p + 1}: ${words(rnd, 40)}`, cost: String(10_000 + Math.floor(rnd() * 290_001)) }
  })
  const total = String(Math.floor(projects.reduce((s, p) => s + Number(p.cost), 0) / 4))
  const weights = projects.map(() => 0.05 + rnd() ** 2)
  const weightSum = weights.reduce((a, b) => a + b, 0)
  const choose = (): string[] => {
    const size = 1 + Math.floor(rnd() * MAX_APPROVED)
    const chosen = new Set<number>()
    while (chosen.size < size) {
      let r = rnd() * weightSum
      let p = 0
      while (p < projects.length - 1 && r >= (weights[p] as number)) r -= weights[p++] as number
      chosen.add(p)
    }
    return [...chosen].sort((a, b) => a - b).map((p) => (projects[p] as BudgetProjectSpec).id)
  }
  const sign = async (i: number): Promise<SignedRecord> => {
    const voter = await keyPairFromSeed(voterSeed(i))
    return signRecord(voter, { type: 'budget.ballot', doc: docId, clock: BALLOT_CLOCK + (i % 997), payload: { budget: budgetId, choice: { kind: 'approval', approved: choose() } } })
  }
  const all: SignedRecord[] = []
  // In chunks: the choices are drawn in voter order, the signing overlaps within a chunk.
  for (let start = 0; start < count + EXTRA_BALLOTS; start += 500) {
    const chunk = Array.from({ length: Math.min(500, count + EXTRA_BALLOTS - start) }, (_, k) => start + k)
    all.push(...(await Promise.all(chunk.map(sign))))
  }
  const workload: BudgetWorkload = { total, projects, ballots: all.slice(0, count), extra: all.slice(count) }
  mkdirSync(cacheDir, { recursive: true })
  writeFileSync(`${file}.tmp`, JSON.stringify(workload))
  renameSync(`${file}.tmp`, file)
  return workload
}

/** Verifies a signed record with nothing but WebCrypto (the floor every other system gets). */
export async function plainVerify(record: SignedRecord, keys: Map<string, Promise<CryptoKey>>): Promise<boolean> {
  let key = keys.get(record.author)
  if (!key) {
    key = globalThis.crypto.subtle.importKey('raw', decodeDidKey(record.author) as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['verify'])
    keys.set(record.author, key)
  }
  const { sig, ...body } = record
  const signature = decodeBase64url(sig, 64)
  return signature !== undefined && globalThis.crypto.subtle.verify({ name: 'Ed25519' }, await key, signature as Uint8Array<ArrayBuffer>, recordSigningBytes(body) as Uint8Array<ArrayBuffer>)
}

/** The plain fold other systems get: the latest ballot per voter, then approvals per project. */
export interface PlainTally {
  readonly latest: Map<string, { clock: number; hash: string; approved: readonly string[] }>
  readonly votes: Map<string, number>
}

/** Adds one verified ballot to a plain tally (a later ballot of the same voter replaces the earlier one). */
export function plainAdd(tally: PlainTally, record: SignedRecord): void {
  const hash = recordHash(record)
  const approved = (record.payload as { choice: { approved: string[] } }).choice.approved
  const before = tally.latest.get(record.author)
  if (before && (before.clock > record.clock || (before.clock === record.clock && before.hash >= hash))) return
  if (before) for (const p of before.approved) tally.votes.set(p, (tally.votes.get(p) ?? 0) - 1)
  tally.latest.set(record.author, { clock: record.clock, hash, approved })
  for (const p of approved) tally.votes.set(p, (tally.votes.get(p) ?? 0) + 1)
}

/** Greedy utilitarian outcome over approval counts: most votes first, ties by id, fund what fits. */
export function plainGreedy(projects: readonly BudgetProjectSpec[], total: string, votes: ReadonlyMap<string, number>): string[] {
  const order = [...projects].sort((a, b) => (votes.get(b.id) ?? 0) - (votes.get(a.id) ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  let left = Number(total)
  const selected: string[] = []
  for (const p of order) {
    if (Number(p.cost) <= left) {
      selected.push(p.id)
      left -= Number(p.cost)
    }
  }
  return selected
}

// ---------------------------------------------------------------------------------------------
// Proposal text

/** A text editing trace: op `k` inserts `chars[k]` at `pos[k]`, or deletes the character at `pos[k]` when `chars[k]` is empty. */
export interface TextTrace {
  readonly label: string
  readonly pos: Int32Array
  /** One character per insertion, `''` per deletion. */
  readonly chars: readonly string[]
  readonly finalLength: number
}

/** The statistics of the automerge-perf editing trace (Kleppmann's LaTeX paper). */
export const AUTOMERGE_PERF_STATS = { ops: 259_778, inserts: 182_315, deletes: 77_463, finalLength: 104_852 } as const

/**
 * A synthetic trace with {@link AUTOMERGE_PERF_STATS}: edits come in runs at a cursor (typing,
 * backspacing), the cursor jumps now and then, mostly near where it was.
 */
export function syntheticTrace(seed: number, stats: { ops: number; inserts: number; deletes: number } = AUTOMERGE_PERF_STATS): TextTrace {
  const rnd = prng(seed ^ 0x68e31da4)
  const alphabet = 'eeeeeeetttttaaaaooooiiiinnnnsssshhhrrrdddlllcuumwfgypbvk,.  \n'
  const pos = new Int32Array(stats.ops)
  const chars: string[] = new Array<string>(stats.ops)
  let inserts = stats.inserts
  let deletes = stats.deletes
  let length = 0
  let cursor = 0
  let deleting = false
  for (let k = 0; k < stats.ops; k++) {
    if (rnd() < 0.015) cursor = rnd() < 0.3 ? Math.floor(rnd() * (length + 1)) : Math.max(0, Math.min(length, cursor + Math.floor((rnd() - 0.5) * 400)))
    // Stay in the current run with high probability; keep the totals exact.
    const mustInsert = deletes === 0 || length === 0
    const mustDelete = inserts === 0
    if (mustInsert) deleting = false
    else if (mustDelete) deleting = true
    else if (rnd() < (deleting ? 0.25 : 0.12 * (deletes / (inserts + deletes)) * 3)) deleting = !deleting
    if (deleting) {
      if (cursor > 0) cursor-- // backspace; at the very start, delete forward
      pos[k] = cursor
      chars[k] = ''
      deletes--
      length--
    } else {
      pos[k] = cursor
      chars[k] = alphabet[Math.floor(rnd() * alphabet.length)] as string
      cursor++
      inserts--
      length++
    }
  }
  return { label: `synthetic (automerge-perf statistics, seed ${seed})`, pos, chars, finalLength: length }
}
