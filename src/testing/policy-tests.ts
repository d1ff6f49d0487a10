/**
 * The acceptance suite for merge policies: certify a built-in or your own policy with one call.
 *
 * ```ts
 * import { runPolicyTests, arbitraryEntries } from 'cabildo/testing'
 * import fc from 'fast-check'
 * runPolicyTests('my tally', () => ({
 *   policy: myTally,
 *   records: arbitraryEntries({ authors: ['did:key:zA', 'did:key:zB'], types: ['vote'], payload: fc.nat(9) }),
 * }))
 * ```
 *
 * It checks, with fast-check and fixed seeds (a failure prints the seed and the counterexample):
 * - determinism: the same input (and a deep copy of it) gives a deep-equal resolution, and the
 *   input is not mutated;
 * - order independence: any permutation of the input, with entries repeated, gives the same resolution;
 * - nothing silently dropped: every failed entry without a verified copy is in `rejected` with
 *   its code, and no hash is rejected twice;
 * - convergence: 3 to 5 replicas that receive the records in different orders, with duplicates,
 *   first a subset each (a partition) then everything, end with identical resolutions;
 * - for an incremental policy: adding the entries one by one, in any order, gives after each
 *   add what `resolve` gives for the entries added so far.
 * Needs vitest and fast-check (test-time dependencies).
 * @module
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contentHash } from '../encoding/canonical'
import type { IncrementalPolicy, MergePolicy, Resolution } from '../policy/merge-policy'
import { isFailedRecord, type FailedRecord, type PolicyEntry, type PolicyRecord } from '../policy/policy-record'

/** What the `setup` of {@link runPolicyTests} returns. */
export interface PolicyTestSetup<E, V> {
  /** The policy under test; its `incremental()` form is checked too when present. */
  readonly policy: MergePolicy<readonly E[], V> | IncrementalPolicy<E, V>
  /** Generates input sets: include failed entries, duplicates and conflicting records. */
  readonly records: fc.Arbitrary<readonly E[]>
  /** Called once after the suite. */
  readonly teardown?: () => void | Promise<void>
}

/** Options of {@link runPolicyTests}. */
export interface PolicyTestOptions {
  /** fast-check seed. Default 42. */
  readonly seed?: number
  /** Runs per property. Default 60. */
  readonly numRuns?: number
}

function isIncremental<E, V>(policy: MergePolicy<readonly E[], V>): policy is IncrementalPolicy<E, V> {
  return typeof (policy as Partial<IncrementalPolicy<E, V>>).incremental === 'function'
}

/** An input set with a permutation of it that repeats some entries. */
function withShuffledCopy<E>(records: fc.Arbitrary<readonly E[]>): fc.Arbitrary<[readonly E[], E[]]> {
  return records.chain((input) => {
    if (input.length === 0) return fc.constant<[readonly E[], E[]]>([input, []])
    return fc
      .array(fc.integer({ min: 0, max: input.length - 1 }), { maxLength: input.length })
      .chain((extra) => {
        const all = [...input, ...extra.map((i) => input[i] as E)]
        return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length })
      })
      .map((shuffled): [readonly E[], E[]] => [input, shuffled])
  })
}

/** Delivery plans for `count` replicas: a partition phase on a subset, then everything, with repeats. */
function deliveries<E>(input: readonly E[], count: number): fc.Arbitrary<E[][]> {
  const plan = fc
    .tuple(fc.subarray([...input]), fc.array(fc.nat(), { maxLength: 4 }))
    .chain(([subset, repeats]) => {
      const rest = [...subset, ...input, ...repeats.filter(() => input.length > 0).map((i) => input[i % input.length] as E)]
      return fc.tuple(
        fc.shuffledSubarray(subset, { minLength: subset.length, maxLength: subset.length }),
        fc.shuffledSubarray(rest, { minLength: rest.length, maxLength: rest.length }),
      )
    })
    .map(([first, second]) => [...first, ...second])
  return fc.array(plan, { minLength: count, maxLength: count })
}

