/**
 * The cabildo demo: two districts' apps share one civic space with no server in between.
 *
 * District North runs a participation app (proposals); District South runs a service-ticket
 * app. Each keeps its replica in files of its own (embedded storage, nothing to install) and
 * acts with its own keys. They edit the same records — sometimes at the same time — and exchange
 * Yjs updates. Decisions are signed acts: South's roads agency closes a ticket; a compromised app
 * tries to close another one without the role and its forged act is kept but never counts. At
 * the end both replicas resolve the same view, which the demo prints with a content hash per
 * district; it exits non-zero if the hashes differ.
 *
 * Run: `npm run demo` (flags: `--quiet`, `--json`, `--data DIR`; a second run picks up the data).
 */
import { join } from 'node:path'
import { appendAct, contentHash, loadOrCreateIdentity, syncSpaces, type Identity, type Space } from '../../src/index'
import { fileIdentityStore, openFileSpace } from '../../src/node/index'

const argv = process.argv.slice(2)
const quiet = argv.includes('--quiet')
const json = argv.includes('--json')
const dataIndex = argv.indexOf('--data')
const dataDir = (dataIndex >= 0 ? argv[dataIndex + 1] : undefined) ?? '.demo-data'
const say = (line: string): void => {
  if (!quiet && !json) console.log(line)
}

/** The resolved view of a district's replica: every record with its authoritative status. */
async function view(space: Space): Promise<Record<string, unknown>> {
  const values = async (c: { list(): Promise<Array<{ id: string; get(): { value: unknown } }>> }) =>
    Object.fromEntries((await c.list()).map((e) => [e.id, e.get().value]))
  const tickets: Record<string, unknown> = {}
  for (const t of await space.tickets.list()) {
    const resolved = await t.resolve()
    tickets[t.id] = { ...t.get().value, resolved: { status: resolved.status, requester: resolved.requester, rejected: resolved.rejected.map((r) => r.code) } }
  }
  return { proposals: await values(space.proposals), tickets, comments: await values(space.comments) }
}

async function identity(name: string): Promise<Identity> {
  return loadOrCreateIdentity(fileIdentityStore(join(dataDir, 'keys', `${name}.json`)))
}

async function main(): Promise<number> {
  // Keys: each district's root, South's roads agency, a citizen, and an app that was compromised.
  const northRoot = await identity('north-root')
  const southRoot = await identity('south-root')
  const roads = await identity('roads-agency')
  const citizen = await identity('citizen')
  const rogue = await identity('rogue-app')
  const districts = { north: northRoot.did, south: southRoot.did }
  const north = await openFileSpace({ id: 'city-of-example', directory: join(dataDir, 'north'), identity: northRoot, districts })
  const south = await openFileSpace({ id: 'city-of-example', directory: join(dataDir, 'south'), identity: southRoot, districts })
  const earlier = (await north.tickets.list()).length + (await north.proposals.list()).length
  if (earlier > 0) say(`0. Found ${earlier} records from earlier runs in ${dataDir}.`)

  say('1. South\'s root grants the roads agency its role; North publishes a proposal; South files two tickets.')
  await south.grantRole(roads.did, 'agency:roads')
  const proposal = await north.proposals.create({
    title: 'Shade trees for Plaza Mayor',
    district: 'north',
    process: 'pb2026',
    body: 'Plant twelve native trees around the plaza.',
    tags: ['green'],
  })
  const pothole = await south.tickets.create({
    service_code: 'pothole',
    service_name: 'Pothole repair',
    description: 'Deep pothole in front of the primary school',
    district: 'south',
    agency_responsible: 'roads',
    lat: 40.4168,
    long: -3.7038,
  })
  const lamp = await south.tickets.create({ service_code: 'streetlight', description: 'Lamp out on Calle Luna', district: 'south', agency_responsible: 'roads' })

  say('2. They sync: each now sees the other district\'s records.')
  await syncSpaces(north, south)

  say('3. While apart, both edit the same records; the agency closes the pothole; a rogue app forges a close.')
  const proposalAtSouth = await south.proposals.require(proposal.id)
  proposal.text('body').insert(0, 'Revised: ')
  proposalAtSouth.text('body').insert(proposalAtSouth.text('body').length, ' South asks for benches too.')
  proposalAtSouth.addToSet('tags', 'south')
  ;(await north.tickets.require(pothole.id)).update({ status_notes: 'Reported again by North residents' })
  await north.comments.create({ target: pothole.id, author: citizen.did, body: 'Still dangerous at night.' })

  // The agency's own app: the same Space id and roots, its own key.
  const agencyApp = await openFileSpace({ id: 'city-of-example', directory: join(dataDir, 'roads'), identity: roads, districts })
  await syncSpaces(agencyApp, south)
  await (await agencyApp.tickets.require(pothole.id)).close({ note: 'Filled and sealed' })
  await syncSpaces(agencyApp, south)

  // A compromised app in North signs a close of the lamp ticket with a key that holds no role, and
  // writes it straight into the document, bypassing the SDK's checks.
  const rogueApp = await openFileSpace({ id: 'city-of-example', directory: join(dataDir, 'rogue'), identity: rogue, districts })
  await syncSpaces(rogueApp, north, south)
  const forged = await rogue.sign({ type: 'ticket.transition', doc: `city-of-example/${lamp.shard}`, clock: 1, payload: { ticket: lamp.id, from: 'open', to: 'closed' } })
  appendAct(await rogueApp.doc(lamp.shard), forged, 'rogue')
  await syncSpaces(rogueApp, north)

  say('4. Everyone syncs again and compares their resolved views.')
  await syncSpaces(north, south, agencyApp, rogueApp)

  const districtsShown = [
    { name: 'North', space: north },
    { name: 'South', space: south },
  ]
  const results: Array<{ name: string; view: Record<string, unknown>; viewHash: string; rejected: number }> = []
  for (const { name, space } of districtsShown) {
    const v = await view(space)
    const rejected = Object.values(v['tickets'] as Record<string, { resolved: { rejected: string[] } }>).reduce((n, t) => n + t.resolved.rejected.length, 0)
    results.push({ name, view: v, viewHash: contentHash(v), rejected })
  }
  const converged = results.every((r) => r.viewHash === results[0]?.viewHash)

  if (json) {
    console.log(JSON.stringify({ converged, districts: results.map(({ name, viewHash, rejected }) => ({ name, viewHash, rejected })) }))
  } else {
    if (!quiet) {
      const v = results[0]?.view as {
        proposals: Record<string, { title: string; body: string; tags: string[] }>
        tickets: Record<string, { service_code: string; status_notes?: string; resolved: { status: string; rejected: string[] } }>
      }
      say('\nResolved view (identical on both districts):')
      for (const id of [proposal.id]) {
        const p = v.proposals[id]
        if (p) say(`  proposal  ${p.title} [${p.tags.join(', ')}]\n            "${p.body}"`)
      }
      for (const id of [pothole.id, lamp.id]) {
        const t = v.tickets[id]
        if (!t) continue
        const rejected = t.resolved.rejected.length > 0 ? `  rejected acts: ${t.resolved.rejected.join(', ')}` : ''
        say(`  ticket    ${t.service_code.padEnd(12)} ${t.resolved.status.padEnd(12)} ${t.status_notes ?? ''}${rejected}`)
      }
      say('')
    }
    for (const r of results) console.log(`${r.name.padEnd(6)} view hash ${r.viewHash}`)
    console.log(converged ? 'converged: yes' : 'converged: NO')
  }
  for (const space of [north, south, agencyApp, rogueApp]) await space.close()
  return converged ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err)
    process.exit(2)
  },
)
