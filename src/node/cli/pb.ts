/**
 * `cabildo pb`: computes the outcome of a Pabulib participatory budget file.
 *
 * ```ts
 * import { runPbCommand } from './pb'
 * const code = await runPbCommand(['poland_wieliczka_2023.pb', '--json'], {
 *   stdout: (t) => process.stdout.write(t),
 *   stderr: (t) => process.stderr.write(t),
 * })
 * // stdout: {"selected":["24",...],"rule":"mes","completion":"add1-until-infeasible","spent":"995079"}
 * ```
 * @module
 */
import { readFile } from 'node:fs/promises'
import { equalSharesOutcome } from '../../civic/budgeting/equal-shares'
import { greedyOutcome } from '../../civic/budgeting/greedy'
import type { Completion, Outcome, OutcomeRule } from '../../civic/budgeting/outcome'
import { pabulibRule, pabulibSelection, pabulibToElection } from '../../civic/pabulib/pabulib-election'
import { parsePabulib } from '../../civic/pabulib/parse-pabulib'
import { CabildoError } from '../../errors'
import { parsePbArgs, PB_USAGE, type PbArgs } from './pb-args'
import { formatOutcomeTable } from './pb-table'

/** Where the command writes. */
export interface PbIo {
  /** Receives the table or the JSON object. */
  stdout(text: string): void
  /** Receives error and usage messages. */
  stderr(text: string): void
}

/** Chooses rule and completion: the flags, else the file's META `rule` when supported, else greedy. */
function chooseRule(args: PbArgs, fromFile: { rule: OutcomeRule; completion: Completion } | undefined): { rule: OutcomeRule; completion: Completion } {
  if (args.rule !== undefined) {
    const completion = args.completion ?? (fromFile?.rule === args.rule ? fromFile.completion : 'none')
    return { rule: args.rule, completion }
  }
  if (args.completion !== undefined && args.completion !== 'none') {
    return { rule: fromFile !== undefined && fromFile.rule !== 'greedy' ? fromFile.rule : 'mes', completion: args.completion }
  }
  const rule = fromFile ?? { rule: 'greedy', completion: 'none' }
  return { rule: rule.rule, completion: args.completion ?? rule.completion }
}

const UTILITY = { mes: 'cost', 'mes-cardinal': 'cardinal', 'mes-points': 'points' } as const

function describe(err: unknown): string {
  if (CabildoError.is(err)) {
    const line = CabildoError.is(err, 'E_PARSE') && err.details.line !== undefined ? ` (line ${err.details.line})` : ''
    return `error ${err.code}: ${err.message}${err.message.includes('(line') ? '' : line}\n`
  }
  return `error: ${err instanceof Error ? err.message : String(err)}\n`
}

/** Reads the input file; a missing one is `E_NOT_FOUND`, another failure `E_STORAGE`. */
async function readInput(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ENOENT') throw new CabildoError('E_NOT_FOUND', `no such file: ${path}`, { kind: 'file', id: path }, { cause: err })
    throw new CabildoError('E_STORAGE', `cannot read ${path}: ${code ?? String(err)}`, { operation: 'read', key: path, ...(code ? { cause: code } : {}) }, { cause: err })
  }
}

/**
 * Runs `cabildo pb <file.pb> [--rule R] [--completion C] [--json]` with the arguments after `pb`.
 * Prints a table (or, with `--json`, exactly one JSON object `{ selected, rule, completion, spent }`
 * with `selected` in funding order and `spent` exact, e.g. `"1999003/4"`) to `stdout`.
 * Errors go to `stderr` with their code.
 * @returns 0 on success, 1 when the file cannot be read (`E_NOT_FOUND`, `E_STORAGE`), parsed
 *   (`E_PARSE`) or computed (`E_ARGUMENT`), 2 on a usage error
 */
export async function runPbCommand(argv: string[], io: PbIo): Promise<number> {
  const parsed = parsePbArgs(argv)
  if (parsed.kind === 'help') {
    io.stdout(PB_USAGE)
    return 0
  }
  if (parsed.kind === 'usage-error') {
    io.stderr(`cabildo pb: ${parsed.message}\n${PB_USAGE}`)
    return 2
  }
  const args = parsed.args
  try {
    const text = await readInput(args.file)
    const instance = parsePabulib(text)
    const election = pabulibToElection(instance)
    const { rule, completion } = chooseRule(args, pabulibRule(instance))
    if (rule === 'greedy' && completion !== 'none') {
      io.stderr(`cabildo pb: greedy takes no completion (got ${completion})\n${PB_USAGE}`)
      return 2
    }
    const outcome: Outcome = rule === 'greedy' ? greedyOutcome(election) : equalSharesOutcome(election, { utility: UTILITY[rule], completion })
    if (args.json) {
      io.stdout(JSON.stringify({ selected: outcome.selected, rule: outcome.rule, completion: outcome.completion, spent: outcome.spent }) + '\n')
    } else {
      const names = instance.projects.columns.includes('name')
        ? new Map(instance.projects.rows.map((r) => [(r['project_id'] ?? '').trim(), (r['name'] ?? '').trim()]))
        : undefined
      const official = pabulibSelection(instance)
      io.stdout(formatOutcomeTable(outcome, { ...(names ? { names } : {}), ...(official ? { official: new Set(official) } : {}) }))
    }
    return 0
  } catch (err) {
    io.stderr(describe(err))
    return 1
  }
}
