#!/usr/bin/env node
/**
 * The `cabildo` command line.
 *
 * ```sh
 * npx cabildo pb poland_wieliczka_2023.pb --rule mes --completion add1-until-infeasible --json
 * ```
 * @module
 */
import { runBundleCommand } from './node/cli/bundle'
import { runPbCommand } from './node/cli/pb'
import { runRelayCommand } from './node/cli/relay'

const usage = `usage: cabildo <command> [options]

commands:
  pb <file.pb> [--rule greedy|mes|mes-cardinal|mes-points] [--completion none|add1|add1-greedy|add1-until-infeasible|add1-until-infeasible-greedy] [--json]
      compute a participatory budget's outcome from a Pabulib file
  bundle export|import|inspect [options]   (see cabildo bundle --help)
      hand a Space's signed envelopes over as one file, for districts with no network in common
  relay [--port PORT] [--data DIR] [--token-file FILE] [--peer URL]... [--space ID]... [--redis URL] [--postgres URL]   (see cabildo relay --help)
      run a relay that keeps Spaces and forwards their signed envelopes between clients
`

const io = {
  stdout: (text: string): void => {
    process.stdout.write(text)
  },
  stderr: (text: string): void => {
    process.stderr.write(text)
  },
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'pb':
      return runPbCommand(rest, io)
    case 'bundle':
      return runBundleCommand(rest, io)
    case 'relay':
      return runRelayCommand(rest, io)
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      io.stdout(usage)
      return command === undefined ? 2 : 0
    default:
      io.stderr(`cabildo: unknown command "${command}"\n${usage}`)
      return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    io.stderr(`cabildo: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  },
)
