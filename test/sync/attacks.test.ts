/**
 * Byzantine attacks over the memory network. Each attack runs the same seeded civic scenario as
 * a run of three honest replicas alone (tickets, a proposal, a budget), with a Byzantine peer
 * added that attacks in the middle of the third phase, while honest envelopes are in flight on a
 * reordering network. Checked for every attack:
 * (a) every attack envelope gets the expected answer (refused and quarantined with its code
 *     before Yjs sees it, or a strike for a message that is no message);
 * (b) every honest document is byte-identical to the run without the attacker;
 * (c) edits made after the attack reach every replica;
 * (d) no document `update` event fired for what was refused.
 * Rerun one seed: SEED=<n> npx vitest run test/sync/attacks.test.ts
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createMemoryNetwork, decodeEnvelope, type Space } from '../../src/index'
import { SessionWriter } from '../../src/sync/session-writer'
import { attackSession, type Attack, type AttackAnswer, type AttackName, type EnvelopeAttack } from '../../src/testing/byzantine/attack'
import { anonymousDelete, censorshipRange, equivocation, forgedClient } from '../../src/testing/byzantine/authorship-attacks'
import { bitFlippedEnvelope, garbageMessage, oversizedEnvelope, replayedEnvelope, signedV2Bomb, truncatedEnvelope, v2Bomb } from '../../src/testing/byzantine/damage-attacks'
import { ByzantinePeer } from '../../src/testing/byzantine/byzantine-peer'
import { runScenario, scenarioIdentities, type AttackStage, type ScenarioIdentities, type ScenarioRun } from './attack-scenario'
import { openAll, replica, settle, type Replica } from './sync-fixtures'

const SEED = process.env['SEED'] === undefined ? 5 : Number(process.env['SEED'])
const rerun = `rerun: SEED=${SEED} npx vitest run test/sync/attacks.test.ts`

/** Verdicts that also earn the sender a strike (they do not depend on the receiver's state). */
const STRIKE_CODES: ReadonlySet<AttackAnswer> = new Set(['E_UPDATE_MALFORMED', 'E_SIGNATURE', 'E_WRONG_DOC'])

let people: ScenarioIdentities
let baseline: ScenarioRun
/** A genuine envelope of the citizen's, signed for the same shard name in another Space (`town`). */
let townEnvelope: Uint8Array

beforeAll(async () => {
  people = await scenarioIdentities()
  baseline = await runScenario(SEED, people)
  const doc = new Y.Doc()
  const outbox: Uint8Array[] = []
  const writer = new SessionWriter({ doc, docId: `town/${baseline.shards.tickets}`, signer: people.citizen.keyPair, session: attackSession('town'), onEnvelope: (bytes) => outbox.push(bytes) })
  doc.getMap('tickets').set('t1', 'filed in town')
  await writer.flush()
  townEnvelope = outbox[0] as Uint8Array
}, 60_000)

afterAll(async () => {
  await closeRun(baseline)
})

async function closeRun(run: ScenarioRun): Promise<void> {
  for (const r of run.replicas) await r.space.close()
  run.mallory?.close()
}

/** One attack sent to one honest peer. */
interface Sent {
  readonly to: string
  readonly attack: Attack
}

/** The map a civic document keeps its records in. */
function recordsOf(stage: AttackStage, doc: string): string {
  return doc === stage.shards.tickets ? 'tickets' : doc === stage.shards.proposals ? 'proposals' : 'budgets'
}

function kinds(stage: AttackStage): string[] {
  return [stage.shards.tickets, stage.shards.proposals, stage.shards.budget]
}

/** The session of `did` in `doc`, as the attacker saw it. */
function victim(stage: AttackStage, doc: string, did: string): number {
  const session = stage.mallory.sessions(doc).find((s) => s.author === did)
  if (!session) throw new Error(`no session of ${did} in ${doc}`)
  return session.clientId
}

/** The first genuine envelope of `doc` the attacker received. */
function genuine(stage: AttackStage, doc: string): Uint8Array {
  const bytes = stage.mallory.genuine(doc)[0]
  if (!bytes) throw new Error(`no genuine envelope of ${doc}`)
  return bytes
}

