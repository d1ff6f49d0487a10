import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { runPbCommand } from '../../../src/node/cli/pb'

const DATA = fileURLToPath(new URL('../../../../shared/data/pabulib/', import.meta.url))
const tmp = mkdtempSync(join(tmpdir(), 'cabildo-pb-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await runPbCommand(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) })
  return { code, stdout, stderr }
}

function onlyJson(stdout: string): { selected: string[]; rule: string; completion: string; spent: string } {
  expect(stdout.trim().split('\n')).toHaveLength(1)
  const value = JSON.parse(stdout) as { selected: string[]; rule: string; completion: string; spent: string }
  expect(Object.keys(value)).toEqual(['selected', 'rule', 'completion', 'spent'])
  return value
}

function file(name: string, text: string): string {
  const path = join(tmp, name)
  writeFileSync(path, text)
  return path
}

describe('cabildo pb', () => {
  it('reproduces Wilanów with the rule its META names (greedy)', async () => {
    const { code, stdout, stderr } = await run(DATA + 'poland_warszawa_2017_wilanow-obszar-ii.pb', '--json')
    expect([code, stderr]).toEqual([0, ''])
    const out = onlyJson(stdout)
    expect(out.rule).toBe('greedy')
    expect(out.completion).toBe('none')
    expect(out.spent).toBe('599387')
    expect([...out.selected].sort()).toEqual(['1110', '1222', '1571', '1651', '1698', '2149', '27', '424', '613', '804'])
  })

  it('reproduces Murcki (greedy by points)', async () => {
    const out = onlyJson((await run(DATA + 'poland_katowice_2020_murcki.pb', '--json')).stdout)
    expect([...out.selected].sort()).toEqual(['L18/01/VII', 'L18/03/VII', 'L18/14/VII', 'L18/17/VII', 'L18/23/VII'])
    expect(out.spent).toBe('344496')
  })

  it('reproduces Wieliczka: META equalshares/add1 means MES with add1-until-infeasible', async () => {
    const out = onlyJson((await run(DATA + 'poland_wieliczka_2023.pb', '--json')).stdout)
    expect(out.rule).toBe('mes')
    expect(out.completion).toBe('add1-until-infeasible')
    expect(out.selected).toHaveLength(30)
    expect(out.spent).toBe('995079')
  })

  it('follows --rule and --completion, in both spellings', async () => {
    const add1 = onlyJson((await run(DATA + 'poland_wieliczka_2023.pb', '--rule', 'mes', '--completion=add1', '--json')).stdout)
    expect(add1.selected).toHaveLength(31)
    expect(add1.spent).toBe('984579')
    const greedy = onlyJson((await run('--json', '--rule=greedy', DATA + 'poland_wieliczka_2023.pb')).stdout)
    expect(greedy.rule).toBe('greedy')
    expect(greedy.completion).toBe('none')
  })

  it('prints spending as an exact fraction when costs are decimals', async () => {
    // 499750.25 + 0.5 = 499750.75 = 1999003/4
    const path = file(
      'decimal.pb',
      'META\nkey;value\nbudget;600000\nvote_type;approval\nrule;greedy\nPROJECTS\nproject_id;cost\na;499750.25\nb;0.5\nc;200000\nVOTES\nvoter_id;vote\n1;a,b\n2;a,c\n',
    )
    const out = onlyJson((await run(path, '--json')).stdout)
    expect(out.selected).toEqual(['a', 'b'])
    expect(out.spent).toBe('1999003/4')
  })

  it('prints a readable table with votes, costs, selection and what supporters paid', async () => {
    const { code, stdout } = await run(DATA + 'poland_wieliczka_2023.pb')
    expect(code).toBe(0)
    const lines = stdout.split('\n')
    expect(lines[0]).toMatch(/^project\s+name\s+votes\s+cost\s+selected\s+official\s+paid by supporters$/)
    // project 24 (5000, 720 votes) is funded first, each supporter paying 5000/720 ≈ 6.94
    expect(lines[1]).toMatch(/^24\s.*\s720\s+5000\s+yes\s+yes\s+720×≈6\.94$/)
    expect(stdout).toContain('rule: mes, completion: add1-until-infeasible (+164 per voter)')
    expect(stdout).toContain('funded: 30 of 64 projects, spent 995079 of 1000000')
  })

  it('shows points for cumulative ballots', async () => {
    const { stdout } = await run(DATA + 'poland_katowice_2020_murcki.pb')
    expect(stdout.split('\n')[0]).toMatch(/^project\s+name\s+votes\s+points\s+cost\s+selected\s+official$/)
    expect(stdout).toMatch(/\nL18\/03\/VII\s.*\s385\s+758\s+22500\s+yes\s+yes\n/)
  })

  it('reports a malformed file with its code and line, exit 1', async () => {
    const path = file('bad.pb', 'META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\na;ten\nVOTES\nvoter_id;vote\n')
    const { code, stdout, stderr } = await run(path)
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^error E_PARSE: .*\(line 7\)/)
  })

  it('reports an unreadable file, exit 1', async () => {
    const { code, stderr } = await run(join(tmp, 'missing.pb'))
    expect(code).toBe(1)
    expect(stderr).toMatch(/^error E_NOT_FOUND: no such file: /)
  })

  it('reports a rule that does not fit the ballots with E_ARGUMENT, exit 1', async () => {
    const { code, stderr } = await run(DATA + 'poland_warszawa_2017_wilanow-obszar-ii.pb', '--rule', 'mes-points')
    expect(code).toBe(1)
    expect(stderr).toMatch(/^error E_ARGUMENT: /)
  })

  it('rejects usage errors with exit 2 and prints the usage', async () => {
    for (const argv of [[], ['a.pb', 'b.pb'], ['a.pb', '--rule', 'best'], ['a.pb', '--completion'], ['a.pb', '--verbose'], ['a.pb', '--rule', 'greedy', '--completion', 'add1']]) {
      const { code, stdout, stderr } = await run(...argv)
      expect([argv, code, stdout]).toEqual([argv, 2, ''])
      expect(stderr).toContain('usage: cabildo pb <file.pb>')
    }
    // the file says greedy; asking only for an MES completion switches to MES
    const out = onlyJson((await run(DATA + 'poland_warszawa_2017_wilanow-obszar-ii.pb', '--completion', 'add1', '--json')).stdout)
    expect([out.rule, out.completion]).toEqual(['mes', 'add1'])
  })

  it('prints the usage on --help', async () => {
    const { code, stdout } = await run('--help')
    expect(code).toBe(0)
    expect(stdout).toContain('usage: cabildo pb <file.pb>')
  })
})
