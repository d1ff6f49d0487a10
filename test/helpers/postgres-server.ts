/**
 * A throwaway PostgreSQL server for tests: `initdb` into a temporary directory, `postgres`
 * listening on 127.0.0.1 on a free port, stopped and removed on teardown. No mocks: the tests
 * talk to a real server, and can stop and restart it to simulate an outage.
 *
 * ```ts
 * const server = await startPostgresServer()
 * const storage = createPostgresStorage({ connectionString: server.connectionString })
 * await server.stop()   // fast shutdown: connections are cut, new ones refused
 * await server.start()  // same data, same port
 * await server.destroy()
 * ```
 *
 * The binaries are looked up on PATH, in /usr/local/bin and in Debian's
 * /usr/lib/postgresql/<version>/bin (newest first). PostgreSQL refuses to run as root: when the
 * tests run as root, `initdb` and `postgres` run as the unprivileged user `postgres` (Debian's
 * package creates it) or else `nobody`, in a data directory that user owns.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { launchOnFreePort, stopChild, track, waitForExit } from './server-process'
import pg from 'pg'

/** A running (or stopped) test server. */
export interface PostgresServer {
  /** 127.0.0.1. */
  readonly host: string
  /** The TCP port, kept across `stop()` and `start()`. */
  readonly port: number
  /** A connection string for the `postgres` database as the superuser `postgres`. */
  readonly connectionString: string
  /** Whether the server is running. */
  readonly running: boolean
  /** Fast shutdown (SIGINT): open connections are terminated, new ones refused. Waits for the exit. */
  stop(): Promise<void>
  /** Starts the server again on the same data directory and port; resolves once it accepts connections. */
  start(): Promise<void>
  /** Stops the server and removes its data directory. Idempotent. */
  destroy(): Promise<void>
}

interface Binaries {
  readonly initdb: string
  readonly postgres: string
}

/** A directory holding both `initdb` and `postgres`, or undefined. */
export function findPostgresBinaries(): Binaries | undefined {
  const candidates = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '')
  candidates.push('/usr/local/bin', '/usr/local/pgsql/bin')
  const debian = '/usr/lib/postgresql'
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((name) => /^\d+(\.\d+)?$/.test(name))
    versions.sort((a, b) => Number(b) - Number(a))
    for (const version of versions) candidates.push(join(debian, version, 'bin'))
  }
  for (const dir of candidates) {
    const initdb = join(dir, 'initdb')
    const postgres = join(dir, 'postgres')
    if (existsSync(initdb) && existsSync(postgres)) return { initdb, postgres }
  }
  return undefined
}

interface RunAs {
  readonly uid: number
  readonly gid: number
}

/** The unprivileged user to run PostgreSQL as when we are root; undefined when we are not root. */
function unprivilegedUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined
  const users = new Map<string, RunAs>()
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name, , uid, gid] = line.split(':')
    if (name !== undefined && uid !== undefined && gid !== undefined) users.set(name, { uid: Number(uid), gid: Number(gid) })
  }
  const user = users.get('postgres') ?? users.get('nobody')
  if (user === undefined) throw new Error('Running as root, and neither a "postgres" nor a "nobody" user exists to run PostgreSQL')
  return user
}

/** The environment of the server's processes: ours, without PG* variables that would redirect them. */
function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('PG')) env[name] = value
  env.LC_ALL = 'C'
  return env
}

function run(command: string, args: string[], runAs: RunAs | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv(), ...runAs })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}:\n${output}`))))
  })
}

/** Resolves once a connection succeeds; rejects if the process exits first or after `limitMs`. */
async function waitUntilReady(connectionString: string, child: ChildProcess, output: () => string, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited during startup (${child.exitCode ?? child.signalCode}):\n${output()}`)
    }
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 1000 })
    client.on('error', () => undefined)
    try {
      await client.connect()
      await client.query('SELECT 1')
      await client.end()
      return
    } catch {
      await client.end().catch(() => undefined)
    }
    if (Date.now() > deadline) throw new Error(`postgres did not accept connections within ${limitMs} ms:\n${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/**
 * Creates a database cluster in a temporary directory and starts PostgreSQL on 127.0.0.1, on a
 * free port, with trust authentication for the superuser `postgres`.
 * @throws if no PostgreSQL binaries are found (install Debian's `postgresql` package) or the
 *   server does not start within 30 s.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const binaries = findPostgresBinaries()
  if (binaries === undefined) {
    throw new Error('PostgreSQL binaries (initdb, postgres) not found on PATH, /usr/local/bin or /usr/lib/postgresql/*/bin: install the postgresql package')
  }
  const runAs = unprivilegedUser()
  const root = await mkdtemp(join(tmpdir(), 'cabildo-pg-'))
  if (runAs !== undefined) await chown(root, runAs.uid, runAs.gid)
  const data = join(root, 'data')
  // --no-sync: a throwaway cluster need not survive a power loss of the test machine.
  await run(binaries.initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], runAs)

  let port = 0
  let child: ChildProcess | undefined
  let destroyed = false
  const host = '127.0.0.1'
  const url = (): string => `postgres://postgres@${host}:${port}/postgres`

  const launch = async (): Promise<void> => {
    const args = ['-D', data, '-p', String(port), '-c', `listen_addresses=${host}`, '-c', 'unix_socket_directories=', '-c', 'max_connections=100']
    const started = spawn(binaries.postgres, args, { stdio: ['ignore', 'ignore', 'pipe'], env: serverEnv(), ...runAs })
    let output = ''
    started.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000)
    })
    started.on('error', () => undefined)
    track(started, 'SIGQUIT')
    child = started
    try {
      await waitUntilReady(url(), started, () => output, 30_000)
    } catch (error) {
      started.kill('SIGQUIT')
      await waitForExit(started)
      child = undefined
      throw error
    }
  }

  port = await launchOnFreePort(async (free) => {
    port = free
    await launch()
  }, () => rm(root, { recursive: true, force: true }))

  const stop = async (): Promise<void> => {
    const running = child
    if (running === undefined) return
    child = undefined
    await stopChild(running, 'SIGINT', 'SIGQUIT', 20_000)
  }

  return {
    host,
    get port() {
      return port
    },
    get connectionString() {
      return url()
    },
    get running() {
      return child !== undefined
    },
    stop,
    async start() {
      if (destroyed) throw new Error('This PostgreSQL server was destroyed')
      if (child === undefined) await launch()
    },
    async destroy() {
      if (destroyed) return
      destroyed = true
      await stop()
      await rm(root, { recursive: true, force: true })
    },
  }
}
