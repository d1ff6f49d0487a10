/**
 * Makes a relay's Space durable again after its storage failed: the Space keeps what it could
 * not store in memory and stores it at its next successful flush, so after a failure the relay
 * tries `flush()` again, with a backoff, until it succeeds (the database is back).
 *
 * ```ts
 * const retry = createFlushRetry(() => space.flush())
 * const space = await openSpace({ id: 'city', storage, onStorageError: () => retry.failed() })
 * retry.stop() // when the Space closes
 * ```
 * @module
 */

/** Options of {@link createFlushRetry}. */
export interface FlushRetryOptions {
  /** The first wait after a failure, in milliseconds (default 500). */
  readonly initialDelayMs?: number
  /** The longest wait, in milliseconds (default 10,000). */
  readonly maxDelayMs?: number
}

/** Retries a flush after failures; see {@link createFlushRetry}. */
export interface FlushRetry {
  /** A storage operation failed: flush again later, until a flush succeeds. */
  failed(): void
  /** Whether a retry is waiting or running (the storage has not recovered yet). */
  readonly pending: boolean
  /** Stops retrying. */
  stop(): void
}

/** Creates the retry loop of `flush` (which rejects while the storage still fails). */
export function createFlushRetry(flush: () => Promise<void>, options: FlushRetryOptions = {}): FlushRetry {
  const initial = options.initialDelayMs ?? 500
  const max = options.maxDelayMs ?? 10_000
  let delay = initial
  let timer: ReturnType<typeof setTimeout> | undefined
  let running = false
  /** A failure was reported while a flush ran: it may not cover it, so flush once more. */
  let again = false
  let stopped = false

  const schedule = (): void => {
    if (running) again = true
    if (stopped || timer !== undefined || running) return
    timer = setTimeout(() => {
      timer = undefined
      running = true
      again = false
      flush().then(
        () => {
          running = false
          delay = initial
          if (again) schedule()
        },
        () => {
          running = false
          delay = Math.min(delay * 2, max)
          schedule()
        },
      )
    }, delay)
    // Never keep a process alive only to retry.
    timer.unref()
  }

  return {
    failed: schedule,
    get pending() {
      return timer !== undefined || running
    },
    stop() {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    },
  }
}
