/**
 * The three real Pabulib instances in shared/data/pabulib (see its README for how each official
 * outcome was computed). The repository is checked out with shared/ beside it.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { equalSharesOutcome } from '../../../src/civic/budgeting/equal-shares'
import { greedyOutcome } from '../../../src/civic/budgeting/greedy'
import { parseRational, sum } from '../../../src/civic/budgeting/rational'
import { pabulibSelection, pabulibToElection } from '../../../src/civic/pabulib/pabulib-election'
import { parsePabulib } from '../../../src/civic/pabulib/parse-pabulib'
import { serializePabulib } from '../../../src/civic/pabulib/serialize-pabulib'

const DATA = fileURLToPath(new URL('../../../../shared/data/pabulib/', import.meta.url))
const read = (name: string): string => readFileSync(DATA + name, 'utf8')

const WILANOW = 'poland_warszawa_2017_wilanow-obszar-ii.pb'
const MURCKI = 'poland_katowice_2020_murcki.pb'
const WIELICZKA = 'poland_wieliczka_2023.pb'

const sorted = (ids: readonly string[]): string[] => [...ids].sort()

describe('real Pabulib files', () => {
  it.each([WILANOW, MURCKI, WIELICZKA])('%s parses and round-trips losslessly', (name) => {
    const text = read(name)
    const instance = parsePabulib(text)
    const again = parsePabulib(serializePabulib(instance))
    expect(again.meta).toEqual(instance.meta)
    expect(again.projects).toEqual(instance.projects)
    expect(again.votes).toEqual(instance.votes)
    // These files are already in the canonical dialect: byte for byte.
    expect(serializePabulib(instance)).toBe(text)
  })

  it('files carry what their META announces', () => {
    for (const [name, projects, votes, budget] of [
      [WILANOW, 21, 777, '600000'],
      [MURCKI, 25, 1035, '345795'],
      [WIELICZKA, 64, 6586, '1000000'],
    ] as const) {
      const instance = parsePabulib(read(name))
      const election = pabulibToElection(instance)
      expect([name, election.projects.length, election.ballots.length, election.total]).toEqual([name, projects, votes, budget])
    }
    const murcki = parsePabulib(read(MURCKI))
    expect(murcki.projects.rows.find((r) => r['project_id'] === 'L18/05/VII')?.['name']).toBe('"Radość Życia"')
  })

  it('Wilanów 2017: greedy by approvals reproduces the official selection', () => {
    const instance = parsePabulib(read(WILANOW))
    const outcome = greedyOutcome(pabulibToElection(instance))
    const official = ['27', '424', '613', '804', '1110', '1222', '1571', '1651', '1698', '2149']
    expect(sorted(outcome.selected)).toEqual(sorted(official))
    expect(sorted(pabulibSelection(instance) ?? [])).toEqual(sorted(official))
    expect(outcome.spent).toBe('599387')
  })

  it('Murcki 2020: greedy by total points reproduces the official selection (by voters it would not)', () => {
    const instance = parsePabulib(read(MURCKI))
    const election = pabulibToElection(instance)
    const outcome = greedyOutcome(election)
    const official = ['L18/01/VII', 'L18/03/VII', 'L18/14/VII', 'L18/17/VII', 'L18/23/VII']
    expect(sorted(outcome.selected)).toEqual(official)
    expect(sorted(pabulibSelection(instance) ?? [])).toEqual(official)
    expect(outcome.spent).toBe('344496')
    // The same ballots read as approvals (ranking by number of voters) give another outcome.
    const byVoters = greedyOutcome({
      ...election,
      ballots: election.ballots.map((b) => ({ kind: 'approval' as const, approved: b.kind === 'cumulative' ? Object.keys(b.points) : [] })),
    })
    expect(sorted(byVoters.selected)).toEqual(['L18/01/VII', 'L18/03/VII', 'L18/04/VII', 'L18/05/VII', 'L18/14/VII', 'L18/15/VII', 'L18/23/VII'])
  })

  it('Wieliczka 2023: MES with cost utilities and add1-until-infeasible reproduces the official selection', () => {
    const instance = parsePabulib(read(WIELICZKA))
    const election = pabulibToElection(instance)
    const outcome = equalSharesOutcome(election, { utility: 'cost', completion: 'add1-until-infeasible' })
    expect(outcome.selected).toHaveLength(30)
    expect(outcome.spent).toBe('995079')
    expect(sorted(outcome.selected)).toEqual(sorted(pabulibSelection(instance) ?? []))
    // Every voter started at 1000000/6586 plus one unit per raise.
    expect(outcome.voterBudget).toBe(`${(1000000 / 2 + 6586 / 2 * (outcome.increments ?? 0))}/${6586 / 2}`)
    // A district can explain it: each funded project's payments add up to its cost.
    for (const p of outcome.projects.filter((r) => r.selected)) {
      expect(sum((p.payments ?? []).map((g) => parseRational(g.total)))).toEqual(parseRational(p.cost))
    }
  })

  it('Wieliczka 2023: add1 (stop at the first exhaustive outcome) does not reproduce it', () => {
    const election = pabulibToElection(parsePabulib(read(WIELICZKA)))
    const outcome = equalSharesOutcome(election, { completion: 'add1' })
    const official = equalSharesOutcome(election, { completion: 'add1-until-infeasible' })
    // +150 per voter: 31 projects, 984579 spent, with 66 and 67 instead of 46.
    expect(outcome.increments).toBe(150)
    expect(outcome.selected).toHaveLength(31)
    expect(outcome.spent).toBe('984579')
    expect(sorted(outcome.selected.filter((id) => !official.selected.includes(id)))).toEqual(['66', '67'])
    expect(official.selected.filter((id) => !outcome.selected.includes(id))).toEqual(['46'])
  })
})
