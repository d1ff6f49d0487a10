/**
 * A token bucket: allows `ratePerSecond` events on average, in bursts of up to `burst`.
 *
 * ```ts
 * const bucket = createTokenBucket({ ratePerSecond: 100, burst: 200, now: () => performance.now() })
 * if (!bucket.take()) console.log('too fast')
 * ```
 * @module
 */

/** Options of {@link createTokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second. */
  readonly ratePerSecond: number
  /** The most tokens the bucket holds (it starts full). */
  readonly burst: number
  /** The clock, in milliseconds. */
  readonly now: () => number
}

/** A token bucket. */
export interface TokenBucket {
  /** Takes one token; `false` when the bucket is empty (the event is over the rate). */
  take(): boolean
}

/** Creates a full {@link TokenBucket}. */
export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const { ratePerSecond, burst, now } = options
  let tokens = burst
  let last = now()
  return {
    take() {
      const at = now()
      tokens = Math.min(burst, tokens + ((at - last) * ratePerSecond) / 1000)
      last = at
      if (tokens < 1) return false
      tokens--
      return true
    },
  }
}