/** Resolves what one replica holds after receiving `delivered`, incrementally when possible. */
function replicaResolution<E, V>(policy: MergePolicy<readonly E[], V>, delivered: readonly E[]): Resolution<V> {
  if (!isIncremental(policy)) return policy.resolve(delivered)
  const live = policy.incremental()
  for (const entry of delivered) live.add(entry)
  return live.view()
}

/** One named check of the acceptance suite; `run` throws (a vitest assertion error) on failure. */
export interface PolicyCheck {
  /** What the check guarantees, used as the test name. */
  readonly name: string
  /** Runs the property with the configured seed and number of runs. */
  run(): void
}

/**
 * The checks {@link runPolicyTests} registers, to run them by hand (e.g. from another test
 * runner that provides vitest's `expect`).
 */
export function policyChecks<E, V>(subject: PolicyTestSetup<E, V>, options: PolicyTestOptions = {}): PolicyCheck[] {
  const params = { seed: options.seed ?? 42, numRuns: options.numRuns ?? 60 }
  const { policy, records } = subject
  return [
    {
      name: 'is deterministic: the same input, or a deep copy of it, gives the same resolution',
      run: () =>
        fc.assert(
          fc.property(records, (input) => {
            const copy = structuredClone(input)
            const first = policy.resolve(input)
            expect(policy.resolve(input)).toStrictEqual(first)
            // A structured clone drops prototypes (fast-check builds null-prototype objects): compare by value.
            expect(policy.resolve(copy)).toEqual(first)
            expect(input).toEqual(copy)
          }),
          params,
        ),
    },
    {
      name: 'is order-independent: any permutation with repeated entries gives the same resolution',
      run: () =>
        fc.assert(
          fc.property(withShuffledCopy(records), ([input, shuffled]) => {
            expect(policy.resolve(shuffled)).toStrictEqual(policy.resolve(input))
          }),
          params,
        ),
    },
    {
      name: 'drops nothing silently: each failed entry is rejected with its code, each hash once',
      run: () =>
        fc.assert(
          fc.property(records, (input) => {
            const { rejected } = policy.resolve(input)
            const hashes = rejected.map((r) => r.hash)
            expect(new Set(hashes).size).toBe(hashes.length)
            const entries = input as readonly unknown[]
            const verified = new Set(entries.filter((e) => !looksFailed(e)).map((e) => String((e as { hash?: unknown }).hash)))
            const codes = new Map(rejected.map((r) => [r.hash, r.code]))
            for (const entry of entries) {
              if (!looksFailed(entry) || verified.has(entry.record.hash)) continue
              expect(['E_SIGNATURE', 'E_INVALID']).toContain(codes.get(entry.record.hash))
            }
          }),
          params,
        ),
    },
    {
      name: 'converges: 3 to 5 replicas with different orders, duplicates and partitions agree',
      run: () => {
        const arb = records.chain((input) =>
          fc
            .integer({ min: 3, max: 5 })
            .chain((n) => deliveries(input, n))
            .map((plans) => [input, plans] as const),
        )
        fc.assert(
          fc.property(arb, ([input, plans]) => {
            const expected = policy.resolve(input)
            for (const plan of plans) expect(replicaResolution(policy, plan)).toStrictEqual(expected)
          }),
          { ...params, numRuns: Math.max(10, Math.floor(params.numRuns / 2)) },
        )
      },
    },
    {
      name: 'incremental form (a batch-only policy has none): after each add, in any order, the view equals resolve of the entries added so far',
      run: () => {
        if (!isIncremental(policy)) {
          expect((policy as Partial<IncrementalPolicy<E, V>>).incremental).toBeUndefined()
          return
        }
        fc.assert(
          fc.property(withShuffledCopy(records), ([, shuffled]) => {
            const live = policy.incremental()
            shuffled.forEach((entry, i) => {
              live.add(entry)
              // Checking every prefix is quadratic: check a few, and always the last.
              if (i === shuffled.length - 1 || i % 7 === 3) {
                expect(live.view()).toStrictEqual(policy.resolve(shuffled.slice(0, i + 1)))
              }
            })
            expect(live.view()).toStrictEqual(policy.resolve(shuffled))
          }),
          params,
        )
      },
    },
  ]
}

