/**
 * Benchmark of the participatory-budgeting outcome rules (exact arithmetic throughout).
 *
 *   npx tsx bench/budgeting.ts            all cases, each in its own process
 *   npx tsx bench/budgeting.ts <case>     one case in this process
 *
 * Cases:
 * - `wieliczka-add1-until-infeasible`, `wieliczka-add1`: Wieliczka 2023 (64 projects, 6,586
 *   voters), MES with cost utilities and each completion (shared/data/pabulib, beside the repo).
 * - `synthetic-mes`, `synthetic-add1`: a seeded approval instance with 150 projects (costs
 *   10,000..300,000), 100,000 voters (each approving 1..10 projects, skewed popularity) and a
 *   budget of a quarter of the total cost; MES with cost utilities, without completion and with `add1`.
 *
 * Each case reports the time of the rule call (preparation included, file parsing and instance
 * generation excluded) and the process's peak resident memory (`resourceUsage().maxRSS`).
 * Reference figures (pabutools, measured on the same machine): Wieliczka add1-until-infeasible
 * 97 s / 112 MiB (166 MES runs), Wieliczka add1 12 s, synthetic MES 18.6 s / 777 MiB,
 * synthetic add1 589 s / 10 GiB.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import type { BudgetElection } from '../src/civic/budgeting/election'
import { equalSharesOutcome } from '../src/civic/budgeting/equal-shares'
import type { Completion } from '../src/civic/budgeting/outcome'
import { pabulibToElection } from '../src/civic/pabulib/pabulib-election'
import { parsePabulib } from '../src/civic/pabulib/parse-pabulib'

/** mulberry32: a small seeded PRNG, so the synthetic instance is the same on every run. */
function prng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The seeded synthetic approval election (150 projects, 100,000 voters). */
export function syntheticElection(seed = 42, projectCount = 150, voterCount = 100_000): BudgetElection {
  const random = prng(seed)
  const projects = Array.from({ length: projectCount }, (_, i) => ({ id: `p${i + 1}`, cost: String(10_000 + Math.floor(random() * 290_001)) }))
  const total = projects.reduce((s, p) => s + Number(p.cost), 0)
  const weights = Array.from({ length: projectCount }, () => 0.05 + random() ** 2)
  const weightSum = weights.reduce((a, b) => a + b, 0)
  const ballots = Array.from({ length: voterCount }, () => {
    const size = 1 + Math.floor(random() * 10)
    const chosen = new Set<number>()
    while (chosen.size < size) {
      let r = random() * weightSum
      let i = 0
      while (i < projectCount - 1 && r >= (weights[i] as number)) r -= weights[i++] as number
      chosen.add(i)
    }
    return { kind: 'approval' as const, approved: [...chosen].map((i) => `p${i + 1}`) }
  })
  return { total: String(Math.floor(total / 4)), projects, ballots }
}

const CASES: Record<string, { load: () => BudgetElection; completion: Completion; reference: string }> = {
  'wieliczka-add1-until-infeasible': { load: wieliczka, completion: 'add1-until-infeasible', reference: '97 s, 112 MiB' },
  'wieliczka-add1': { load: wieliczka, completion: 'add1', reference: '12 s' },
  'synthetic-mes': { load: () => syntheticElection(), completion: 'none', reference: '18.6 s, 777 MiB' },
  'synthetic-add1': { load: () => syntheticElection(), completion: 'add1', reference: '589 s, 10 GiB' },
}

function wieliczka(): BudgetElection {
  const path = fileURLToPath(new URL('../../shared/data/pabulib/poland_wieliczka_2023.pb', import.meta.url))
  return pabulibToElection(parsePabulib(readFileSync(path, 'utf8')))
}

interface CaseResult {
  name: string
  ms: number
  maxRssMiB: number
  heapMiB: number
  selected: number
  spent: string
  increments?: number
}

function runCase(name: string): CaseResult {
  const spec = CASES[name]
  if (spec === undefined) throw new Error(`unknown case ${name}; one of ${Object.keys(CASES).join(', ')}`)
  const election = spec.load()
  const start = performance.now()
  const outcome = equalSharesOutcome(election, { utility: 'cost', completion: spec.completion })
  const ms = performance.now() - start
  return {
    name,
    ms,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
    selected: outcome.selected.length,
    spent: outcome.spent,
    ...(outcome.increments !== undefined ? { increments: outcome.increments } : {}),
  }
}

const only = process.argv[2]
if (only !== undefined) {
  console.log(JSON.stringify(runCase(only)))
} else {
  console.log('case                              time       peak RSS   outcome                          pabutools')
  for (const [name, spec] of Object.entries(CASES)) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], { encoding: 'utf8' })
    if (child.status !== 0) {
      console.log(`${name}: failed\n${child.stderr}`)
      continue
    }
    const r = JSON.parse(child.stdout.trim().split('\n').pop() as string) as CaseResult
    const outcome = `${r.selected} projects, spent ${r.spent}${r.increments !== undefined ? `, +${r.increments}` : ''}`
    console.log(
      `${name.padEnd(34)}${(r.ms / 1000).toFixed(2).padStart(6)} s ${r.maxRssMiB.toFixed(0).padStart(6)} MiB   ${outcome.padEnd(33)}${spec.reference}`,
    )
  }
}
