/**
 * The cabildo demo: two districts' apps share one civic space with no server in between.
 *
 * District North runs a participation app (proposals); District South runs a service-ticket
 * app. Each edits its own Space replica — sometimes the same records, at the same time — and
 * they exchange Yjs updates. At the end both replicas hold the same typed view, which the demo
 * prints with a content hash per district. It exits non-zero if the hashes differ.
 *
 * Run: `npm run demo` (add `-- --quiet` for the summary only, `-- --json` for one JSON object).
 */
import { contentHash, createSpace, syncSpaces, type Space } from '../../src/index'

const args = new Set(process.argv.slice(2))
const quiet = args.has('--quiet')
const json = args.has('--json')
const say = (line: string): void => {
  if (!quiet && !json) console.log(line)
}

/** The resolved, typed view of a district's replica: every record of every collection, by id. */
async function view(space: Space): Promise<Record<string, unknown>> {
  const read = async (c: { list(): Promise<Array<{ id: string; get(): { value: unknown } }>> }) =>
    Object.fromEntries((await c.list()).map((e) => [e.id, e.get().value]))
  return {
    proposals: await read(space.proposals),
    budgets: await read(space.budgets),
    projects: await read(space.projects),
    tickets: await read(space.tickets),
    comments: await read(space.comments),
  }
}

async function main(): Promise<number> {
  const north = createSpace({ id: 'city-of-example' })
  const south = createSpace({ id: 'city-of-example' })

  say('1. North publishes a proposal; South files two service tickets.')
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
    lat: 40.4168,
    long: -3.7038,
  })
  await south.tickets.create({ service_code: 'streetlight', description: 'Lamp out on Calle Luna', district: 'south' })

  say('2. They sync: each now sees the other district\'s records.')
  await syncSpaces(north, south)

  say('3. While apart, both edit the same records concurrently.')
  const proposalAtSouth = await south.proposals.require(proposal.id)
  proposal.text('body').insert(0, 'Revised: ')
  proposalAtSouth.text('body').insert(proposalAtSouth.text('body').length, ' South asks for benches too.')
  proposalAtSouth.addToSet('tags', 'south')
  const potholeAtNorth = await north.tickets.require(pothole.id)
  potholeAtNorth.update({ status: 'acknowledged', agency_responsible: 'North public works' })
  pothole.update({ status_notes: 'Cones placed' })
  await north.comments.create({ target: pothole.id, author: 'citizen:ana', body: 'Still dangerous at night.' })

  say('4. They sync again and compare their views.')
  await syncSpaces(north, south)

  const districts = [
    { name: 'North', space: north },
    { name: 'South', space: south },
  ]
  const results: Array<{ name: string; view: Record<string, unknown>; viewHash: string }> = []
  for (const { name, space } of districts) {
    const v = await view(space)
    results.push({ name, view: v, viewHash: contentHash(v) })
  }
  const converged = results.every((r) => r.viewHash === results[0]?.viewHash)

  if (json) {
    console.log(JSON.stringify({ converged, districts: results.map(({ name, viewHash }) => ({ name, viewHash })) }))
  } else {
    if (!quiet) {
      const v = results[0]?.view as { proposals: Record<string, { title: string; body: string; tags: string[] }>; tickets: Record<string, { service_code: string; status: string; status_notes?: string }> }
      say('\nConverged view:')
      for (const p of Object.values(v.proposals)) say(`  proposal  ${p.title} [${p.tags.join(', ')}]\n            "${p.body}"`)
      for (const t of Object.values(v.tickets)) say(`  ticket    ${t.service_code.padEnd(12)} ${t.status.padEnd(12)} ${t.status_notes ?? ''}`)
      say('')
    }
    for (const r of results) console.log(`${r.name.padEnd(6)} view hash ${r.viewHash}`)
    console.log(converged ? 'converged: yes' : 'converged: NO')
  }
  await north.close()
  await south.close()
  return converged ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err)
    process.exit(2)
  },
)