/** Sends each attack to every honest peer; returns what went where. */
function launchAll(stage: AttackStage, attacks: readonly Attack[]): Sent[] {
  const sent: Sent[] = []
  for (const attack of attacks) {
    for (const to of stage.mallory.peers()) sent.push({ to, attack })
    stage.mallory.launch(attack)
  }
  return sent
}

interface AttackCase {
  readonly name: AttackName
  readonly expected: AttackAnswer
  readonly launch: (stage: AttackStage) => Promise<Sent[]>
  /** Checks particular to the attack. */
  readonly verify?: (run: ScenarioRun) => Promise<void>
}

const cases: AttackCase[] = [
  {
    name: 'forged-client',
    expected: 'E_FORGED_CLIENT',
    launch: async (stage) => launchAll(stage, await Promise.all(kinds(stage).map((doc) => forgedClient({
      ...stage.mallory.target(doc),
      victimClient: victim(stage, doc, people.citizen.did),
      edit: (d) => d.getMap(recordsOf(stage, doc)).set('forged', 'written in the citizen\'s name'),
    })))),
  },
  {
    name: 'censorship-range',
    expected: 'E_FORGED_CLIENT',
    // The victims all edit these documents after the attack (phase 4): their edits must still arrive.
    launch: async (stage) => launchAll(stage, await Promise.all([
      censorshipRange({ ...stage.mallory.target(stage.shards.tickets), victimClient: victim(stage, stage.shards.tickets, people.root.did) }),
      censorshipRange({ ...stage.mallory.target(stage.shards.proposals), victimClient: victim(stage, stage.shards.proposals, people.citizen.did) }),
      censorshipRange({ ...stage.mallory.target(stage.shards.budget), victimClient: victim(stage, stage.shards.budget, people.citizen.did) }),
    ])),
  },
  {
    name: 'anonymous-delete',
    expected: 'E_FORBIDDEN_DELETE',
    launch: async (stage) => launchAll(stage, await Promise.all([
      anonymousDelete({ ...stage.mallory.target(stage.shards.tickets), root: 'tickets' }),
      anonymousDelete({ ...stage.mallory.target(stage.shards.proposals), root: 'proposals' }),
      anonymousDelete({ ...stage.mallory.target(stage.shards.budget), root: 'acts' }), // the signed phase acts and ballots
    ])),
  },
  {
    name: 'truncated-envelope',
    expected: 'E_UPDATE_MALFORMED',
    launch: async (stage) => launchAll(stage, kinds(stage).map((doc) => truncatedEnvelope(genuine(stage, doc), doc))),
  },
  {
    name: 'bit-flipped-envelope',
    expected: 'E_SIGNATURE',
    launch: async (stage) => launchAll(stage, kinds(stage).map((doc) => bitFlippedEnvelope(genuine(stage, doc), doc))),
  },
  {
    name: 'v2-bomb',
    expected: 'E_UPDATE_MALFORMED',
    launch: async (stage) => launchAll(stage, kinds(stage).map((doc) => v2Bomb(doc))),
  },
  {
    name: 'signed-v2-bomb',
    expected: 'E_UPDATE_MALFORMED',
    launch: async (stage) => launchAll(stage, await Promise.all(kinds(stage).map((doc) => signedV2Bomb(stage.mallory.target(doc))))),
  },
  {
    name: 'replayed-envelope',
    expected: 'E_WRONG_DOC',
    launch: async (stage) => {
      const { tickets, proposals, budget } = stage.shards
      return launchAll(stage, [
        replayedEnvelope(genuine(stage, tickets), proposals),
        replayedEnvelope(genuine(stage, proposals), budget),
        replayedEnvelope(genuine(stage, budget), tickets),
        replayedEnvelope(townEnvelope, tickets), // another Space's shard of the same name
      ])
    },
  },
  {
    name: 'equivocation',
    expected: 'E_EQUIVOCATION',
    // One story to root, the other to staff, both (first one, then the other) to the citizen.
    launch: async (stage) => {
      const sent: Sent[] = []
      for (const doc of kinds(stage)) {
        const attack = await equivocation({ ...stage.mallory.target(doc), edits: [(d) => d.getMap('byzantine').set('story', 'A'), (d) => d.getMap('byzantine').set('story', 'B')] })
        const [a, b] = attack.envelopes as [Uint8Array, Uint8Array]
        for (const [to, envelopes] of [['root', [a]], ['staff', [b]], ['citizen', [a, b]]] as const) {
          const part: EnvelopeAttack = { ...attack, envelopes }
          stage.mallory.launch(part, [to])
          sent.push({ to, attack: part })
        }
      }
      return sent
    },
    // Detected, not resolved: each replica keeps the story it applied first, every replica counts
    // the fork when it reads a peer's heads, and nothing merges the two.
    verify: async (run) => {
      const stories = { root: 'A', staff: 'B', citizen: 'A' } as const
      for (const r of run.replicas) {
        expect(r.engine.stats().forks, `${r.name}: forks counted`).toBeGreaterThan(0)
        for (const doc of [run.shards.tickets, run.shards.proposals, run.shards.budget]) {
          expect((await r.space.doc(doc)).getMap('byzantine').get('story'), `${r.name} ${doc}`).toBe(stories[r.name as keyof typeof stories])
        }
      }
      // The citizen got both stories: its quarantine holds the pair, the refused envelope and the one applied first.
      const citizen = run.replicas.find((r) => r.name === 'citizen')
      const pairs = citizen?.engine.quarantine().filter((q) => q.code === 'E_EQUIVOCATION' && q.peer === 'mallory') ?? []
      expect(pairs.length).toBeGreaterThan(0)
      for (const pair of pairs) {
        expect(pair.conflictsWith).toBeDefined()
        const applied = citizen?.space.signedDocs.get(pair.doc)?.log().find((entry) => entry.hash === pair.conflictsWith)
        expect(applied).toBeDefined()
        expect(sameBytes(pair.conflicting ?? new Uint8Array(), applied?.bytes ?? new Uint8Array(1))).toBe(true)
      }
    },
  },
  {
    name: 'oversized-envelope',
    expected: 'E_UPDATE_TOO_LARGE',
    launch: async (stage) => launchAll(stage, await Promise.all(kinds(stage).map((doc) => oversizedEnvelope(stage.mallory.target(doc))))),
  },
  {
    name: 'garbage-message',
    expected: 'strike',
    launch: async (stage) => launchAll(stage, kinds(stage).map((doc) => garbageMessage(doc))),
  },
]

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** The attack envelopes a replica's documents took in (in their logs): none, except equivocation's first and the signed V2 bomb. */
function appliedAttackEnvelopes(space: Space, sent: readonly Sent[]): Array<{ readonly doc: string; readonly bytes: Uint8Array }> {
  const applied: Array<{ doc: string; bytes: Uint8Array }> = []
  const seen = new Set<Uint8Array>()
  for (const { attack } of sent) {
    if ('message' in attack) continue
    for (const bytes of attack.envelopes) {
      if (seen.has(bytes)) continue
      seen.add(bytes)
      const log = space.signedDocs.get(attack.doc)?.log() ?? []
      if (log.some((entry) => sameBytes(entry.bytes, bytes))) applied.push({ doc: attack.doc, bytes })
    }
  }
  return applied
}

