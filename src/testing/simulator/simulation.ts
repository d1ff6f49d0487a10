/**
 * A deterministic multi-district simulation: N districts' Spaces (and Byzantine peers) on one
 * in-memory network, driven by a seeded schedule of civic operations, partitions and heals,
 * lossy links, attacks, storage flushes and process crashes; then everything heals and the
 * final checks run (see `final-checks.ts`). Use it to test your own deployment choices, or to
 * hunt for bugs with many seeds; a failing schedule reports the one line that replays it.
 *
 * ```ts
 * import { runSimulation } from 'cabildo/testing'
 * const report = await runSimulation({ seed: 42, districts: 3 })
 * if (!report.ok) throw new Error(`${report.failures[0]?.message}\nrerun: ${report.reproduce}`)
 * ```
 *
 * Determinism: the schedule (every operation, fault, attack, crash and key) comes from the seed.
 * Two things do not: the session nonces of Yjs client ids (the platform's CSPRNG, which the
 * Space does not let a caller replace) and the order in which concurrent signature checks
 * complete; a replay runs the same schedule, and a failure that depends on them may need a few.
 * @module
 */
import { CabildoError } from '../../errors'
import { createMemoryNetwork, type MemoryNetwork, type NetworkStats } from '../../transports/memory-network'
import { createSeededRandom, type SeededRandom } from '../../transports/seeded-random'
import { MANIFEST_DOC } from '../../sync/shard-set'
import type { SpaceOptions } from '../../sync/space'
import { drawOperation, type CivicWorld, type Operation } from './civic-operations'
import { finalChecks, type FinalFigures, type SimulationFailure } from './final-checks'
import { SimByzantine, simulatedAttacks, type SentAttackEnvelope, type SimulatedAttack } from './sim-byzantine'
import { SimDistrict, seededRecordKeys, simulatedIdentity } from './sim-district'
import { createMemoryDisk, type SimulatedDiskFactory } from './simulated-disk'
import { WriteLedger } from './write-ledger'

/**
 * When a simulated process may die:
 * - `none`: never;
 * - `flushed`: only once a `space.flush()` made every edit durable (the crash loses what lives in
 *   memory only: waiting envelopes, open documents, the sessions);
 * - `quiet`: once the district's writer is idle (every returned edit signed, and its update and
 *   envelope handed to storage), whether or not storage finished writing them;
 * - `anywhere`: also right after an operation returned, while its envelope is still being signed
 *   and stored, the case docs/sync.md describes as "a crash between the two appends".
 */
export type CrashMode = 'none' | 'flushed' | 'quiet' | 'anywhere'

/** Options of {@link runSimulation}. */
export interface SimulationOptions {
  /** Seeds the whole schedule (any safe integer). */
  readonly seed: number
  /** Honest districts (default 3, at least 2). */
  readonly districts?: number
  /** Byzantine peers (default 1). */
  readonly byzantine?: number
  /** Scheduled events after the calm start (default 40). */
  readonly steps?: number
  /** Where districts keep their documents across crashes (default: {@link createMemoryDisk} for each). */
  readonly disk?: SimulatedDiskFactory
  /** When districts' processes may die (default `quiet`; see {@link CrashMode}). */
  readonly crashes?: CrashMode
  /** The attacks Byzantine peers choose from (default: every one of {@link simulatedAttacks}). */
  readonly attacks?: readonly SimulatedAttack[]
  /** Receives one line per scheduled event, for following a failing schedule. */
  readonly trace?: (line: string) => void
  /** The one-line command that replays a schedule (default: `npm run sim -- ...`). */
  readonly reproduce?: (options: ResolvedSimulationOptions) => string
}

/** The options a simulation ran with. */
export interface ResolvedSimulationOptions {
  readonly seed: number
  readonly districts: number
  readonly byzantine: number
  readonly steps: number
  readonly crashes: CrashMode
  readonly attacks: readonly SimulatedAttack[]
}

