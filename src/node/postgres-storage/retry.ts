/**
 * Retrying PostgreSQL operations through short outages: which failures are worth a retry (the
 * connection was refused, cut or timed out; the server is shutting down or starting; a
 * serialization failure or deadlock), and an exponential backoff between attempts. Every final
 * failure becomes `E_STORAGE`, whose `cause` is the errno code (`ECONNREFUSED`), the SQLSTATE
 * (`57P01`, `42501`, ...) or `ECONNRESET`/`ETIMEDOUT` for pg's connection errors that carry no code.
 *
 * ```ts
 * const retry = resolveRetry({ attempts: 3 })
 * const rows = await withRetry(retry, 'load', key, () => pool.query(sql, [key]))
 * ```
 * @internal
 * @module
 */
import { storageError, type StorageOperation } from '../../storage/storage-errors'

/** How operations are retried after a transient failure (connection refused, reset or timed out, a server shutting down or starting). */
export interface PostgresRetryOptions {
  /** Tries per operation, the first included (default 5). `1` disables retries. */
  readonly attempts?: number
  /** Wait before the first retry, in milliseconds (default 100); doubled after each retry. */
  readonly initialDelayMs?: number
  /** Longest wait between two tries, in milliseconds (default 2000). */
  readonly maxDelayMs?: number
}

/** {@link PostgresRetryOptions} with every default filled in. */
export interface RetryPolicy {
  readonly attempts: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  /** Waits `ms` milliseconds (injected by tests; `setTimeout` otherwise). */
  readonly sleep: (ms: number) => Promise<void>
}

/** Fills in the defaults of {@link PostgresRetryOptions}. */
export function resolveRetry(options: PostgresRetryOptions = {}, sleep?: (ms: number) => Promise<void>): RetryPolicy {
  return {
    attempts: Math.max(1, Math.floor(options.attempts ?? 5)),
    initialDelayMs: Math.max(0, options.initialDelayMs ?? 100),
    maxDelayMs: Math.max(0, options.maxDelayMs ?? 2000),
    sleep: sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  }
}

/** Errno codes of a connection that could not be made or was lost. */
const connectionErrnos = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'ENETDOWN', 'EHOSTDOWN', 'EAI_AGAIN', 'ENOENT', // ENOENT: a unix socket that is not there (yet)
])

/**
 * SQLSTATEs worth a retry: class 08 (connection exception), admin/crash shutdown and "the
 * database system is starting up" (57P01-57P03), too many connections (53300), serialization
 * failure (40001), deadlock (40P01).
 */
const transientStates = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01'])

/** pg's own connection errors carry no code; recognized by message. */
const connectionMessages: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Connection terminated due to connection timeout/, 'ETIMEDOUT'],
  [/^timeout exceeded when trying to connect/, 'ETIMEDOUT'],
  [/^Query read timeout/, 'ETIMEDOUT'],
  [/^Connection terminated/, 'ECONNRESET'],
  [/is not queryable/, 'ECONNRESET'],
  [/^Client was closed and is not queryable/, 'ECONNRESET'],
]

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code !== '' ? code : undefined
}

/** The cause code to report for a failure: its own code, or one derived from pg's message. */
export function failureCode(error: unknown): string | undefined {
  const code = codeOf(error)
  if (code !== undefined) return code
  const message = error instanceof Error ? error.message : ''
  for (const [pattern, derived] of connectionMessages) if (pattern.test(message)) return derived
  return undefined
}

/** Whether a failure may go away by itself (a lost or refused connection, a server restarting). */
export function isTransient(error: unknown): boolean {
  const code = failureCode(error)
  if (code === undefined) return false
  return connectionErrnos.has(code) || code.startsWith('08') || transientStates.has(code)
}

/**
 * Gives a failure the cause code {@link failureCode} derived, so `storageError` reports it
 * (pg's `Connection terminated unexpectedly` becomes cause `ECONNRESET`).
 */
function withCode(error: unknown): unknown {
  const code = failureCode(error)
  if (code === undefined || codeOf(error) !== undefined) return error
  return Object.assign(new Error(error instanceof Error ? error.message : String(error), { cause: error }), { code })
}

/**
 * Runs `operation`, retrying it after a transient failure with exponential backoff, up to the
 * policy's attempts.
 *
 * A retried write may have committed before its connection was lost (its outcome was unknown):
 * retrying may then store a record twice, which the storage contract allows (records are
 * idempotent), and a compaction is written so that running it twice has the effect of once.
 * @throws `E_STORAGE` (with `operation`, `key` and `cause`) once the attempts are spent or at the
 *   first failure that is not transient.
 */
export async function withRetry<T>(policy: RetryPolicy, operation: StorageOperation, key: string | undefined, run: () => Promise<T>): Promise<T> {
  let delay = policy.initialDelayMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      if (attempt >= policy.attempts || !isTransient(error)) {
        const failure = storageError(operation, key, withCode(error))
        if (attempt > 1) failure.message += ` (after ${attempt} attempts)`
        throw failure
      }
    }
    await policy.sleep(delay)
    delay = Math.min(policy.maxDelayMs, delay * 2)
  }
}
