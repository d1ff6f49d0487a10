/**
 * Benchmark of the `onePerVoter` policy at participatory-budget scale.
 *
 *   npx tsx bench/policy.ts [ballots=100000] [incrementalAdds=2000]
 *
 * Measures: the batch fold of N ballots; the time of one incremental `add` to a resolver that
 * already holds N ballots (median and p99 over many adds: re-votes, new voters, out-of-order
 * clocks); and the time to materialize the view after one add. Records are made up front with
 * real content hashes, so hashing is not counted. The record set is fixed (no randomness).
 */
import { performance } from 'node:perf_hooks'
import { onePerVoter, type BallotValidation } from '../src/policy/one-per-voter'
import type { PolicyRecord } from '../src/policy/policy-record'
import { makePolicyRecord } from '../src/testing/policy-tests'

const N = Number(process.argv[2] ?? 100_000)
const ADDS = Number(process.argv[3] ?? 2_000)
const PROJECTS = Array.from({ length: 40 }, (_, i) => `project-${i}`)

const voterId = (i: number): string => `did:key:z6MkVoter${i.toString(36).padStart(6, '0')}`
const eligible = new Set(Array.from({ length: N + ADDS }, (_, i) => voterId(i)))
const validate = (payload: unknown): BallotValidation => {
  const projects = (payload as { projects?: unknown }).projects
  if (!Array.isArray(projects) || projects.length > 5) return { ok: false, reason: 'at most 5 projects', rule: 'maxProjects' }
  return { ok: true }
}
const policy = onePerVoter({
  authorize: (author, role) => (role === 'voter' ? eligible.has(author) : author === 'did:key:z6MkStaff'),
  eligibilityRole: 'voter',
  closeRole: 'staff',
  validate,
})

/** A deterministic ballot: voter i at clock c, approving a few projects. */
function ballot(i: number, clock: number): PolicyRecord {
  const projects = [PROJECTS[i % 40], PROJECTS[(i * 7 + clock) % 40], PROJECTS[(i * 13 + 3) % 40]]
  return makePolicyRecord({ author: voterId(i), clock, type: 'ballot', payload: { projects: [...new Set(projects)] } })
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
const ms = (x: number): string => `${x.toFixed(x < 1 ? 4 : 1)} ms`

let t = performance.now()
// 5% of voters vote twice, so the fold also handles superseded ballots.
const records: PolicyRecord[] = []
const firstVotes = Math.round(N * 0.95)
for (let i = 0; i < firstVotes; i++) records.push(ballot(i, 1 + (i % 997)))
for (let i = 0; records.length < N; i += 19) records.push(ballot(i % firstVotes, 1000 + i))
const extra: PolicyRecord[] = []
for (let k = 0; k < ADDS; k++) {
  // Alternate: a re-vote by an existing voter, a new voter, and a ballot with an old clock (out of order).
  const kind = k % 3
  extra.push(kind === 0 ? ballot((k * 7919) % N, 2000 + k) : kind === 1 ? ballot(N + k, 2000 + k) : ballot((k * 104729) % N, 1 + (k % 500)))
}
const buildMs = performance.now() - t

// Batch fold: the first (cold) run, then the median of 5 warm runs.
const batchTimes: number[] = []
let counted = 0
let coldMs = 0
for (let run = 0; run < 6; run++) {
  t = performance.now()
  const result = policy.resolve(records)
  if (run === 0) coldMs = performance.now() - t
  else batchTimes.push(performance.now() - t)
  counted = result.view.ballots.length
}
batchTimes.sort((a, b) => a - b)

// Incremental: load N ballots, then time each further add.
const live = policy.incremental()
t = performance.now()
for (const r of records) live.add(r)
const loadMs = performance.now() - t
live.view()
const addTimes: number[] = []
for (const r of extra) {
  const start = performance.now()
  live.add(r)
  addTimes.push(performance.now() - start)
}
addTimes.sort((a, b) => a - b)

// The view after one add (materializes one counted ballot per voter).
const viewTimes: number[] = []
for (let k = 0; k < 20; k++) {
  live.add(ballot((k * 31) % N, 5000 + k))
  const start = performance.now()
  live.view()
  viewTimes.push(performance.now() - start)
}
viewTimes.sort((a, b) => a - b)

const added = [...records, ...extra, ...Array.from({ length: 20 }, (_, k) => ballot((k * 31) % N, 5000 + k))]
const same = JSON.stringify(live.view()) === JSON.stringify(policy.resolve(added))

console.log(`onePerVoter benchmark (node ${process.version})`)
console.log(`  records prepared                   ${N} ballots + ${ADDS} adds in ${ms(buildMs)} (hashing, not measured below)`)
console.log(`  batch fold of ${N} ballots        warm median ${ms(quantile(batchTimes, 0.5))}, best ${ms(batchTimes[0] as number)}, cold ${ms(coldMs)}; ${counted} counted`)
console.log(`  incremental load of ${N} ballots   ${ms(loadMs)} (${ms(loadMs / N)} per add)`)
console.log(`  one add to ${N} ballots            median ${ms(quantile(addTimes, 0.5))}, p99 ${ms(quantile(addTimes, 0.99))}, max ${ms(addTimes[addTimes.length - 1] as number)} over ${ADDS} adds`)
console.log(`  view() after one add               median ${ms(quantile(viewTimes, 0.5))}, p99 ${ms(quantile(viewTimes, 0.99))}`)
console.log(`  incremental view equals batch      ${same}`)