/**
 * Registers the acceptance suite of a merge policy with vitest: one `describe` with one `it`
 * per {@link policyChecks} entry. `setup` runs once before the checks, `teardown` once after.
 * @param name - shown in the test names
 * @param setup - creates the policy and the generator of input sets
 */
export function runPolicyTests<E, V>(
  name: string,
  setup: () => PolicyTestSetup<E, V> | Promise<PolicyTestSetup<E, V>>,
  options: PolicyTestOptions = {},
): void {
  describe(`merge policy ${name}`, () => {
    let subject: PolicyTestSetup<E, V> | undefined
    let checks: PolicyCheck[] = []
    beforeAll(async () => {
      subject = await setup()
      checks = policyChecks(subject, options)
    })
    afterAll(async () => {
      await subject?.teardown?.()
    })
    // The names do not depend on the policy, so the tests can be registered before setup runs.
    const names = policyChecks({ policy: { resolve: () => ({ view: null, conflicts: [], rejected: [] }) }, records: fc.constant([]) }).map((c) => c.name)
    names.forEach((checkName, i) => {
      it(checkName, () => {
        const check = checks[i]
        expect(check?.name).toBe(checkName)
        check?.run()
      })
    })
  })
}

function looksFailed(entry: unknown): entry is FailedRecord {
  return typeof entry === 'object' && entry !== null && isFailedRecord(entry as PolicyEntry)
}

/** The fields of a record before its hash is computed. */
export type RecordBody<P> = Omit<PolicyRecord<P>, 'hash'>

/**
 * Builds a {@link PolicyRecord} whose hash is the content hash of its canonical body, as the
 * identity layer computes it (without a signature: for tests and simulations).
 */
export function makePolicyRecord<P>(body: RecordBody<P>): PolicyRecord<P> {
  return { ...body, hash: contentHash(body) }
}

/** Options of {@link arbitraryEntries}. */
export interface ArbitraryEntriesOptions<P> {
  /** Authors to draw from (few, so that authors repeat). */
  readonly authors: readonly string[]
  /** Record types to draw from. */
  readonly types: readonly string[]
  /** Payloads; must be canonical-JSON values. */
  readonly payload: fc.Arbitrary<P>
  /** Highest Lamport clock. Default 12 (small, so that clocks collide). */
  readonly maxClock?: number
  /** Most records per set. Default 16. */
  readonly maxLength?: number
  /** Whether some records are passed as failed entries (alone or next to a verified copy). Default true. */
  readonly failed?: boolean
}

/**
 * Sets of policy entries with real content hashes: distinct records, some repeated, and (by
 * default) some passed as `E_SIGNATURE` failures, alone or beside their verified copy.
 */
export function arbitraryEntries<P>(options: ArbitraryEntriesOptions<P>): fc.Arbitrary<PolicyEntry<P>[]> {
  const record = fc
    .record({
      author: fc.constantFrom(...options.authors),
      clock: fc.integer({ min: 1, max: options.maxClock ?? 12 }),
      type: fc.constantFrom(...options.types),
      payload: options.payload,
    })
    .map((body) => makePolicyRecord<P>(body))
  const form = options.failed === false ? fc.constant('verified' as const) : fc.constantFrom('verified', 'verified', 'verified', 'failed', 'both')
  return fc
    .uniqueArray(fc.tuple(record, form), { selector: ([r]) => r.hash, maxLength: options.maxLength ?? 16 })
    .map((items) =>
      items.flatMap(([r, f]): PolicyEntry<P>[] => {
        const failure: FailedRecord = { record: r, code: 'E_SIGNATURE', reason: 'signature does not verify' }
        return f === 'verified' ? [r] : f === 'failed' ? [failure] : [failure, r]
      }),
    )
}