/** What happened during a simulation. */
export interface SimulationCounts {
  /** Operations that returned, by name (`ticket.close`, `proposal.text.insert`, ...). */
  readonly operations: Record<string, number>
  /** Operations refused before writing anything, by code (a concurrent edit or a role can legitimately cause them). */
  readonly refusedLocally: Record<string, number>
  /** Operations with nothing to act on at that replica yet. */
  skipped: number
  partitions: number
  heals: number
  faultChanges: number
  flushes: number
  crashes: number
  /** Attacks sent, by name. */
  readonly attacks: Record<string, number>
  /** Malformed-message and bad-envelope strikes the honest engines gave. */
  strikes: number
  /** The memory network's traffic counters at the end. */
  network: NetworkStats | undefined
}

/** The outcome of one simulated schedule. */
export interface SimulationReport {
  readonly options: ResolvedSimulationOptions
  /** Whether every check passed. */
  readonly ok: boolean
  readonly failures: readonly SimulationFailure[]
  /** The command that replays this schedule. */
  readonly reproduce: string
  readonly counts: SimulationCounts
  /** What the final checks counted (`undefined` if the run failed before them). */
  readonly figures: FinalFigures | undefined
}

/** The simulated wall clock starts near a month's end, so skewed districts file tickets in two monthly shards. */
const EPOCH = Date.parse('2026-11-30T18:00:00Z')
const SPACE_ID = 'sim-city'

/** The default replay command. */
export function reproduceCommand(options: ResolvedSimulationOptions): string {
  const attacks = options.attacks.join(',') === simulatedAttacks.join(',') ? '' : ` --attacks ${options.attacks.join(',')}`
  return `npm run sim -- --schedules 1 --seed ${options.seed} --districts ${options.districts} --byzantine ${options.byzantine} --steps ${options.steps} --crashes ${options.crashes}${attacks}`
}

function resolve(options: SimulationOptions): ResolvedSimulationOptions {
  const resolved = {
    seed: options.seed,
    districts: options.districts ?? 3,
    byzantine: options.byzantine ?? 1,
    steps: options.steps ?? 40,
    crashes: options.crashes ?? 'quiet',
    attacks: options.attacks ?? simulatedAttacks,
  }
  const known: readonly string[] = simulatedAttacks
  for (const attack of resolved.attacks) {
    if (!known.includes(attack)) throw new CabildoError('E_ARGUMENT', `unknown attack ${String(attack)}`, { argument: 'attacks', reason: `not one of ${known.join(', ')}` })
  }
  if (!['none', 'flushed', 'quiet', 'anywhere'].includes(resolved.crashes)) {
    throw new CabildoError('E_ARGUMENT', `crashes must be none, flushed, quiet or anywhere, got ${String(resolved.crashes)}`, { argument: 'crashes', reason: 'unknown crash mode' })
  }
  for (const [name, value, min] of [['districts', resolved.districts, 2], ['byzantine', resolved.byzantine, 0], ['steps', resolved.steps, 0]] as const) {
    if (!(Number.isSafeInteger(value) && value >= min)) {
      throw new CabildoError('E_ARGUMENT', `${name} must be an integer >= ${min}, got ${value}`, { argument: name, reason: `not an integer >= ${min}` })
    }
  }
  if (!Number.isSafeInteger(resolved.seed)) throw new CabildoError('E_ARGUMENT', `seed must be a safe integer, got ${resolved.seed}`, { argument: 'seed', reason: 'not a safe integer' })
  return resolved
}

function pick<T>(random: SeededRandom, items: readonly T[]): T {
  return items[random.int(0, items.length - 1)] as T
}

