/**
 * Arguments of `cabildo pb`: `<file.pb> [--rule R] [--completion C] [--json]`.
 * @module
 */
import { COMPLETIONS, OUTCOME_RULES, type Completion, type OutcomeRule } from '../../civic/budgeting/outcome'

/** Usage text of `cabildo pb`. */
export const PB_USAGE = `usage: cabildo pb <file.pb> [--rule ${OUTCOME_RULES.join('|')}] [--completion ${COMPLETIONS.join('|')}] [--json]

Computes the outcome of a Pabulib participatory budget and prints who is funded and why.
  --rule        outcome rule (default: the file's META rule when supported, else greedy)
  --completion  how MES is completed (default: the file's, else none)
  --json        print one JSON object: {"selected", "rule", "completion", "spent"}
`

/** Parsed arguments. */
export interface PbArgs {
  /** The `.pb` file to read. */
  readonly file: string
  /** `--rule`, when given. */
  readonly rule?: OutcomeRule
  /** `--completion`, when given. */
  readonly completion?: Completion
  /** `--json`: print one JSON object instead of a table. */
  readonly json: boolean
}

/** The result of parsing: arguments, a request for help, or a usage error. */
export type PbArgsResult = { kind: 'args'; args: PbArgs } | { kind: 'help' } | { kind: 'usage-error'; message: string }

function oneOf<T extends string>(allowed: readonly T[], value: string): T | undefined {
  return allowed.find((a) => a === value)
}

/** Parses the arguments that follow `pb`. Accepts `--opt value` and `--opt=value`. */
export function parsePbArgs(argv: readonly string[]): PbArgsResult {
  let file: string | undefined
  let rule: OutcomeRule | undefined
  let completion: Completion | undefined
  let json = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--help' || arg === '-h') return { kind: 'help' }
    if (arg === '--json') {
      json = true
      continue
    }
    const eq = arg.indexOf('=')
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg
    if (name === '--rule' || name === '--completion') {
      const value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : argv[++i]
      if (value === undefined) return { kind: 'usage-error', message: `${name} needs a value` }
      if (name === '--rule') {
        rule = oneOf(OUTCOME_RULES, value)
        if (rule === undefined) return { kind: 'usage-error', message: `unknown rule ${JSON.stringify(value)}` }
      } else {
        completion = oneOf(COMPLETIONS, value)
        if (completion === undefined) return { kind: 'usage-error', message: `unknown completion ${JSON.stringify(value)}` }
      }
      continue
    }
    if (arg.startsWith('-') && arg !== '-') return { kind: 'usage-error', message: `unknown option ${arg}` }
    if (file !== undefined) return { kind: 'usage-error', message: `one file expected, got ${JSON.stringify(file)} and ${JSON.stringify(arg)}` }
    file = arg
  }
  if (file === undefined) return { kind: 'usage-error', message: 'missing <file.pb>' }
  if (rule === 'greedy' && completion !== undefined && completion !== 'none') {
    return { kind: 'usage-error', message: `greedy takes no completion (got ${completion})` }
  }
  return { kind: 'args', args: { file, json, ...(rule ? { rule } : {}), ...(completion ? { completion } : {}) } }
}
