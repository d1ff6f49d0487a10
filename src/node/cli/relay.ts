/**
 * `cabildo relay`: runs a relay until SIGINT or SIGTERM.
 *
 * ```ts
 * import { runRelayCommand } from './relay'
 * const stop = new AbortController()
 * const io = { stdout: (t: string) => process.stdout.write(t), stderr: (t: string) => process.stderr.write(t), signal: stop.signal }
 * const done = runRelayCommand(['--port', '1234', '--data', './relay-data'], io)
 * stop.abort() // what SIGINT does
 * await done // 0
 * ```
 * @module
 */
import { parseArgs } from 'node:util'
import { CabildoError } from '../../errors'
import type { StorageFailure } from '../../storage/attach-store'
import { createPlainRooms } from '../relay/plain-rooms'
import { startRelay } from '../relay/relay'

/** Where the command writes, and what stops it. */
export interface RelayIo {
  /** Receives the start and stop lines. */
  stdout(text: string): void
  /** Receives error and usage messages. */
  stderr(text: string): void
  /** Stops the relay when aborted. Default: SIGINT or SIGTERM of this process. */
  readonly signal?: AbortSignal
}

/** Usage text of `cabildo relay`. */
export const RELAY_USAGE = `usage: cabildo relay [--port PORT] [--host HOST] [--data DIR] [--token-file FILE] [--peer URL]... [--space ID]... [--plain-room PATTERN]... [--redis URL] [--postgres URL] [--idle-close SECONDS]

Runs a relay: clients sync a Space through ws://HOST:PORT/<space id> (subprotocol cabildo.v1).
  --port        the port to listen on (default 1234; 0 picks a free one)
  --host        the interface to listen on (default 127.0.0.1)
  --data        keep Spaces and the relay's key in DIR (default: in memory, gone when it stops)
  --token-file  a JSON object from token to identity name: connections need ?token=<token>
  --peer        federate with the relay at URL (repeat for several)
  --space       open this Space at start (repeat for several)
  --plain-room  let plain y-websocket clients join the rooms matching PATTERN at ws://HOST:PORT/<space id>/<shard>
                (e.g. city/process.pb2027 or city/*; repeat for several); their edits are signed and vouched for by the relay
  --redis       join the cluster of relays sharing this Redis (redis://host:port): they serve the same Spaces
  --postgres    keep every Space in this PostgreSQL database (postgres://user@host/db); --data then keeps only the key
  --idle-close  close a stored Space SECONDS after its last connection left (default 60; 0: never);
                it opens again on the next connection. Not with --peer or --redis, nor for --space
Stops cleanly on SIGINT or SIGTERM.
`

type Parsed = { kind: 'args'; port: number; host: string; data?: string; tokenFile?: string; redis?: string; postgres?: string; peers: string[]; spaces: string[]; plainRooms: string[]; idleCloseMs?: number } | { kind: 'help' } | { kind: 'usage-error'; message: string }

function parse(argv: string[]): Parsed {
  let values: ReturnType<typeof parseArgsStrict>['values']
  try {
    values = parseArgsStrict(argv).values
  } catch (error) {
    return { kind: 'usage-error', message: error instanceof Error ? error.message : String(error) }
  }
  if (values.help === true) return { kind: 'help' }
  const port = Number(values.port ?? '1234')
  if (!(Number.isInteger(port) && port >= 0 && port <= 65_535)) return { kind: 'usage-error', message: `--port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}` }
  const idleClose = values['idle-close'] === undefined ? undefined : Number(values['idle-close'])
  if (idleClose !== undefined && !(Number.isFinite(idleClose) && idleClose >= 0)) return { kind: 'usage-error', message: `--idle-close must be a number of seconds, 0 or more, got ${JSON.stringify(values['idle-close'])}` }
  return {
    kind: 'args',
    port,
    host: values.host ?? '127.0.0.1',
    ...(values.data === undefined ? {} : { data: values.data }),
    ...(values['token-file'] === undefined ? {} : { tokenFile: values['token-file'] }),
    ...(values.redis === undefined ? {} : { redis: values.redis }),
    ...(values.postgres === undefined ? {} : { postgres: values.postgres }),
    peers: values.peer ?? [],
    spaces: values.space ?? [],
    plainRooms: values['plain-room'] ?? [],
    ...(idleClose === undefined ? {} : { idleCloseMs: idleClose * 1000 }),
  }
}