/** (a) and (d) at one replica: every attack envelope sent to it got the expected answer, and refused ones fired no event. */
function expectAnswered(run: ScenarioRun, name: string, sent: readonly Sent[], expected: AttackAnswer): void {
  const r = run.replicas.find((x) => x.name === name)
  if (!r) throw new Error(name)
  const observed = run.observed.get(name)
  if (!observed) throw new Error(name)
  const mine = sent.filter((s) => s.to === name)
  expect(mine.length, `${name}: attacks sent`).toBeGreaterThan(0)
  const fromMallory = observed.rejected.filter((x) => x.peerId === 'mallory')
  const strikes = observed.malformed.filter((x) => x.peerId === 'mallory')
  const quarantine = r.engine.quarantine()
  const applied = appliedAttackEnvelopes(r.space, mine)
  let refusedCount = 0
  for (const { attack } of mine) {
    if ('message' in attack) continue
    for (const [i, bytes] of attack.envelopes.entries()) {
      const held = quarantine.filter((q) => q.doc === attack.doc && sameBytes(q.bytes, bytes))
      const inLog = applied.some((a) => a.bytes === bytes)
      if (expected === 'E_EQUIVOCATION' && inLog) {
        expect(held).toEqual([])
      } else {
        expect(inLog, `${name}: ${attack.name} #${i} never applied`).toBe(false)
        expect(held.length, `${name}: ${attack.name} #${i} quarantined`).toBeGreaterThan(0)
        expect(new Set(held.map((q) => q.code)), `${name}: ${attack.name} #${i} code`).toEqual(new Set([expected]))
        expect(held.every((q) => q.peer === 'mallory')).toBe(true)
        refusedCount++
      }
    }
    if (expected === 'E_EQUIVOCATION') {
      // Of the pair, the first this replica saw is applied; every other one is refused.
      expect(applied.filter((a) => a.doc === attack.doc), `${name}: one story per document`).toHaveLength(1)
    }
  }
  if (expected === 'strike') {
    expect(strikes, `${name}: one strike per garbage message`).toHaveLength(mine.length)
    expect(fromMallory).toEqual([])
  } else {
    expect(fromMallory.map((x) => x.code), `${name}: rejected events`).toEqual(Array(refusedCount).fill(expected))
    expect(strikes, `${name}: strikes`).toHaveLength(STRIKE_CODES.has(expected) ? refusedCount : 0)
  }
  // (d) Refused envelopes fired no update event; the attacker's envelopes fired one only where applied with content.
  // (A replayed envelope is genuine in its own document: only its document is looked at.)
  const refused = new Set(quarantine.filter((q) => q.peer === 'mallory' && q.hash !== undefined).map((q) => `${q.doc} ${q.hash}`))
  expect(observed.updates.filter((u) => refused.has(`${u.doc} ${u.hash}`)), `${name}: events for refused input`).toEqual([])
  const withContent = expected === 'E_EQUIVOCATION' ? applied.map((a) => decodeEnvelope(a.bytes)).flatMap((d) => (d.ok ? [d.hash] : [])) : []
  expect(observed.updates.filter((u) => u.author === people.mallory.did).map((u) => u.hash).sort(), `${name}: events from the attacker`).toEqual(withContent.sort())
  expect(r.engine.stats().pending, `${name}: nothing left waiting`).toBe(0)
}

