/**
 * Benchmark of the `onePerVoter` policy at participatory-budget scale.
 *
 *   npx tsx bench/policy.ts [ballots=100000] [incrementalAdds=2000] [viewSamples=1000]
 *
 * Measures:
 * - the batch fold (`resolve`) of N ballots, cold and warm;
 * - the incremental load of the same N ballots, one `add` at a time;
 * - one `add` to a resolver that already holds N ballots (re-votes, new voters, out-of-order clocks);
 * - one `add` followed by `view()`, the figure a live tally pays per arriving ballot, and the
 *   `view()` part alone;
 * - 100 adds followed by one `view()` (a burst of ballots arriving by sync);
 * - the close arriving (`add` + `view()`, which re-settles every voter), then one late ballot + `view()`.
 * Records are made up front with real content hashes, so hashing is not counted. The record set
 * is fixed (no randomness). At the end the incremental view is compared with `resolve` of the
 * same set.
 */
import { performance } from 'node:perf_hooks'
import { onePerVoter, type BallotValidation } from '../src/policy/one-per-voter'
import type { PolicyRecord } from '../src/policy/policy-record'
import { makePolicyRecord } from '../src/testing/policy-tests'

const N = Number(process.argv[2] ?? 100_000)
const ADDS = Number(process.argv[3] ?? 2_000)
const VIEWS = Number(process.argv[4] ?? 1_000)
const BURSTS = 20
const BURST = 100
const PROJECTS = Array.from({ length: 40 }, (_, i) => `project-${i}`)
const STAFF = 'did:key:z6MkStaff'

const voterId = (i: number): string => `did:key:z6MkVoter${i.toString(36).padStart(6, '0')}`
const eligible = new Set(Array.from({ length: N + ADDS + VIEWS + BURSTS * BURST }, (_, i) => voterId(i)))
const validate = (payload: unknown): BallotValidation => {
  const projects = (payload as { projects?: unknown }).projects
  if (!Array.isArray(projects) || projects.length > 5) return { ok: false, reason: 'at most 5 projects', rule: 'maxProjects' }
  return { ok: true }
}
const policy = onePerVoter({
  authorize: (author, role) => (role === 'voter' ? eligible.has(author) : author === STAFF),
  eligibilityRole: 'voter',
  closeRole: 'staff',
  validate,
})

/** A deterministic ballot: voter i at clock c, approving a few projects. */
function ballot(i: number, clock: number): PolicyRecord {
  const projects = [PROJECTS[i % 40], PROJECTS[(i * 7 + clock) % 40], PROJECTS[(i * 13 + 3) % 40]]
  return makePolicyRecord({ author: voterId(i), clock, type: 'ballot', payload: { projects: [...new Set(projects)] } })
}

/**
 * The k-th ballot of a series: a re-vote, a new voter (numbered from `newVoters`), or a re-vote
 * with an old clock (out of order). Series differ by `seed`, so no record repeats another.
 */
function extraBallot(k: number, newVoters: number, seed: number): PolicyRecord {
  const kind = k % 3
  if (kind === 1) return ballot(newVoters + k, 2000 + k)
  const voter = ((k + seed * 7) * (kind === 0 ? 7919 : 104729)) % N
  return kind === 0 ? ballot(voter, 2000 + seed * 10_000 + k) : ballot(voter, 1 + seed * 500 + (k % 500))
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
const ms = (x: number): string => `${x.toFixed(x < 1 ? 3 : 1)} ms`
const spread = (times: number[]): string => {
  times.sort((a, b) => a - b)
  return `median ${ms(quantile(times, 0.5))}, p99 ${ms(quantile(times, 0.99))}, max ${ms(times[times.length - 1] as number)}`
}

let t = performance.now()
// 5% of voters vote twice, so the fold also handles superseded ballots.
const records: PolicyRecord[] = []
const firstVotes = Math.round(N * 0.95)
for (let i = 0; i < firstVotes; i++) records.push(ballot(i, 1 + (i % 997)))
for (let i = 0; records.length < N; i += 19) records.push(ballot(i % firstVotes, 1000 + i))
const extra = Array.from({ length: ADDS }, (_, k) => extraBallot(k, N, 0))
const viewed = Array.from({ length: VIEWS }, (_, k) => extraBallot(k, N + ADDS, 1))
const bursts = Array.from({ length: BURSTS * BURST }, (_, k) => extraBallot(k, N + ADDS + VIEWS, 2))
const closeRecord = makePolicyRecord({ author: STAFF, clock: 25_000, type: 'ballot.close', payload: {} })
const lateBallots = Array.from({ length: 20 }, (_, k) => ballot((k * 613) % N, 40_001 + k))
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
live.view()

// One add, then view(): what a live tally pays per arriving ballot.
const addViewTimes: number[] = []
const viewTimes: number[] = []
for (const r of viewed) {
  const start = performance.now()
  live.add(r)
  const added = performance.now()
  live.view()
  const end = performance.now()
  addViewTimes.push(end - start)
  viewTimes.push(end - added)
}

// A burst of adds, then one view().
const burstTimes: number[] = []
for (let b = 0; b < BURSTS; b++) {
  const start = performance.now()
  for (let k = 0; k < BURST; k++) live.add(bursts[b * BURST + k] as PolicyRecord)
  live.view()
  burstTimes.push(performance.now() - start)
}

// The close: every voter may change (ballots after it become late).
t = performance.now()
live.add(closeRecord)
const closed = live.view()
const closeMs = performance.now() - t
const lateTimes: number[] = []
for (const r of lateBallots) {
  const start = performance.now()
  live.add(r)
  live.view()
  lateTimes.push(performance.now() - start)
}

const all = [...records, ...extra, ...viewed, ...bursts, closeRecord, ...lateBallots]
const repeats = all.length - new Set(all.map((r) => r.hash)).size
const same = JSON.stringify(live.view()) === JSON.stringify(policy.resolve(all))

console.log(`onePerVoter benchmark (node ${process.version})`)
console.log(`  records prepared                ${N} ballots + ${ADDS + VIEWS + BURSTS * BURST} more in ${ms(buildMs)} (hashing, not measured below)`)
console.log(`  batch resolve of ${N} ballots   warm median ${ms(quantile(batchTimes, 0.5))}, best ${ms(batchTimes[0] as number)}, cold ${ms(coldMs)}; ${counted} counted`)
console.log(`  incremental load of ${N}       ${ms(loadMs)} (${ms(loadMs / N)} per add)`)
console.log(`  one add (no view)               ${spread(addTimes)} over ${ADDS} adds`)
console.log(`  one add + view()                ${spread(addViewTimes)} over ${VIEWS} samples`)
console.log(`    of which view()               ${spread(viewTimes)}`)
console.log(`  ${BURST} adds + view()              ${spread(burstTimes)} over ${BURSTS} bursts`)
console.log(`  the close + view()              ${ms(closeMs)} (re-settles every voter); ${closed.rejected.length} late or refused`)
console.log(`  one late ballot + view()        ${spread(lateTimes)} over ${lateBallots.length} samples`)
console.log(`  incremental view equals batch   ${same} (${repeats} repeated records in the set)`)