function parseArgsStrict(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      'token-file': { type: 'string' },
      peer: { type: 'string', multiple: true },
      space: { type: 'string', multiple: true },
      'plain-room': { type: 'string', multiple: true },
      redis: { type: 'string' },
      postgres: { type: 'string' },
      'idle-close': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

/** An abort signal for SIGINT and SIGTERM of this process, and the function that stops listening for them. */
function processSignals(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController()
  const stop = (): void => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    },
  }
}

/** How often, at most, storage failures are written to stderr (an outage fails every write). */
const STORAGE_LOG_EVERY_MS = 5_000

/** Writes storage failures to stderr: the first at once, then at most one line per interval, with how many there were. */
function storageErrorLog(io: RelayIo): (failure: StorageFailure, spaceId: string) => void {
  let last = Number.NEGATIVE_INFINITY
  let unreported = 0
  return (failure, spaceId) => {
    unreported++
    const now = performance.now()
    if (now - last < STORAGE_LOG_EVERY_MS) return
    last = now
    const cause = CabildoError.is(failure, 'E_STORAGE') ? ` (${failure.details.cause ?? 'unknown'})` : ''
    io.stderr(`storage error ${failure.code}${cause} in Space ${spaceId}: ${failure.message}${unreported > 1 ? ` [${unreported} failures]` : ''}; kept in memory, retrying\n`)
    unreported = 0
  }
}

/**
 * Runs `cabildo relay` with the arguments after `relay`: starts a relay, prints its URL, and
 * resolves once `io.signal` (by default SIGINT or SIGTERM) stopped it and it closed.
 * @returns 0 after a clean stop, 1 when the relay cannot start (`E_NETWORK`, `E_STORAGE`,
 *   `E_PARSE`, `E_ARGUMENT`), 2 on a usage error
 */
export async function runRelayCommand(argv: string[], io: RelayIo): Promise<number> {
  const parsed = parse(argv)
  if (parsed.kind === 'help') {
    io.stdout(RELAY_USAGE)
    return 0
  }
  if (parsed.kind === 'usage-error') {
    io.stderr(`cabildo relay: ${parsed.message}\n${RELAY_USAGE}`)
    return 2
  }
  const signals = io.signal === undefined ? processSignals() : { signal: io.signal, release: () => undefined }
  try {
    const relay = await startRelay({
      host: parsed.host,
      port: parsed.port,
      peers: parsed.peers,
      spaces: parsed.spaces,
      ...(parsed.data === undefined ? {} : { dataDir: parsed.data }),
      ...(parsed.tokenFile === undefined ? {} : { tokenFile: parsed.tokenFile }),
      ...(parsed.redis === undefined ? {} : { redis: parsed.redis }),
      ...(parsed.postgres === undefined ? {} : { postgres: parsed.postgres }),
      ...(parsed.idleCloseMs === undefined ? {} : { idleCloseMs: parsed.idleCloseMs }),
      ...(parsed.plainRooms.length === 0 ? {} : { plain: ({ identity }) => createPlainRooms({ identity, accept: parsed.plainRooms }) }),
      onStorageError: storageErrorLog(io),
    })
    io.stdout(`cabildo relay listening on ${relay.url}\n`)
    const data = parsed.postgres !== undefined ? `postgres (key in ${parsed.data ?? 'memory'})` : (parsed.data ?? '(in memory)')
    io.stdout(`  identity ${relay.identity.did}\n  data     ${data}\n  spaces   ${relay.spaces().join(', ') || '(none yet)'}\n`)
    const cluster = relay.metrics().cluster
    if (cluster !== undefined) io.stdout(`  cluster  member ${cluster.member} (peer id ${relay.peerId})\n`)
    if (!signals.signal.aborted) await new Promise<void>((resolve) => signals.signal.addEventListener('abort', () => resolve(), { once: true }))
    await relay.close()
    io.stdout('cabildo relay stopped\n')
    return 0
  } catch (error) {
    io.stderr(CabildoError.is(error) ? `error ${error.code}: ${error.message}\n` : `error: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  } finally {
    signals.release()
  }
}
