/**
 * The demo's story: three districts' apps, their staff and citizens, a participatory budget,
 * service tickets, a partition, concurrent conflicting acts and a compromised app.
 *
 * - District North runs a participation app (proposals, the budget vote).
 * - District South runs a service-ticket app one schema version ahead (tickets carry an
 *   accessibility field the others do not know).
 * - District East is offline: its app exchanges bundle files with North.
 * North and South reach each other only through a relay started in this process on 127.0.0.1.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import * as Y from 'yjs'
import { appendAct, createMemoryNetwork, createSpace, loadOrCreateIdentity, type Identity, type Space, type SyncEngine } from '../../src/index'
import { fileIdentityStore, openFileSpace, startRelay, type Relay } from '../../src/node/index'
import { connect, converge, handOver } from './network'
import { ticketsV2 } from './newer-tickets'
import type { Progress } from './progress'

/** The Space every district shares: the city's civic space. */
export const SPACE_ID = 'city-of-example'

/** What the story leaves behind for the report. */
export interface Outcome {
  /** The three district apps, by name. */
  readonly districts: ReadonlyArray<{ readonly name: string; readonly space: Space }>
  /** Envelopes the relay refused, by code (the compromised app's forgeries). */
  readonly refusedByRelay: Readonly<Record<string, number>>
  /** Records found from earlier runs. */
  readonly earlier: number
  /** Who each key is (`did:key` → name), to print acts by name. */
  readonly names: ReadonlyMap<string, string>
  /** Stops the relay and closes every Space. */
  close(): Promise<void>
}

interface Person {
  readonly identity: Identity
  readonly space: Space
}

