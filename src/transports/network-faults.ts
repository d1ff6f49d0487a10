/**
 * The faults a simulated network injects, and the draw that decides each message's fate. Every
 * decision comes from a {@link SeededRandom}, so the same seed and the same sends give the same
 * drops, duplicates and delivery times.
 *
 * ```ts
 * import { createMemoryNetwork } from 'cabildo'
 * const network = createMemoryNetwork({ seed: 3, dropRate: 0.1, delay: { min: 1, max: 5 } })
 * network.configure({ dropRate: 0 }) // faults can change while the simulation runs
 * ```
 * @module
 */
import { CabildoError } from '../errors'
import type { SeededRandom } from './seeded-random'

/** A range of virtual ticks, both ends included. */
export interface TickRange {
  /** The fewest ticks (an integer >= 0). */
  readonly min: number
  /** The most ticks (an integer >= `min`). */
  readonly max: number
}

/** Faults to inject; each field left out keeps its current value. */
export interface NetworkFaults {
  /** Probability in [0, 1] that a message is lost. Default 0. */
  readonly dropRate?: number
  /** Probability in [0, 1] that a message that is not lost is delivered twice. Default 0. */
  readonly duplicateRate?: number
  /**
   * Probability in [0, 1] that a copy is held back by 1 to `reorderWindow` extra ticks, so that
   * messages sent after it on the same link can overtake it. Default 0.
   */
  readonly reorderRate?: number
  /** The most extra ticks a held-back copy waits (an integer >= 1). Default 4. */
  readonly reorderWindow?: number
  /**
   * Ticks between sending and delivery, drawn uniformly per copy: a number, or a range. Default 1.
   * A range wider than one tick also reorders messages.
   */
  readonly delay?: number | TickRange
}

/** Every fault setting, with defaults filled in. */
export interface ResolvedFaults {
  /** See {@link NetworkFaults.dropRate}. */
  readonly dropRate: number
  /** See {@link NetworkFaults.duplicateRate}. */
  readonly duplicateRate: number
  /** See {@link NetworkFaults.reorderRate}. */
  readonly reorderRate: number
  /** See {@link NetworkFaults.reorderWindow}. */
  readonly reorderWindow: number
  /** See {@link NetworkFaults.delay}. */
  readonly delay: TickRange
}

/** A network without faults: every message arrives once, one tick after it was sent, in order. */
export const NO_FAULTS: ResolvedFaults = Object.freeze({
  dropRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderWindow: 4,
  delay: Object.freeze({ min: 1, max: 1 }),
})

function invalid(argument: string, reason: string): CabildoError<'E_ARGUMENT'> {
  return new CabildoError('E_ARGUMENT', `${argument} ${reason}`, { argument, reason })
}

function rate(name: string, value: number | undefined, current: number): number {
  if (value === undefined) return current
  if (!(value >= 0 && value <= 1)) throw invalid(name, `must be a probability in [0, 1], got ${value}`)
  return value
}

function ticks(name: string, value: number, least: number): number {
  if (!Number.isSafeInteger(value) || value < least) throw invalid(name, `must be an integer >= ${least}, got ${value}`)
  return value
}

/**
 * Applies `change` on top of `current`.
 * @throws `E_ARGUMENT` if a rate is outside [0, 1], a tick count is not a non-negative integer,
 *   `reorderWindow` is below 1, or `delay.min > delay.max`. Nothing changes then.
 */
export function resolveFaults(current: ResolvedFaults, change: NetworkFaults): ResolvedFaults {
  let delay = current.delay
  if (typeof change.delay === 'number') {
    const fixed = ticks('delay', change.delay, 0)
    delay = { min: fixed, max: fixed }
  } else if (change.delay !== undefined) {
    const min = ticks('delay.min', change.delay.min, 0)
    const max = ticks('delay.max', change.delay.max, 0)
    if (min > max) throw invalid('delay', `min (${min}) must not exceed max (${max})`)
    delay = { min, max }
  }
  return Object.freeze({
    dropRate: rate('dropRate', change.dropRate, current.dropRate),
    duplicateRate: rate('duplicateRate', change.duplicateRate, current.duplicateRate),
    reorderRate: rate('reorderRate', change.reorderRate, current.reorderRate),
    reorderWindow: change.reorderWindow === undefined ? current.reorderWindow : ticks('reorderWindow', change.reorderWindow, 1),
    delay: Object.freeze(delay),
  })
}

/**
 * Decides the fate of one message: the delays (in ticks) of the copies to deliver, `[]` when it is
 * lost. Draws in a fixed order (loss, then each copy's delay and hold-back, then duplication), so
 * the stream of decisions depends only on the seed, the faults and the sequence of sends.
 */
export function drawFate(random: SeededRandom, faults: ResolvedFaults): number[] {
  if (random.next() < faults.dropRate) return []
  const delayOfCopy = (): number => {
    const base = random.int(faults.delay.min, faults.delay.max)
    return random.next() < faults.reorderRate ? base + random.int(1, faults.reorderWindow) : base
  }
  const delays = [delayOfCopy()]
  if (random.next() < faults.duplicateRate) delays.push(delayOfCopy())
  return delays
}
