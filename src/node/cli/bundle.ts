/**
 * `cabildo bundle`: the offline hand-over of a Space's signed envelopes as one file.
 *
 * ```ts
 * import { runBundleCommand } from './bundle'
 * const io = { stdout: (t: string) => process.stdout.write(t), stderr: (t: string) => process.stderr.write(t) }
 * await runBundleCommand(['export', '--data', './north', '--space', 'city', '--out', 'north.cbundle'], io)
 * await runBundleCommand(['import', '--data', './south', '--space', 'city', 'north.cbundle'], io)
 * await runBundleCommand(['inspect', 'north.cbundle', '--json'], io)
 * ```
 * @module
 */
import { readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { CabildoError } from '../../errors'
import { identityFromKeyPair, type Identity } from '../../identity/identity'
import { keyPairFromJwk } from '../../identity/keys'
import { exportBundle, importBundle, inspectBundle, type BundleImportReport, type BundleInfo } from '../../sync/bundle'
import { openFileSpace } from '../file-space'
import { fileIdentityStore } from '../file-identity-store'

/** Where the command writes. */
export interface BundleIo {
  /** Receives the report (text or JSON). */
  stdout(text: string): void
  /** Receives error and usage messages. */
  stderr(text: string): void
}

/** Usage text of `cabildo bundle`. */
export const BUNDLE_USAGE = `usage: cabildo bundle export --data DIR --space ID --out FILE [--identity KEYFILE] [--shard NAME]... [--json]
       cabildo bundle import --data DIR --space ID FILE [--json]
       cabildo bundle inspect FILE [--json]

Hands a Space's signed envelopes over as one file, for districts with no network in common.
  export    write every envelope of the Space in DIR (or only the --shard documents) to FILE;
            --identity names the exporter in the header (the key file must exist)
  import    pass every envelope of FILE through the guards of the Space in DIR; importing
            twice changes nothing; forged envelopes are refused and reported
  inspect   print FILE's header and envelope counts
  --json    print one JSON object
`

interface Parsed {
  readonly command: 'export' | 'import' | 'inspect'
  readonly options: ReadonlyMap<string, string>
  readonly shards: readonly string[]
  readonly files: readonly string[]
  readonly json: boolean
}

type ParseResult = { kind: 'args'; args: Parsed } | { kind: 'help' } | { kind: 'usage-error'; message: string }

const VALUED = ['--data', '--space', '--out', '--identity', '--shard']

function parseArgs(argv: readonly string[]): ParseResult {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return { kind: 'help' }
  if (command !== 'export' && command !== 'import' && command !== 'inspect') return { kind: 'usage-error', message: `unknown subcommand ${JSON.stringify(command)}` }
  const options = new Map<string, string>()
  const shards: string[] = []
  const files: string[] = []
  let json = false
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string
    if (arg === '--help' || arg === '-h') return { kind: 'help' }
    if (arg === '--json') {
      json = true
      continue
    }
    const eq = arg.indexOf('=')
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg
    if (VALUED.includes(name)) {
      const value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : rest[++i]
      if (value === undefined || value === '') return { kind: 'usage-error', message: `${name} needs a value` }
      if (name === '--shard') shards.push(value)
      else options.set(name, value)
      continue
    }
    if (arg.startsWith('-') && arg !== '-') return { kind: 'usage-error', message: `unknown option ${arg}` }
    files.push(arg)
  }
  const needed = command === 'export' ? ['--data', '--space', '--out'] : command === 'import' ? ['--data', '--space'] : []
  for (const option of needed) if (!options.has(option)) return { kind: 'usage-error', message: `${command} needs ${option}` }
  const allowed = command === 'export' ? VALUED : command === 'import' ? ['--data', '--space'] : []
  for (const option of options.keys()) if (!allowed.includes(option)) return { kind: 'usage-error', message: `${command} takes no ${option}` }
  if (shards.length > 0 && command !== 'export') return { kind: 'usage-error', message: `${command} takes no --shard` }
  const wantFiles = command === 'export' ? 0 : 1
  if (files.length !== wantFiles) return { kind: 'usage-error', message: wantFiles === 0 ? `unexpected argument ${JSON.stringify(files[0])}` : `${command} needs exactly one FILE` }
  return { kind: 'args', args: { command, options, shards, files, json } }
}

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined
}

async function readBundleFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path))
  } catch (err) {
    const code = codeOf(err)
    if (code === 'ENOENT') throw new CabildoError('E_NOT_FOUND', `no such file: ${path}`, { kind: 'file', id: path }, { cause: err })
    throw new CabildoError('E_STORAGE', `cannot read ${path}: ${code ?? String(err)}`, { operation: 'read', key: path, ...(code ? { cause: code } : {}) }, { cause: err })
  }
}