/** (b) Every document of every replica: the baseline's bytes, plus the attacker envelopes the replica applied (equivocation only). */
async function expectSameAsBaseline(run: ScenarioRun, sent: readonly Sent[]): Promise<void> {
  for (const r of run.replicas) {
    const expectedDocs = baseline.states.get(r.name)
    const actualDocs = run.states.get(r.name)
    expect([...(actualDocs?.keys() ?? [])], `${r.name}: documents`).toEqual([...(expectedDocs?.keys() ?? [])])
    const applied = appliedAttackEnvelopes(r.space, sent.filter((s) => s.to === r.name))
    for (const [doc, bytes] of expectedDocs ?? []) {
      let expected = bytes
      const extra = applied.filter((a) => a.doc === doc)
      if (extra.length > 0) {
        const replay = new Y.Doc()
        Y.applyUpdate(replay, bytes)
        for (const { bytes: envelope } of extra) {
          const decoded = decodeEnvelope(envelope)
          if (decoded.ok) Y.applyUpdate(replay, decoded.envelope.update)
        }
        expected = Y.encodeStateAsUpdate(replay)
      }
      expect(sameBytes(actualDocs?.get(doc) ?? new Uint8Array(0), expected), `${r.name} ${doc}: byte-identical to the run without the attacker`).toBe(true)
    }
  }
}

/** (c) The edits of phase 4, made after the attack, are everywhere. */
async function expectLaterEditsEverywhere(run: ScenarioRun): Promise<void> {
  for (const r of run.replicas) {
    expect((await r.space.tickets.require(run.ids.lateTicket)).get().value.status_notes, `${r.name}: ticket edit after the attack`).toBe('Seen by the district')
    expect((await r.space.proposals.require(run.ids.proposal)).get().value.body, `${r.name}: proposal edit after the attack`).toBe('[revised] Proposal: Plant trees along the river. (final)')
    const view = await (await r.space.budgets.require(run.ids.budget)).resolve()
    expect(view.ballots.find((b) => b.voter === people.citizen.did)?.payload, `${r.name}: ballot cast after the attack`).toMatchObject({ choice: { approved: [run.ids.projects[1]] } })
    expect(view.ballots).toHaveLength(2)
  }
}

