/**
 * Writes `src/seed.json`: the budget the example votes on, as the district would publish it. It
 * reads Warsaw–Wilanów's 2017 participatory budget from its Pabulib file, and signs, in a Space of
 * its own, what only district staff may do: the budget, its 21 projects, and the opening of the
 * vote (open to any key, approval ballots). Those signed envelopes go into the seed as a bundle,
 * which every page imports through its ingress guard: every browser starts from the same budget,
 * and nobody in a browser holds a staff key. The key made here is thrown away.
 *
 * Run from the repository root: `npx tsx examples/web-budget/make-seed.ts [path/to/file.pb]`.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { createIdentity, createSpace, exportBundle, parsePabulib } from '../../src/index'

const SPACE_ID = 'warszawa-wilanow-pb-2017'
const DISTRICT = 'wilanow'
const source = process.argv[2] ?? '../shared/data/pabulib/poland_warszawa_2017_wilanow-obszar-ii.pb'

const instance = parsePabulib(await readFile(source, 'utf8'))
const meta = (key: string): string => instance.meta.find((entry) => entry.key === key)?.value ?? ''

const root = await createIdentity()
// One Space, as the district root: it grants itself `staff` (a root holds no role it did not grant),
// so every envelope the browsers need, the grant included, is signed here and goes into the bundle.
const space = createSpace({ id: SPACE_ID, identity: root, districts: { [DISTRICT]: root.did } })
await space.grantRole(root.did, 'staff')

const budget = await space.budgets.create({
  title: `Participatory budget ${meta('unit')}, ${meta('subunit').replace('_', ' ')} ${meta('instance')}`,
  description: meta('description'),
  total: meta('budget'),
  currency: 'PLN',
  district: DISTRICT,
  votingMethod: { kind: 'approval', minProjects: 1 },
})
const projects: Array<{ id: string; pabulib: string }> = []
for (const row of instance.projects.rows) {
  const category = (row['category'] ?? '').split(',')[0] ?? ''
  const project = await space.projects.create({
    budget: budget.id,
    title: row['name'] ?? `Project ${row['project_id']}`,
    cost: row['cost'] ?? '0',
    district: DISTRICT,
    ...(category === '' ? {} : { category }),
  })
  projects.push({ id: project.id, pabulib: row['project_id'] ?? '' })
}
await budget.openVoting({ eligibility: 'anyone', note: 'Any resident may vote once; a later ballot replaces an earlier one.' })

const bundle = await exportBundle(space, { now: () => new Date(`${meta('instance')}-06-14T00:00:00Z`) })
const seed = {
  spaceId: SPACE_ID,
  district: DISTRICT,
  root: root.did,
  budget: budget.id,
  source: source.split('/').at(-1),
  projects,
  bundle: Buffer.from(bundle).toString('base64'),
}
await writeFile(new URL('./src/seed.json', import.meta.url), `${JSON.stringify(seed, null, 2)}\n`)
console.log(`seed: budget ${budget.id}, ${projects.length} projects, ${bundle.length} bytes of signed envelopes`)
await space.close()