/** Writes next to the target, then renames: a reader never sees half a bundle. */
async function writeBundleFile(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`
  try {
    await writeFile(temp, bytes, { flag: 'w' })
    await rename(temp, path)
  } catch (err) {
    await unlink(temp).catch(() => undefined)
    const code = codeOf(err)
    throw new CabildoError('E_STORAGE', `cannot write ${path}: ${code ?? String(err)}`, { operation: 'write', key: path, ...(code ? { cause: code } : {}) }, { cause: err })
  }
}

/** The identity in an existing key file (never creates one: an export must not invent an author). */
async function loadIdentity(path: string): Promise<Identity> {
  const stored = await fileIdentityStore(path).load()
  if (stored === undefined) throw new CabildoError('E_NOT_FOUND', `no identity file: ${path}`, { kind: 'identity', id: path })
  return identityFromKeyPair(await keyPairFromJwk(stored))
}

function describe(err: unknown): string {
  if (CabildoError.is(err)) {
    const reason = CabildoError.is(err, 'E_PARSE') ? ` (${err.details.reason})` : ''
    return `error ${err.code}: ${err.message}${err.message.includes(reason) ? '' : reason}\n`
  }
  return `error: ${err instanceof Error ? err.message : String(err)}\n`
}

function infoText(info: BundleInfo): string {
  const lines = [
    `space       ${info.spaceId}`,
    `format      ${info.formatVersion}`,
    `created     ${info.createdAt}${info.createdBy === undefined ? '' : ` by ${info.createdBy}`}`,
    `checksum    ${info.checksum}`,
    `envelopes   ${info.envelopes} in ${info.docs.length} documents`,
    ...info.docs.map((doc) => `  ${doc.name}  ${doc.envelopes} envelopes, ${doc.bytes} bytes`),
  ]
  return lines.join('\n') + '\n'
}

function reportText(report: BundleImportReport): string {
  const { applied, released, duplicate, pending, rejected } = report.totals
  const freed = released > 0 ? ` (and ${released} waiting from before released)` : ''
  const lines = [`imported ${report.info.envelopes} envelopes: ${applied} applied, ${duplicate} duplicate, ${pending} pending, ${rejected} rejected${freed}`]
  for (const doc of report.docs) {
    if (doc.error !== undefined) lines.push(`  ${doc.name}  not imported: ${doc.error.code} ${doc.error.message}`)
    else lines.push(`  ${doc.name}  ${doc.applied} applied, ${doc.duplicate} duplicate, ${doc.pending} pending, ${doc.rejected.length} rejected`)
    for (const r of doc.rejected) lines.push(`    rejected ${r.code} ${r.hash ?? '(undecodable)'}: ${r.reason}`)
  }
  return lines.join('\n') + '\n'
}

/**
 * Runs `cabildo bundle export|import|inspect` with the arguments after `bundle`.
 * `export` writes the bundle to `--out` and prints its header; `import` prints how many
 * envelopes applied, were duplicates, still wait or were rejected (with codes), per document;
 * `inspect` prints the header and per-document counts. `--json` prints one JSON object instead.
 * @returns 0 on success (an import that rejected forged envelopes succeeds: they are reported),
 *   1 when a file or the Space cannot be used (`E_NOT_FOUND`, `E_STORAGE`, `E_KEY`), the bundle is
 *   invalid (`E_PARSE`) or of another Space (`E_ARGUMENT`), 2 on a usage error
 */
export async function runBundleCommand(argv: string[], io: BundleIo): Promise<number> {
  const parsed = parseArgs(argv)
  if (parsed.kind === 'help') {
    io.stdout(BUNDLE_USAGE)
    return 0
  }
  if (parsed.kind === 'usage-error') {
    io.stderr(`cabildo bundle: ${parsed.message}\n${BUNDLE_USAGE}`)
    return 2
  }
  const { command, options, shards, files, json } = parsed.args
  try {
    if (command === 'inspect') {
      const info = inspectBundle(await readBundleFile(files[0] as string))
      io.stdout(json ? JSON.stringify(info) + '\n' : infoText(info))
      return 0
    }
    // Read (and check) the file before the Space opens: a bad bundle leaves the directory alone.
    const input = command === 'import' ? await readBundleFile(files[0] as string) : undefined
    if (input !== undefined) inspectBundle(input)
    const keyFile = options.get('--identity')
    const identity = keyFile === undefined ? undefined : await loadIdentity(keyFile)
    const space = await openFileSpace({ id: options.get('--space') as string, directory: options.get('--data') as string, ...(identity ? { identity } : {}) })
    try {
      if (input !== undefined) {
        const report = await importBundle(space, input)
        await space.flush()
        io.stdout(json ? JSON.stringify(report) + '\n' : reportText(report))
      } else {
        const out = options.get('--out') as string
        const bytes = await exportBundle(space, shards.length > 0 ? { shards } : {})
        await writeBundleFile(out, bytes)
        const info = inspectBundle(bytes)
        io.stdout(json ? JSON.stringify({ file: out, ...info }) + '\n' : `wrote ${out}\n${infoText(info)}`)
      }
    } finally {
      await space.close()
    }
    return 0
  } catch (err) {
    io.stderr(describe(err))
    return 1
  }
}
