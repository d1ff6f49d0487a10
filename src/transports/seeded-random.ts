/**
 * A small seeded random source for simulations: the same seed gives the same sequence on every
 * platform, so a failing schedule replays exactly. Built on lib0's Xoroshiro128+ (`lib0/prng`).
 *
 * ```ts
 * import { createSeededRandom } from 'cabildo'
 * const random = createSeededRandom(42)
 * random.next()     // a float in [0, 1)
 * random.int(1, 6)  // an integer in [1, 6]
 * ```
 * @module
 */
import * as prng from 'lib0/prng'
import { CabildoError } from '../errors'

/** A deterministic random source. */
export interface SeededRandom {
  /** The seed it was created with. */
  readonly seed: number
  /** The next float in [0, 1). */
  next(): number
  /** The next integer in [min, max] (both included; `min <= max`, both integers). */
  int(min: number, max: number): number
}

/**
 * Creates a {@link SeededRandom}. Any safe integer is a valid seed (negative ones included).
 * @throws `E_ARGUMENT` if `seed` is not a safe integer.
 */
export function createSeededRandom(seed: number): SeededRandom {
  if (!Number.isSafeInteger(seed)) {
    throw new CabildoError('E_ARGUMENT', `seed must be a safe integer, got ${seed}`, { argument: 'seed', reason: 'not a safe integer' })
  }
  // lib0's generator takes a non-zero 32-bit seed (0 yields a constant stream), so the seed's low
  // and high words are mixed into one word by odd multiplications (bijections on 32-bit words that
  // send nearby seeds far apart); the one state that lands on 0 is moved to 1.
  const low = seed >>> 0
  const high = Math.floor(seed / 0x1_0000_0000) >>> 0
  const state = (Math.imul(low ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(high, 0xc2b2ae35)) >>> 0 || 1
  const generator = prng.create(state)
  return {
    seed,
    next: () => generator.next(),
    int: (min, max) => min + Math.floor(generator.next() * (max - min + 1)),
  }
}