/**
 * Runs one simulated schedule and checks its outcome. Never throws for a failing check: the
 * report lists the failures (an unexpected exception is one, `error`).
 * @throws CabildoError `E_ARGUMENT` for invalid options.
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationReport> {
  const resolved = resolve(options)
  const run = new Simulation(resolved, options.disk ?? (() => createMemoryDisk()), options.trace ?? (() => undefined))
  const failures: SimulationFailure[] = []
  let figures: FinalFigures | undefined
  try {
    figures = await run.execute((failure) => failures.push(failure))
  } catch (error) {
    failures.push({ check: 'error', message: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error) })
  } finally {
    await run.dispose()
  }
  return { options: resolved, ok: failures.length === 0, failures, reproduce: (options.reproduce ?? reproduceCommand)(resolved), counts: run.counts, figures }
}

class Simulation {
  readonly counts: SimulationCounts = {
    operations: {}, refusedLocally: {}, skipped: 0, partitions: 0, heals: 0, faultChanges: 0, flushes: 0, crashes: 0, attacks: {}, strikes: 0, network: undefined,
  }
  readonly #options: ResolvedSimulationOptions
  readonly #diskOf: SimulatedDiskFactory
  readonly #random: SeededRandom
  readonly #network: MemoryNetwork
  readonly #ledger = new WriteLedger()
  readonly #attacks = new Map<string, SentAttackEnvelope>()
  readonly #world: CivicWorld = { tickets: [], proposals: [], budget: undefined }
  readonly #honest: SimDistrict[] = []
  readonly #newer = new Set<string>()
  readonly #byzantine: SimByzantine[] = []
  readonly #trace: (line: string) => void
  #fail: (failure: SimulationFailure) => void = () => undefined

  constructor(options: ResolvedSimulationOptions, diskOf: SimulatedDiskFactory, trace: (line: string) => void) {
    this.#options = options
    this.#diskOf = diskOf
    this.#trace = (line) => trace(`[t${this.#network.now}] ${line}`)
    this.#random = createSeededRandom(options.seed)
    this.#network = createMemoryNetwork({ seed: options.seed })
  }

  async execute(fail: (failure: SimulationFailure) => void): Promise<FinalFigures> {
    this.#fail = fail
    await this.#start()
    for (let step = 0; step < this.#options.steps; step++) await this.#event()
    await this.#healEverything()
    const figures = await finalChecks({ honest: this.#honest, ledger: this.#ledger, attacks: this.#attacks, fail })
    this.counts.strikes += this.#honest.reduce((sum, d) => sum + d.engine.stats().malformed, 0)
    this.counts.network = this.#network.stats()
    return figures
  }

  async dispose(): Promise<void> {
    for (const byzantine of this.#byzantine) byzantine.close()
    for (const district of this.#honest) await district.close()
    this.#network.close()
    for (const district of this.#honest) await district.setup.disk.dispose?.()
  }

  // ---- the calm start: districts, roles, a budget open for voting ----

  async #start(): Promise<void> {
    const { seed, districts, byzantine } = this.#options
    const identities = await Promise.all(Array.from({ length: districts }, (_, i) => simulatedIdentity(seed, `d${i}`)))
    const roots = Object.fromEntries(identities.map((identity, i) => [`d${i}`, identity.did]))
    const shared: Omit<SpaceOptions, 'identity' | 'now' | 'randomKey' | 'storage'> = { id: SPACE_ID, districts: roots }
    const clock = (): number => EPOCH + this.#network.now * 60_000
    for (let i = 0; i < districts; i++) {
      const id = `d${i}`
      if (i > 0 && this.#random.next() < 0.3) this.#newer.add(id)
      const district = new SimDistrict({
        id,
        identity: identities[i] as (typeof identities)[number],
        disk: this.#diskOf(id),
        skewMs: i === 0 ? 0 : this.#random.int(-48, 48) * 3_600_000,
        eager: this.#random.next() < 0.5,
        shared,
        clock,
        randomKey: seededRecordKeys(createSeededRandom(seed * 31 + i + 1)),
      }, this.#network)
      await district.start()
      this.#honest.push(district)
    }
    for (let j = 0; j < byzantine; j++) {
      this.#byzantine.push(new SimByzantine({ id: `byz${j}`, identity: await simulatedIdentity(seed, `byz${j}`), network: this.#network, spaceId: SPACE_ID, seed }))
    }

    // Every root makes itself staff, moderator and roads agency of its district, and the next district's key an agency too.
    for (const [i, district] of this.#honest.entries()) {
      const next = this.#honest[(i + 1) % districts] as SimDistrict
      await this.#perform(district, 'roles', async ({ space }) => {
        for (const role of ['staff', 'moderator', 'agency:roads']) await space.grantRole(district.setup.identity.did, role)
        await space.grantRole(next.setup.identity.did, 'agency:roads')
        return 'roles'
      })
    }
    const d0 = this.#honest[0] as SimDistrict
    await this.#perform(d0, 'budget', async ({ space }) => {
      const budget = await space.budgets.create({ title: 'PB 2027', total: '1000', currency: 'EUR', district: 'd0', votingMethod: { kind: 'approval', maxProjects: 2 } })
      const projects: string[] = []
      for (const [title, cost] of [['Park', '600'], ['Library', '300'], ['Pool', '500']] as const) {
        projects.push((await space.projects.create({ budget: budget.id, title, cost, district: 'd0' })).id)
      }
      for (const d of this.#honest) await space.grantRole(d.setup.identity.did, `voter:${budget.id}`)
      this.#world.budget = { id: budget.id, projects }
      return 'budget.create'
    })
    await this.#settle()
    await this.#openEverything()
    await this.#settle()
    await this.#perform(d0, 'budget.open', async ({ space }) => {
      await (await space.budgets.require(this.#world.budget?.id ?? '')).openVoting()
      return 'budget.open'
    })
    await this.#settle()
  }

  // ---- the schedule ----

  async #event(): Promise<void> {
    const random = this.#random
    const roll = random.next()
    if (roll < 0.45) await this.#perform(pick(random, this.#honest), undefined, drawOperation(random))
    else if (roll < 0.62) this.#network.run({ maxSteps: random.int(1, 80) })
    else if (roll < 0.69) await this.#idle()
    else if (roll < 0.75) this.#partitionOrHeal()
    else if (roll < 0.79) this.#changeFaults()
    else if (roll < 0.86) await this.#flush(pick(random, this.#honest))
    else if (roll < 0.9) {
      if (this.#options.crashes !== 'none') await this.#crash(pick(random, this.#honest))
    } else if (this.#byzantine.length > 0) await this.#attack(pick(random, this.#byzantine))
  }

  /** Runs an operation at a district and records what it wrote (every document whose own client advanced). */
  async #perform(district: SimDistrict, label: string | undefined, operation: Operation): Promise<void> {
    const space = district.space
    const before = new Map<string, number>()
    for (const [name, doc] of space.openDocs()) before.set(name, WriteLedger.mark(doc))
    let name: string | undefined
    try {
      name = await operation({ district: district.id, space, newer: this.#newer.has(district.id) }, this.#world, this.#random)
    } catch (error) {
      if (!(error instanceof CabildoError)) throw error
      if (label !== undefined) this.#fail({ check: 'error', message: `setup step ${label} at ${district.id} failed: ${error.code} ${error.message}` })
      this.#trace(`${district.id}: refused ${error.code} ${error.message}`)
      this.counts.refusedLocally[error.code] = (this.counts.refusedLocally[error.code] ?? 0) + 1
      return
    }
    if (name === undefined) {
      this.counts.skipped++
      return
    }
    this.counts.operations[name] = (this.counts.operations[name] ?? 0) + 1
    const wrote: string[] = []
    for (const [doc, ydoc] of space.openDocs()) {
      const write = this.#ledger.record({ district: district.id, incarnation: district.incarnation, op: name, doc }, ydoc, before.get(doc) ?? 0)
      if (write) wrote.push(`${doc}@${write.client}:${write.clock}`)
    }
    this.#trace(`${district.id}#${district.incarnation}: ${name} ${wrote.join(' ')}`)
  }

  #partitionOrHeal(): void {
    const random = this.#random
    if (random.next() < 0.5) {
      this.#network.heal()
      this.counts.heals++
      this.#trace('heal')
      return
    }
    const peers = [...this.#honest.map((d) => d.id), ...this.#byzantine.map((b) => b.id)]
    const groups = random.int(2, Math.min(3, peers.length))
    const assignment: string[][] = Array.from({ length: groups }, () => [])
    for (const peer of peers) assignment[random.int(0, groups - 1)]?.push(peer)
    this.#network.partition(assignment)
    this.counts.partitions++
    this.#trace(`partition ${JSON.stringify(assignment)}`)
  }

  #changeFaults(): void {
    const random = this.#random
    this.#network.configure({
      dropRate: random.int(0, 20) / 100,
      duplicateRate: random.int(0, 20) / 100,
      reorderRate: random.int(0, 50) / 100,
      delay: { min: 1, max: random.int(1, 20) },
    })
    this.counts.faultChanges++
  }

  async #flush(district: SimDistrict): Promise<void> {
    const durable = this.#ledger.flushStarted(district.id, district.incarnation)
    try {
      await district.space.flush()
      durable()
      this.counts.flushes++
      this.#trace(`${district.id}: flushed`)
    } catch (error) {
      this.#fail({ check: 'error', message: `flush at ${district.id} failed: ${error instanceof Error ? error.message : String(error)}` })
    }
  }

  /**
   * Kills a district's process and restarts it from its disk, at the moment the crash mode
   * allows (with `anywhere`, half the time right after an operation returned).
   */
  async #crash(district: SimDistrict): Promise<void> {
    const mode = this.#options.crashes
    if (mode === 'anywhere' && this.#random.next() < 0.5) await this.#perform(district, undefined, drawOperation(this.#random))
    else if (mode === 'flushed') await this.#flush(district)
    else if (mode === 'quiet') await district.engine.idle()
    this.counts.strikes += district.engine.stats().malformed
    const durable = this.#ledger.crashed(district.id, district.incarnation)
    await district.crashAndRestart()
    this.counts.crashes++
    this.#trace(`${district.id}: crashed, restarted as #${district.incarnation}`)
    // Before it talks to anyone: every write a flush acknowledged is on its disk.
    for (const write of durable) {
      const doc = await district.space.doc(write.doc)
      if (!WriteLedger.holds(doc, write)) {
        this.#fail({ check: 'crash-durability', message: `${district.id} lost ${write.op} in ${write.doc} (client ${write.client} clock ${write.clock}) in crash ${this.counts.crashes}, although a flush had acknowledged it` })
      }
    }
  }

  async #attack(byzantine: SimByzantine): Promise<void> {
    const names = this.#honest[0]?.space.shardNames() ?? []
    const docs = [MANIFEST_DOC, ...names]
    byzantine.follow(docs)
    if (this.#options.attacks.length === 0) return
    const kind = pick(this.#random, this.#options.attacks)
    const sent = await byzantine.attack(kind, docs, this.#random)
    if (sent === undefined) return
    this.counts.attacks[kind] = (this.counts.attacks[kind] ?? 0) + 1
    this.#trace(`${byzantine.id}: ${kind}`)
    for (const [hash, envelope] of sent) this.#attacks.set(hash, envelope)
  }

  // ---- settling and healing ----

  async #idle(): Promise<void> {
    await Promise.all(this.#honest.map((d) => d.engine.idle()))
  }

  async #settle(): Promise<void> {
    await this.#network.settle({ maxSteps: 200_000, idle: () => this.#idle() })
  }

  async #openEverything(): Promise<void> {
    const names = [...new Set(this.#honest.flatMap((d) => d.space.shardNames()))].sort()
    for (const district of this.#honest) for (const name of names) await district.space.doc(name)
  }

  /** Ends every partition and fault, opens every shard everywhere, and lets heads exchanges repair what was lost. */
  async #healEverything(): Promise<void> {
    this.#network.heal()
    this.#network.configure({ dropRate: 0, duplicateRate: 0, reorderRate: 0, delay: 1 })
    for (let round = 0; round < 3; round++) {
      await this.#settle()
      await this.#openEverything()
      for (const district of this.#honest) district.engine.resync()
      await this.#settle()
    }
  }
}
