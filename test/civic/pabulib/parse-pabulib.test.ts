import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CabildoError } from '../../../src/errors'
import { parsePabulib } from '../../../src/civic/pabulib/parse-pabulib'
import { serializePabulib } from '../../../src/civic/pabulib/serialize-pabulib'
import { pabulibRule, pabulibSelection, pabulibToElection } from '../../../src/civic/pabulib/pabulib-election'
import type { PabulibInstance } from '../../../src/civic/pabulib/pabulib-instance'

const cumulative = `META
key;value
description;"Test; with ""quotes"""
budget;345795.50
vote_type;cumulative
rule;greedy
max_sum_points;3
PROJECTS
project_id;cost;name;selected
L18/01;15000.25;"""Radość Życia""";1
L18/02;0,5;Park;0
VOTES
voter_id;vote;points;age
1;L18/01,L18/02;2,1;30
2;L18/02;3;
3;;;41
`

function parseFailure(text: string): { line?: number; reason: string; field?: string } {
  try {
    parsePabulib(text)
  } catch (err) {
    if (CabildoError.is(err, 'E_PARSE')) {
      expect(err.details.format).toBe('pabulib')
      return { reason: err.details.reason, ...(err.details.line !== undefined ? { line: err.details.line } : {}), ...(err.details.field !== undefined ? { field: err.details.field } : {}) }
    }
    throw err
  }
  throw new Error('expected an E_PARSE error')
}