/** Runs the story with its data under `dataDir`. */
export async function runScenario(dataDir: string, progress: Progress): Promise<Outcome> {
  const key = (name: string): Promise<Identity> => loadOrCreateIdentity(fileIdentityStore(join(dataDir, 'keys', `${name}.json`)))
  const names = ['north-root', 'south-root', 'east-root', 'north-staff', 'north-clerk', 'south-staff', 'south-desk', 'roads-agency', 'ana', 'diego', 'bruno', 'carmen', 'rogue-app'] as const
  progress.step('Keys: district roots, staff, an agency, citizens, and an app that will be compromised')
  const keys = {} as Record<(typeof names)[number], Identity>
  for (const name of names) {
    keys[name] = await key(name)
    progress.count('keys', Object.keys(keys).length)
  }
  const districts = { north: keys['north-root'].did, south: keys['south-root'].did, east: keys['east-root'].did }

  progress.step('Three district apps open their file stores; a relay starts on 127.0.0.1')
  const open = (name: string, identity: Identity) => openFileSpace({ id: SPACE_ID, directory: join(dataDir, name), identity, districts })
  const north = await open('north', keys['north-root'])
  const south = await open('south', keys['south-root'])
  const east = await open('east', keys['east-root'])
  const earlier = (await north.tickets.list()).length + (await north.proposals.list()).length + (await north.budgets.list()).length
  progress.count('records from earlier runs', earlier)
  const relay: Relay = await startRelay({ dataDir: join(dataDir, 'relay'), spaces: [SPACE_ID], resyncEvery: 500 })
  progress.count('relay port', relay.port)

  // Everyone else: staff desks and citizens' phones, each its own replica and key.
  const people: Space[] = []
  const person = (identity: Identity): Person => {
    const space = createSpace({ id: SPACE_ID, identity, districts })
    people.push(space)
    return { identity, space }
  }
  const northStaff = person(keys['north-staff'])
  const northClerk = person(keys['north-clerk'])
  const southStaff = person(keys['south-staff'])
  const southDesk = person(keys['south-desk'])
  const roads = person(keys['roads-agency'])
  const ana = person(keys['ana'])
  const diego = person(keys['diego'])
  const bruno = person(keys['bruno'])
  const brunoLaptop = person(keys['bruno']) // the same citizen on a second device
  const rogue = person(keys['rogue-app'])
  const online: Array<{ space: Space; peerId: string }> = [
    { space: north, peerId: 'north-app' },
    { space: south, peerId: 'south-app' },
    { space: northStaff.space, peerId: 'north-staff' },
    { space: northClerk.space, peerId: 'north-clerk' },
    { space: southStaff.space, peerId: 'south-staff' },
    { space: southDesk.space, peerId: 'south-desk' },
    { space: roads.space, peerId: 'roads-agency' },
    { space: ana.space, peerId: 'ana' },
    { space: diego.space, peerId: 'diego' },
    { space: bruno.space, peerId: 'bruno-phone' },
    { space: brunoLaptop.space, peerId: 'bruno-laptop' },
    { space: rogue.space, peerId: 'rogue-app' },
  ]
  const engines = new Map<Space, SyncEngine>(online.map(({ space, peerId }) => [space, connect(space, relay, peerId)]))
  const connected = (): Space[] => online.filter(({ space }) => !engines.get(space)?.closed).map(({ space }) => space)
  const settle = async (): Promise<void> => {
    await converge([...connected(), relay.space(SPACE_ID) as Space], [...engines.values()])
  }
  progress.count('replicas online', online.length)
  // East's kiosk: a citizen's tablet on East's own network, never on the relay.
  const eastLan = createMemoryNetwork({ seed: 7 })
  const carmen = person(keys['carmen'])
  const eastEngines = [east.sync(eastLan.transport(), { peerId: 'east-app', resyncEvery: 0, eager: true }), carmen.space.sync(eastLan.transport(), { peerId: 'carmen', resyncEvery: 0, eager: true })]
  const settleEast = async (): Promise<void> => {
    await eastLan.settle({ idle: async () => void (await Promise.all(eastEngines.map((engine) => engine.idle()))) })
  }
  await settle()

  progress.step('Roots grant roles; North opens a participatory budget; South files tickets')
  await north.grantRole(keys['north-staff'].did, 'staff')
  await north.grantRole(keys['north-clerk'].did, 'staff')
  await south.grantRole(keys['south-staff'].did, 'staff')
  await south.grantRole(keys['south-desk'].did, 'staff')
  await south.grantRole(keys['roads-agency'].did, 'agency:roads')
  progress.count('roles', 5)
  await settle()
  const proposal = await northStaff.space.proposals.create({
    title: 'Shade trees for Plaza Mayor',
    district: 'north',
    process: 'pb2026',
    body: 'Plant twelve native trees around the plaza.',
    tags: ['green'],
  })
  const budget = await northStaff.space.budgets.create({ title: 'Participatory budget 2027', total: '1000000', currency: 'EUR', district: 'north', votingMethod: { kind: 'approval', maxProjects: 2 } })
  const project = async (title: string, cost: string): Promise<string> => (await northStaff.space.projects.create({ budget: budget.id, title, cost, district: 'north' })).id
  const park = await project('Pocket park on Calle Sol', '600000')
  const library = await project('Library evening hours', '300000')
  const pool = await project('Open-air pool repair', '500000')
  progress.count('projects', 3)
  for (const voter of [ana, diego, bruno, carmen]) await north.grantRole(voter.identity.did, `voter:${budget.id}`)
  progress.count('voters', 4)
  const pothole = await southStaff.space.tickets.create({
    service_code: 'pothole',
    service_name: 'Pothole repair',
    description: 'Deep pothole in front of the primary school',
    district: 'south',
    agency_responsible: 'roads',
    lat: 40.4168,
    long: -3.7038,
  })
  const lamp = await southStaff.space.tickets.create({ service_code: 'streetlight', description: 'Lamp out on Calle Luna', district: 'south' })
  const bench = await southStaff.space.tickets.create({ service_code: 'bench', description: 'Broken bench at the bus stop', district: 'south' })
  progress.count('tickets', 3)
  await settle()
  // South's newer app records what only it knows about; the others keep the field untouched.
  await (await ticketsV2(south).require(pothole.id)).update({ accessibility: 'step-free-route-blocked' })
  await (await southStaff.space.tickets.require(bench.id)).acknowledge({ note: 'Seen by the desk' })
  await (await northStaff.space.budgets.require(budget.id)).openVoting({ note: 'Vote until Sunday' })
  await settle()

  progress.step('East, offline, receives everything on a bundle file')
  const bundles = join(dataDir, 'bundles')
  await mkdir(bundles, { recursive: true })
  const toEast = await handOver(north, east, bundles, 'north-to-east')
  progress.count('bundle bytes', toEast.bytes)
  progress.count('envelopes applied', toEast.report.totals.applied)
  await settleEast()

  progress.step('Citizens of three districts vote; Bruno votes from two devices at once')
  await (await ana.space.budgets.require(budget.id)).castBallot({ kind: 'approval', approved: [park, library] })
  await (await diego.space.budgets.require(budget.id)).castBallot({ kind: 'approval', approved: [park] })
  await (await carmen.space.budgets.require(budget.id)).castBallot({ kind: 'approval', approved: [pool] })
  // Both of Bruno's devices vote before either hears of the other's ballot: one counts.
  const brunoPhone = engines.get(bruno.space)
  const brunoDesk = engines.get(brunoLaptop.space)
  brunoPhone?.close()
  brunoDesk?.close()
  await (await bruno.space.budgets.require(budget.id)).castBallot({ kind: 'approval', approved: [library, pool] })
  await (await brunoLaptop.space.budgets.require(budget.id)).castBallot({ kind: 'approval', approved: [park] })
  engines.set(bruno.space, connect(bruno.space, relay, 'bruno-phone'))
  engines.set(brunoLaptop.space, connect(brunoLaptop.space, relay, 'bruno-laptop'))
  progress.count('ballots', 5)
  await settleEast()
  await settle()

  progress.step('A partition: North loses the relay; both sides keep working')
  for (const space of [north, northStaff.space, ana.space, diego.space]) engines.get(space)?.close()
  const offline = [northClerk.space, southDesk.space]
  for (const space of offline) engines.get(space)?.close()
  // North's two staff allocate money concurrently: together they exceed the budget's total.
  await (await northStaff.space.budgets.require(budget.id)).allocate({ project: park, amount: '600000', note: 'Most approved' })
  await (await northStaff.space.budgets.require(budget.id)).allocate({ project: library, amount: '300000' })
  await (await northClerk.space.budgets.require(budget.id)).allocate({ project: pool, amount: '500000', note: 'Urgent repair' })
  progress.count('allocations', 3)
  // Two of South's staff act on the same acknowledged ticket at once: one closes it, one starts work.
  await (await southStaff.space.tickets.require(bench.id)).close({ note: 'Replaced' })
  await (await southDesk.space.tickets.require(bench.id)).start({ note: 'Crew sent' })
  // The roads agency closes the pothole; North's residents add a note to it, offline.
  await (await roads.space.tickets.require(pothole.id)).close({ note: 'Filled and sealed' })
  await (await north.tickets.require(pothole.id)).update({ status_notes: 'Reported again by North residents' })
  const proposalAtSouth = await south.proposals.require(proposal.id)
  ;(await north.proposals.require(proposal.id)).text('body').insert(0, 'Revised: ')
  proposalAtSouth.text('body').insert(proposalAtSouth.text('body').length, ' South asks for benches too.')
  progress.count('concurrent acts', 7)

  progress.step('The compromised app forges a close, writes in South\'s name and deletes records')
  // 1. A close signed with its own key, written straight into the document past the SDK's checks.
  const lampShard = await rogue.space.doc(lamp.shard)
  const forged = await rogue.identity.sign({ type: 'ticket.transition', doc: `${SPACE_ID}/${lamp.shard}`, clock: 1, payload: { ticket: lamp.id, from: 'open', to: 'closed' } })
  appendAct(lampShard, forged, 'rogue')
  await engines.get(rogue.space)?.idle()
  // 2. Writing under the Yjs client id of South's app: edits in South's name.
  const southClient = [...Y.decodeStateVector(Y.encodeStateVector(await south.doc(lamp.shard))).keys()].find((client) => client !== lampShard.clientID)
  if (southClient !== undefined) {
    const ownClient = lampShard.clientID
    lampShard.clientID = southClient
    lampShard.getMap('tickets').set('forged', 'in South\'s name')
    lampShard.clientID = ownClient
  }
  // 3. Deleting another district's records outright (an anonymous delete in plain Yjs).
  const proposalShard = await rogue.space.doc(proposal.shard)
  proposalShard.getMap('proposals').delete(proposal.id)
  await engines.get(rogue.space)?.idle()
  progress.count('forgeries sent', 3)

  progress.step('The partition heals; East hands its votes over and receives the rest')
  engines.get(rogue.space)?.close() // the compromised app is switched off
  for (const space of [north, northStaff.space, ana.space, diego.space, ...offline]) engines.set(space, connect(space, relay, online.find((o) => o.space === space)?.peerId ?? 'x'))
  const fromEast = await handOver(east, north, bundles, 'east-to-north')
  progress.count('east → north envelopes', fromEast.report.totals.applied)
  await settle()
  const backToEast = await handOver(north, east, bundles, 'north-to-east-2')
  progress.count('north → east envelopes', backToEast.report.totals.applied)
  await settleEast()

  const refusedByRelay = relay.metrics().rejected
  return {
    districts: [
      { name: 'North', space: north },
      { name: 'South', space: south },
      { name: 'East', space: east },
    ],
    refusedByRelay,
    earlier,
    names: new Map(Object.entries(keys).map(([name, identity]) => [identity.did, name])),
    async close() {
      for (const engine of [...engines.values(), ...eastEngines]) engine.close()
      eastLan.close()
      await relay.close()
      for (const space of [...people, north, south, east]) await space.close()
    },
  }
}
