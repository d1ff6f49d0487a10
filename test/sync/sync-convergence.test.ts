/**
 * Five honest replicas edit tickets, proposals and a budget concurrently while the network
 * drops, duplicates, reorders and delays messages and splits into random partitions; once it
 * heals, every document is identical everywhere (state vector, delete set, content) and so is
 * every typed and resolved view. Seeded: the test's name prints the line that replays it.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { CabildoError, createIdentity, createMemoryNetwork, createSeededRandom, type Identity, type SeededRandom } from '../../src/index'
import { expectSameDocs, openAll, replica, settle, type Replica } from './sync-fixtures'

const seeds = process.env['SEED'] === undefined ? [1, 2, 3] : [Number(process.env['SEED'])]

let ids: Identity[] = []

beforeAll(async () => {
  ids = await Promise.all(Array.from({ length: 5 }, () => createIdentity()))
})

/** Runs `op`, ignoring refusals a concurrent edit can legitimately cause (E_INVALID, E_FORBIDDEN, E_LATE...). */
async function attempt(op: () => Promise<unknown> | unknown): Promise<void> {
  try {
    await op()
  } catch (error) {
    if (!(error instanceof CabildoError)) throw error
  }
}

function pick<T>(random: SeededRandom, items: readonly T[]): T {
  return items[random.int(0, items.length - 1)] as T
}

async function simulate(seed: number) {
  const random = createSeededRandom(seed)
  const network = createMemoryNetwork({ seed })
  const [root, staff, agency, v1, v2] = ids as [Identity, Identity, Identity, Identity, Identity]
  const names = ['root', 'staff', 'agency', 'v1', 'v2']
  const replicas = ids.map((identity, i) => replica(network, names[i] as string, identity, { districts: { north: root.did } }))
  const [rRoot, rStaff, , rV1] = replicas as [Replica, Replica, Replica, Replica, Replica]
  const engines = replicas.map((r) => r.engine)

  // A calm start: roles, a budget open for voting, a ticket and a proposal, known everywhere.
  await rRoot.space.grantRole(staff.did, 'staff')
  await rRoot.space.grantRole(agency.did, 'agency:roads')
  const budget = await rStaff.space.budgets.create({ title: 'PB', total: '1000', currency: 'EUR', district: 'north', votingMethod: { kind: 'approval', maxProjects: 2 } })
  const projects: string[] = []
  for (const [title, cost] of [['Park', '600'], ['Library', '300'], ['Pool', '500']] as const) {
    projects.push((await rStaff.space.projects.create({ budget: budget.id, title, cost, district: 'north' })).id)
  }
  for (const voter of [v1, v2, agency]) await rRoot.space.grantRole(voter.did, `voter:${budget.id}`)
  const tickets = [(await rV1.space.tickets.create({ service_code: 'pothole', district: 'north', agency_responsible: 'roads' })).id]
  const proposal = await rV1.space.proposals.create({ title: 'Trees', district: 'north', process: 'pb2027', body: 'Plant trees.' })
  await settle(network, engines)
  await openAll(replicas.map((r) => r.space))
  await settle(network, engines)
  await (await rStaff.space.budgets.require(budget.id)).openVoting()
  await settle(network, engines)

  // Chaos.
  network.configure({ dropRate: 0.1, duplicateRate: 0.1, reorderRate: 0.3, delay: { min: 1, max: 12 } })
  for (let round = 0; round < 8; round++) {
    if (random.next() < 0.5) {
      const shuffled = [...names].sort(() => random.next() - 0.5)
      const cut = random.int(1, names.length - 1)
      network.partition([shuffled.slice(0, cut), shuffled.slice(cut)])
    } else network.heal()
    for (let op = 0; op < 6; op++) {
      const r = pick(random, replicas)
      const space = r.space
      const kind = random.int(0, 5)
      if (kind === 0) {
        const created = await space.tickets.create({ service_code: pick(random, ['pothole', 'graffiti', 'light']), district: 'north', agency_responsible: 'roads' })
        tickets.push(created.id)
      } else if (kind === 1) {
        const ticket = await space.tickets.get(pick(random, tickets))
        if (ticket) ticket.update({ status_notes: `${r.name} round ${round} op ${op}` })
      } else if (kind === 2) {
        const ticket = await space.tickets.get(pick(random, tickets))
        if (ticket) await attempt(() => (random.next() < 0.5 ? ticket.acknowledge() : ticket.close()))
      } else if (kind === 3) {
        const text = (await space.proposals.require(proposal.id)).text('body')
        if (random.next() < 0.7 || text.length < 4) text.insert(random.int(0, text.length), `[${r.name}${round}]`)
        else text.delete(random.int(0, text.length - 3), 2)
      } else if (kind === 4) {
        const chosen = projects.filter(() => random.next() < 0.4).slice(0, 2)
        await attempt(async () => (await space.budgets.require(budget.id)).castBallot({ kind: 'approval', approved: chosen }))
      } else {
        await attempt(async () => (await space.proposals.require(proposal.id)).update({ title: `Trees (${r.name} ${round})` }))
      }
      network.run({ maxSteps: random.int(0, 30) })
      if (random.next() < 0.3) await Promise.all(engines.map((e) => e.idle()))
    }
  }

  // Heal, calm the network, and let the heads exchange repair what was lost.
  network.heal()
  network.configure({ dropRate: 0, duplicateRate: 0, reorderRate: 0, delay: 1 })
  await settle(network, engines)
  await openAll(replicas.map((r) => r.space))
  for (const engine of engines) engine.resync()
  await settle(network, engines)
  return { network, replicas, tickets, proposal, budget }
}

describe('sync convergence under faults', () => {
  for (const seed of seeds) {
    it(`five replicas converge to identical documents and views (rerun: SEED=${seed} npx vitest run test/sync/sync-convergence.test.ts)`, async () => {
      const { network, replicas, tickets, proposal, budget } = await simulate(seed)
      const spaces = replicas.map((r) => r.space)
      await expectSameDocs(spaces)

      // Typed and resolved views agree too.
      for (const id of tickets) {
        const views = await Promise.all(spaces.map(async (space) => {
          const ticket = await space.tickets.require(id)
          return { value: ticket.get().value, resolved: await ticket.resolve() }
        }))
        for (const view of views) expect(view).toEqual(views[0])
      }
      const proposals = await Promise.all(spaces.map(async (space) => {
        const entity = await space.proposals.require(proposal.id)
        return { value: entity.get().value, resolved: await entity.resolve() }
      }))
      for (const view of proposals) expect(view).toEqual(proposals[0])
      const budgets = await Promise.all(spaces.map(async (space) => (await space.budgets.require(budget.id)).resolve()))
      for (const view of budgets) expect(view).toEqual(budgets[0])

      // Nothing honest was refused, nothing waits, and the faults did happen.
      for (const r of replicas) {
        expect(r.engine.quarantine(), r.name).toEqual([])
        expect(r.engine.stats().pending, r.name).toBe(0)
      }
      const stats = network.stats()
      expect(stats.dropped).toBeGreaterThan(0)
      expect(stats.duplicated).toBeGreaterThan(0)
      expect(stats.reordered).toBeGreaterThan(0)
      for (const space of spaces) await space.close()
    })
  }

})