describe('parsePabulib', () => {
  it('keeps META in order and every column of projects and votes as written', () => {
    const instance = parsePabulib(cumulative)
    expect(instance.meta.map((e) => e.key)).toEqual(['description', 'budget', 'vote_type', 'rule', 'max_sum_points'])
    expect(instance.meta[0]?.value).toBe('Test; with "quotes"')
    expect(instance.projects.columns).toEqual(['project_id', 'cost', 'name', 'selected'])
    expect(instance.projects.rows[0]).toEqual({ project_id: 'L18/01', cost: '15000.25', name: '"Radość Życia"', selected: '1' })
    expect(instance.votes.columns).toEqual(['voter_id', 'vote', 'points', 'age'])
    expect(instance.votes.rows[1]).toEqual({ voter_id: '2', vote: 'L18/02', points: '3', age: '' })
  })

  it('converts to rule input with exact costs and one ballot per vote', () => {
    const election = pabulibToElection(parsePabulib(cumulative))
    expect(election.voteType).toBe('cumulative')
    expect(election.total).toBe('345795.50')
    expect(election.projects).toEqual([
      { id: 'L18/01', cost: '15000.25' },
      { id: 'L18/02', cost: '0.5' },
    ])
    expect(election.ballots).toEqual([
      { kind: 'cumulative', points: { 'L18/01': 2, 'L18/02': 1 } },
      { kind: 'cumulative', points: { 'L18/02': 3 } },
      { kind: 'cumulative', points: {} },
    ])
    expect(pabulibSelection(parsePabulib(cumulative))).toEqual(['L18/01'])
    expect(pabulibRule(parsePabulib(cumulative))).toEqual({ rule: 'greedy', completion: 'none' })
  })

  it('reads approval, ordinal and scoring votes', () => {
    const file = (voteType: string, votes: string): string =>
      `META\nkey;value\nbudget;10\nvote_type;${voteType}\nPROJECTS\nproject_id;cost\n9;4\n10;5\nVOTES\nvoter_id;vote;points\n${votes}`
    expect(pabulibToElection(parsePabulib(file('approval', 'v1;10,9;\n'))).ballots).toEqual([{ kind: 'approval', approved: ['10', '9'] }])
    expect(pabulibToElection(parsePabulib(file('choose-1', 'v1;9;\n'))).ballots).toEqual([{ kind: 'approval', approved: ['9'] }])
    expect(pabulibToElection(parsePabulib(file('ordinal', 'v1;10,9;\n'))).ballots).toEqual([{ kind: 'ordinal', ranking: ['10', '9'] }])
    expect(pabulibToElection(parsePabulib(file('scoring', 'v1;10,9;-1,2\n'))).ballots).toEqual([{ kind: 'scoring', scores: { '10': -1, '9': 2 } }])
  })

  it('maps the META rule to a supported rule and completion', () => {
    const withRule = (rule: string): PabulibInstance => ({ meta: [{ key: 'rule', value: rule }], projects: { columns: [], rows: [] }, votes: { columns: [], rows: [] } })
    expect(pabulibRule(withRule('equalshares/add1'))).toEqual({ rule: 'mes', completion: 'add1-until-infeasible' })
    expect(pabulibRule(withRule('equalshares'))).toEqual({ rule: 'mes', completion: 'none' })
    expect(pabulibRule(withRule('unknown'))).toBeUndefined()
  })

  it('reports malformed files with the line at fault', () => {
    const lines = cumulative.split('\n')
    const replace = (lineNumber: number, text: string): string => lines.map((l, k) => (k === lineNumber - 1 ? text : l)).join('\n')
    expect(parseFailure(replace(11, 'L18/02;cheap;Park;0'))).toMatchObject({ line: 11, field: 'cost' })
    expect(parseFailure(replace(11, 'L18/01;5;Park;0'))).toMatchObject({ line: 11, field: 'project_id' })
    expect(parseFailure(replace(14, '1;L18/99;2;30'))).toMatchObject({ line: 14, field: 'vote' })
    expect(parseFailure(replace(14, '1;L18/01,L18/01;2,1;30'))).toMatchObject({ line: 14, field: 'vote' })
    expect(parseFailure(replace(14, '1;L18/01,L18/02;2;30'))).toMatchObject({ line: 14, field: 'points' })
    expect(parseFailure(replace(14, '1;L18/01;-2;30'))).toMatchObject({ line: 14, field: 'points' })
    expect(parseFailure(replace(15, '2;L18/02;3'))).toMatchObject({ line: 15, reason: 'VOTES row has 3 fields, header has 4' })
    expect(parseFailure(replace(4, 'budget;lots'))).toMatchObject({ line: 4, field: 'budget' })
    expect(parseFailure(replace(5, 'vote_type;lottery'))).toMatchObject({ line: 5, field: 'vote_type' })
    expect(parseFailure(replace(7, 'max_sum_points;3;4'))).toMatchObject({ line: 7 })
    expect(parseFailure(replace(9, 'project_id;price;name;selected'))).toMatchObject({ line: 9, field: 'cost' })
    expect(parseFailure(replace(13, 'voter_id;ballot;points;age'))).toMatchObject({ line: 13, field: 'vote' })
    expect(parseFailure(replace(9, 'project_id;cost;name;name'))).toMatchObject({ line: 9 })
    expect(parseFailure(replace(10, 'L18/01;15000.25;"unterminated;1'))).toMatchObject({ line: 10, reason: 'unterminated quoted field' })
    expect(parseFailure(cumulative.replace('VOTES\n', 'PROJECTS\n'))).toMatchObject({ reason: 'second PROJECTS section' })
    expect(parseFailure(cumulative.slice(0, cumulative.indexOf('VOTES')))).toMatchObject({ reason: 'missing VOTES section' })
    expect(parseFailure('budget;10\n' + cumulative)).toMatchObject({ line: 1, reason: 'data before the META section' })
  })

  it('serializes back to the same text when the file is written canonically', () => {
    const canonical = cumulative.replace('0,5', '0.5')
    expect(serializePabulib(parsePabulib(canonical))).toBe(canonical)
  })

  it('round-trips any instance: parse(serialize(x)) has the same META, projects and votes (property)', () => {
    const text = fc.string({ maxLength: 12, unit: fc.constantFrom('a', 'Ż', ';', '"', ',', ' ', '\n', '\r\n', '1', '.') })
    const instanceArb = fc
      .record({
        meta: fc.array(fc.record({ key: text, value: text }), { maxLength: 4 }),
        projectExtra: fc.uniqueArray(fc.constantFrom('name', 'category', 'votes', 'lat;long', 'q"uote'), { maxLength: 3 }),
        voteExtra: fc.uniqueArray(fc.constantFrom('age', 'sex', 'voting_method'), { maxLength: 2 }),
        projects: fc.uniqueArray(fc.record({ id: fc.stringMatching(/^[A-Za-z0-9/_-]{1,6}$/), cost: fc.stringMatching(/^\d{1,6}(\.\d{1,2})?$/), extra: fc.array(text, { minLength: 3, maxLength: 3 }) }), { selector: (p) => p.id, minLength: 1, maxLength: 5 }),
        votes: fc.array(fc.record({ pick: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), extra: fc.array(text, { minLength: 2, maxLength: 2 }) }), { maxLength: 5 }),
      })
      .map(({ meta, projectExtra, voteExtra, projects, votes }): PabulibInstance => ({
        meta: [{ key: 'budget', value: '1000' }, { key: 'vote_type', value: 'approval' }, ...meta.map((e) => ({ key: `x${e.key}`, value: e.value }))],
        projects: {
          columns: ['project_id', 'cost', ...projectExtra],
          rows: projects.map((p) => Object.fromEntries([['project_id', p.id], ['cost', p.cost], ...projectExtra.map((c, k) => [c, p.extra[k] as string])])),
        },
        votes: {
          columns: ['voter_id', 'vote', ...voteExtra],
          rows: votes.map((v, k) =>
            Object.fromEntries([
              ['voter_id', String(k)],
              ['vote', projects.filter((_, j) => v.pick[j]).map((p) => p.id).join(',')],
              ...voteExtra.map((c, j) => [c, v.extra[j] as string]),
            ]),
          ),
        },
      }))
    fc.assert(
      fc.property(instanceArb, (instance) => {
        const text = serializePabulib(instance)
        const back = parsePabulib(text)
        expect(back).toEqual(instance)
        expect(serializePabulib(back)).toBe(text)
      }),
      { seed: 42, numRuns: 300 },
    )
  })
})