describe(`Byzantine attacks over the memory network (${rerun})`, () => {
  it('the scenario is deterministic: a second honest run is byte-identical, document by document', async () => {
    const again = await runScenario(SEED, people)
    await expectSameAsBaseline(again, [])
    await expectLaterEditsEverywhere(again)
    expect(again.network.stats().reordered, 'the third phase reorders messages').toBeGreaterThan(0)
    await closeRun(again)
  })

  for (const attack of cases) {
    it(`${attack.name}: every attack envelope is answered with ${attack.expected}; honest documents are byte-identical to the run without the attacker, and keep syncing`, async () => {
      let sent: Sent[] = []
      const run = await runScenario(SEED, people, async (stage) => {
        sent = await attack.launch(stage)
      })
      try {
        expect(new Set(sent.map((s) => s.to))).toEqual(new Set(['root', 'staff', 'citizen']))
        for (const s of sent) expect(s.attack.expected).toBe(attack.expected)
        for (const r of run.replicas) expectAnswered(run, r.name, sent, attack.expected)
        await expectSameAsBaseline(run, sent)
        await expectLaterEditsEverywhere(run)
        for (const r of run.replicas) expect(r.engine.peers().find((p) => p.peerId === 'mallory')?.status, `${r.name}: mallory still connected`).toBe('syncing')
        await attack.verify?.(run)
      } finally {
        await closeRun(run)
      }
    })
  }
})

describe('equivocation: what detection does not fix', () => {
  it('an honest edit built on one story of an equivocating session waits forever at replicas that applied the other story, and so does the rest of that honest session in that document', async () => {
    const network = createMemoryNetwork({ seed: SEED })
    const north = replica(network, 'north', people.citizen, { districts: { north: people.root.did } })
    const south = replica(network, 'south', people.staff, { districts: { north: people.root.did } })
    const engines = [north.engine, south.engine]
    const mallory = new ByzantinePeer({ transport: network.transport(), peerId: 'mallory', spaceId: 'city', signer: people.mallory.keyPair })
    const proposal = await north.space.proposals.create({ title: 'Benches', district: 'north', process: 'pb2027', body: 'Ten benches.' })
    const ticket = await north.space.tickets.create({ service_code: 'pothole', district: 'north' })
    await settle(network, engines)
    await openAll([north.space, south.space])
    await settle(network, engines)
    mallory.follow(proposal.shard)
    await settle(network, engines)

    // Two stories of different lengths under the same ids: 'x' (clock 0) and 'yyyyy' (clocks 0-4).
    const body = (d: Y.Doc) => (d.getMap('proposals').get(proposal.id) as Y.Map<unknown>).get('body') as Y.Text
    const attack = await equivocation({ ...mallory.target(proposal.shard), edits: [(d) => body(d).insert(0, 'x'), (d) => body(d).insert(0, 'yyyyy')] })
    mallory.launch({ ...attack, envelopes: [attack.envelopes[0] as Uint8Array] }, ['north'])
    mallory.launch({ ...attack, envelopes: [attack.envelopes[1] as Uint8Array] }, ['south'])
    await settle(network, engines)
    const text = async (r: Replica) => (await r.space.proposals.require(proposal.id)).get().value.body
    expect(await text(north)).toBe('xTen benches.')
    expect(await text(south)).toBe('yyyyyTen benches.')

    // South types inside its story (after 'yyy'): that edit names Mallory's clock 2, which north never gets.
    ;(await south.space.proposals.require(proposal.id)).text('body').insert(3, '!')
    ;(await south.space.proposals.require(proposal.id)).update({ title: 'Benches and trees' })
    ;(await south.space.tickets.require(ticket.id)).update({ status_notes: 'from south' })
    await settle(network, engines)
    for (const engine of engines) engine.resync()
    await settle(network, engines)

    expect(north.engine.stats().forks + south.engine.stats().forks, 'the fork is detected').toBeGreaterThan(0)
    expect(north.engine.stats().pending, 'south\'s edits of the proposal wait at north').toBe(2)
    expect(await text(north)).toBe('xTen benches.')
    expect((await north.space.proposals.require(proposal.id)).get().value.title).toBe('Benches')
    expect((await north.space.tickets.require(ticket.id)).get().value.status_notes, 'other documents still sync').toBe('from south')
    mallory.close()
    for (const r of [north, south]) await r.space.close()
  })
})
