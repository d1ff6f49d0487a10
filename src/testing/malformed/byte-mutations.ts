/**
 * Seeded damage to bytes, the raw material of the malformed-input corpus: every (or a sample of)
 * truncation, single bit flips, byte edits that turn lengths into huge varints, and random bytes.
 * Each case says what was done, so a failing one can be named and replayed.
 *
 * ```ts
 * import { bitFlips, truncations } from 'cabildo/testing'
 * for (const { name, input } of [...truncations(update), ...bitFlips(update, random, 200)]) check(name, input)
 * ```
 * @module
 */
import type { SeededRandom } from '../../transports/seeded-random'

/** One malformed input, with what was done to make it. */
export interface MalformedCase<T> {
  /** The family of damage (`truncated`, `bit-flip`, `random`, `wrong-doc`, ...). */
  readonly family: string
  /** What exactly was done, e.g. `truncated to 17 of 120 bytes`. */
  readonly name: string
  readonly input: T
}

/**
 * Strict prefixes of `bytes` (the empty one included): all of them when there are at most
 * `limit`, else `limit` of them spread evenly (the shortest and the longest always in).
 */
export function truncations(bytes: Uint8Array, limit = 512, label = 'bytes'): Array<MalformedCase<Uint8Array>> {
  const lengths = new Set<number>()
  if (bytes.length <= limit) for (let n = 0; n < bytes.length; n++) lengths.add(n)
  else for (let i = 0; i < limit; i++) lengths.add(Math.floor((i * (bytes.length - 1)) / (limit - 1)))
  return [...lengths].sort((a, b) => a - b).map((n) => ({ family: 'truncated', name: `${label} truncated to ${n} of ${bytes.length} bytes`, input: bytes.slice(0, n) }))
}

/** `count` copies of `bytes`, each with one bit flipped at a seeded position. */
export function bitFlips(bytes: Uint8Array, random: SeededRandom, count: number, label = 'bytes'): Array<MalformedCase<Uint8Array>> {
  const cases: Array<MalformedCase<Uint8Array>> = []
  if (bytes.length === 0) return cases
  for (let i = 0; i < count; i++) {
    const bit = random.int(0, bytes.length * 8 - 1)
    const input = bytes.slice()
    input[bit >> 3] = (input[bit >> 3] as number) ^ (1 << (bit & 7))
    cases.push({ family: 'bit-flip', name: `${label} with bit ${bit} flipped`, input })
  }
  return cases
}

/**
 * `count` copies of `bytes` with one seeded edit each: a byte inserted, deleted or replaced, or
 * a run of `0xff` written over them (which turns any length or count field into a huge varint).
 */
export function byteEdits(bytes: Uint8Array, random: SeededRandom, count: number, label = 'bytes'): Array<MalformedCase<Uint8Array>> {
  const cases: Array<MalformedCase<Uint8Array>> = []
  for (let i = 0; i < count; i++) {
    const at = random.int(0, bytes.length)
    const kind = random.int(0, 3)
    if (kind === 0) {
      const value = random.int(0, 255)
      cases.push({ family: 'byte-edit', name: `${label} with ${value} inserted at ${at}`, input: concat(bytes.subarray(0, at), new Uint8Array([value]), bytes.subarray(at)) })
    } else if (kind === 1 && at < bytes.length) {
      cases.push({ family: 'byte-edit', name: `${label} without byte ${at}`, input: concat(bytes.subarray(0, at), bytes.subarray(at + 1)) })
    } else if (kind === 2 && at < bytes.length) {
      const input = bytes.slice()
      input[at] = random.int(0, 255)
      cases.push({ family: 'byte-edit', name: `${label} with byte ${at} set to ${input[at]}`, input })
    } else {
      const run = random.int(1, 9)
      const input = concat(bytes.subarray(0, at), new Uint8Array(run).fill(0xff), bytes.subarray(Math.min(bytes.length, at + run)))
      cases.push({ family: 'huge-varint', name: `${label} with ${run} bytes of 0xff at ${at}`, input })
    }
  }
  return cases
}

/** `count` random byte strings of 0 to `maxLength` bytes. */
export function randomBytes(random: SeededRandom, count: number, maxLength: number): Array<MalformedCase<Uint8Array>> {
  const cases: Array<MalformedCase<Uint8Array>> = []
  for (let i = 0; i < count; i++) {
    const input = new Uint8Array(random.int(0, maxLength))
    for (let j = 0; j < input.length; j++) input[j] = random.int(0, 255)
    cases.push({ family: 'random', name: `${input.length} random bytes (#${i})`, input })
  }
  return cases
}

/** Joins byte arrays. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
