/**
 * The seeded civic scenario of the attack tests: three honest replicas (a district root, its
 * staff, a citizen) file and handle a ticket, write a proposal and vote on a budget, in phases;
 * optionally a Byzantine peer joins, follows every document, and attacks in the middle of the
 * third phase while honest envelopes are still in flight on a reordering network.
 *
 * Everything that decides a document's bytes is fixed: identities come from fixed seeds, record
 * keys from a counter, `now` is a constant, and session nonces come from a seeded stream (the
 * Spaces' `sessionNonce`). Two runs with the same seed therefore give byte-identical documents, with
 * or without the attacker, unless an attack got in.
 */
import * as Y from 'yjs'
import {
  createMemoryNetwork,
  createSeededRandom,
  envelopeHash,
  identityFromKeyPair,
  keyPairFromSeed,
  MANIFEST_DOC,
  SESSION_BYTES,
  type Envelope,
  type GuardRejectionCode,
  type Identity,
  type MemoryNetwork,
} from '../../src/index'
import { ByzantinePeer } from '../../src/testing/byzantine/byzantine-peer'
import { openAll, replica, settle, type Replica } from './sync-fixtures'

/** The one instant of the scenario: every ticket lands in `tickets.2026-11`. */
const NOW = new Date('2026-11-05T10:00:00.000Z')

/** The scenario's people: three honest ones and the attacker. */
export interface ScenarioIdentities {
  readonly root: Identity
  readonly staff: Identity
  readonly citizen: Identity
  readonly mallory: Identity
}

/** Identities from fixed 32-byte seeds: the same keys, hence the same signatures, in every run. */
export async function scenarioIdentities(): Promise<ScenarioIdentities> {
  const [root, staff, citizen, mallory] = await Promise.all([1, 2, 3, 4].map(async (n) => identityFromKeyPair(await keyPairFromSeed(new Uint8Array(32).fill(n)))))
  return { root, staff, citizen, mallory } as ScenarioIdentities
}

/** The shards of the three document kinds. */
export interface ScenarioShards {
  readonly tickets: string
  readonly proposals: string
  readonly budget: string
}

/** What one replica's engine and documents reported during a run. */
export interface Observed {
  readonly rejected: Array<{ readonly peerId: string; readonly doc: string; readonly code: GuardRejectionCode; readonly hash: string | undefined }>
  readonly malformed: Array<{ readonly peerId: string; readonly reason: string }>
  /** Every `update` event of every document: the origin envelope's author and hash, or `local`. */
  readonly updates: Array<{ readonly doc: string; readonly author: string | undefined; readonly hash: string | undefined }>
}

/** What the attack callback gets, once every honest document is open everywhere and mirrored by the attacker. */
export interface AttackStage {
  readonly network: MemoryNetwork
  readonly mallory: ByzantinePeer
  readonly replicas: readonly Replica[]
  readonly shards: ScenarioShards
  /** Record ids: the ticket, the proposal, the budget. */
  readonly ids: { readonly ticket: string; readonly proposal: string; readonly budget: string }
}

/** A finished run: the replicas (still open: close them), what they reported, and every document's bytes. */
export interface ScenarioRun {
  readonly network: MemoryNetwork
  readonly replicas: readonly Replica[]
  readonly mallory: ByzantinePeer | undefined
  readonly shards: ScenarioShards
  readonly ids: AttackStage['ids'] & { readonly lateTicket: string; readonly projects: readonly string[] }
  readonly observed: ReadonlyMap<string, Observed>
  /** Replica name → document name → `Y.encodeStateAsUpdate`. */
  readonly states: ReadonlyMap<string, ReadonlyMap<string, Uint8Array>>
}

/**
 * Session nonces from one seeded stream shared by the replicas, drawn as their documents are
 * created: in the same order, hence the same nonces, in every run with the same seed.
 */
function seededNonces(seed: number): () => Uint8Array {
  const random = createSeededRandom(seed)
  return () => Uint8Array.from({ length: SESSION_BYTES }, () => random.int(0, 255))
}

function observe(r: Replica): Observed {
  const observed: Observed = { rejected: [], malformed: [], updates: [] }
  r.engine.on('rejected', ({ peerId, doc, code, hash }) => observed.rejected.push({ peerId, doc, code, hash }))
  r.engine.on('malformed', ({ peerId, reason }) => observed.malformed.push({ peerId, reason }))
  const watch = (name: string, doc: Y.Doc): void => {
    doc.on('update', (_update: Uint8Array, origin: unknown) => {
      // The guard applies an envelope's update with the envelope as origin; local edits have other origins.
      const envelope = origin !== null && typeof origin === 'object' && 'sig' in origin && 'author' in origin ? (origin as Envelope) : undefined
      observed.updates.push({ doc: name, author: envelope?.author, hash: envelope ? envelopeHash(envelope) : undefined })
    })
  }
  for (const [name, doc] of r.space.openDocs()) watch(name, doc)
  r.space.onDocOpen(watch)
  return observed
}

/**
 * Runs the scenario with `seed`. With `attack`, a Byzantine peer (`mallory`) joins first, follows
 * every document once phase two has settled, and `attack` runs in the middle of phase three.
 */
