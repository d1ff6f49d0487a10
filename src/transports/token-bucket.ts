/**
 * A token bucket: allows `ratePerSecond` tokens on average, in bursts of up to `burst`. Clock-free:
 * time comes from the `now` it is given, so tests and simulations control it.
 *
 * ```ts
 * const bucket = createTokenBucket({ ratePerSecond: 100, burst: 200, now: () => performance.now() })
 * if (!bucket.take()) console.log('too fast')
 * if (!bucket.take(4096)) console.log('too many bytes')
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
  /**
   * Takes `cost` tokens (default 1); `false` when there are not enough (the event is over the
   * rate), and then nothing is taken. A cost above `burst` is granted only when the bucket is
   * full, and leaves it in debt (below zero) until the rate pays it back: one large event is
   * never refused forever.
   */
  take(cost?: number): boolean
}

/** Creates a full {@link TokenBucket}. */
export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const { ratePerSecond, burst, now } = options
  let tokens = burst
  let last = now()
  return {
    take(cost = 1) {
      const at = now()
      tokens = Math.min(burst, tokens + (Math.max(0, at - last) * ratePerSecond) / 1000)
      last = at
      if (tokens < Math.min(cost, burst)) return false
      tokens -= cost
      return true
    },
  }
}