export async function runScenario(seed: number, people: ScenarioIdentities, attack?: (stage: AttackStage) => Promise<void>): Promise<ScenarioRun> {
  const sessionNonce = seededNonces(seed)
  const network = createMemoryNetwork({ seed })
  const { root, staff, citizen } = people
  const options = (name: string) => {
    let keys = 0
    return { districts: { north: root.did }, now: () => NOW, randomKey: () => `${name}${String(++keys).padStart(4, '0')}`, sessionNonce }
  }
  const replicas = [replica(network, 'root', root, options('root')), replica(network, 'staff', staff, options('staff')), replica(network, 'citizen', citizen, options('citizen'))]
  const [rRoot, rStaff, rCitizen] = replicas as [Replica, Replica, Replica]
  const observed = new Map(replicas.map((r) => [r.name, observe(r)]))
  const mallory = attack ? new ByzantinePeer({ transport: network.transport(), peerId: 'mallory', spaceId: 'city', signer: people.mallory.keyPair }) : undefined
  const engines = replicas.map((r) => r.engine)
  const calm = () => settle(network, engines)

  // Phase 1: roles, a budget open for voting, a ticket and a proposal, open everywhere.
  await rRoot.space.grantRole(staff.did, 'staff')
  await rRoot.space.grantRole(staff.did, 'agency:roads')
  const budget = await rStaff.space.budgets.create({ title: 'PB 2027', total: '1000', currency: 'EUR', district: 'north', votingMethod: { kind: 'approval', maxProjects: 2 } })
  const projects: string[] = []
  for (const [title, cost] of [['Park', '600'], ['Library', '300'], ['Pool', '500']] as const) {
    projects.push((await rStaff.space.projects.create({ budget: budget.id, title, cost, district: 'north' })).id)
  }
  for (const voter of [staff, citizen]) await rRoot.space.grantRole(voter.did, `voter:${budget.id}`)
  const ticket = await rCitizen.space.tickets.create({ service_code: 'pothole', district: 'north', agency_responsible: 'roads', description: 'Deep pothole on Main St' })
  const proposal = await rCitizen.space.proposals.create({ title: 'Trees', district: 'north', process: 'pb2027', body: 'Plant trees along the river.' })
  await calm()
  await openAll(replicas.map((r) => r.space))
  await calm()
  await (await rStaff.space.budgets.require(budget.id)).openVoting()
  await calm()

  // Phase 2: work on every kind of document.
  await (await rStaff.space.tickets.require(ticket.id)).acknowledge({ note: 'Crew notified' })
  ;(await rCitizen.space.proposals.require(proposal.id)).text('body').insert(0, 'Proposal: ')
  await (await rCitizen.space.budgets.require(budget.id)).castBallot({ kind: 'approval', approved: [projects[0] as string] })
  ;(await rRoot.space.tickets.require(ticket.id)).update({ status_notes: 'Reported twice' })
  await calm()
  const shards = { tickets: ticket.shard, proposals: proposal.shard, budget: budget.shard }
  const ids = { ticket: ticket.id, proposal: proposal.id, budget: budget.id }
  if (mallory) {
    for (const doc of [MANIFEST_DOC, shards.tickets, shards.proposals, shards.budget]) mallory.follow(doc)
    await calm()
  }

  // Phase 3: concurrent edits on a reordering network; the attack lands in the middle of them.
  network.configure({ reorderRate: 0.3, delay: { min: 1, max: 6 } })
  await (await rStaff.space.tickets.require(ticket.id)).close({ note: 'Filled' })
  ;(await rCitizen.space.proposals.require(proposal.id)).text('body').insert(0, '[revised] ')
  network.run({ maxSteps: 5 })
  await (await rStaff.space.budgets.require(budget.id)).castBallot({ kind: 'approval', approved: [projects[1] as string, projects[2] as string] })
  const late = await rCitizen.space.tickets.create({ service_code: 'graffiti', district: 'north' })
  if (attack && mallory) await attack({ network, mallory, replicas, shards, ids })
  await calm()
  network.configure({ reorderRate: 0, delay: 1 })
  for (const engine of engines) engine.resync()
  await calm()

  // Phase 4: edits after the attack, on every kind of document.
  ;(await rRoot.space.tickets.require(late.id)).update({ status_notes: 'Seen by the district' })
  const body = (await rCitizen.space.proposals.require(proposal.id)).text('body')
  body.insert(body.length, ' (final)')
  await (await rCitizen.space.budgets.require(budget.id)).castBallot({ kind: 'approval', approved: [projects[1] as string] })
  await calm()

  const states = new Map<string, Map<string, Uint8Array>>()
  for (const r of replicas) {
    const docs = new Map<string, Uint8Array>()
    for (const name of [MANIFEST_DOC, ...r.space.shardNames()]) docs.set(name, Y.encodeStateAsUpdate(await r.space.doc(name)))
    states.set(r.name, docs)
  }
  return { network, replicas, mallory, shards, ids: { ...ids, lateTicket: late.id, projects }, observed, states }
}
