/**
 * The budget logic every system but cabildo gets, written as a user of a plain CRDT would write
 * it: verify each stored ballot with WebCrypto, keep the latest ballot per voter in a Map,
 * count approvals, fill the budget greedily. Adapters supply only storage (`put`, `values`).
 * @module
 */
import type { SignedRecord } from '../../../src/identity/signed-record'
import { recordHash } from '../../../src/identity/signed-record'
import { plainAdd, plainGreedy, plainVerify, type BudgetWorkload, type PlainTally } from '../workloads'
import type { BudgetReplica, Parts } from '../system'

/** What a system stores: ballots keyed by hash, read back as plain records. */
export interface BallotStore {
  /** Stores ballots (hash → record) in one transaction. */
  put(entries: ReadonlyArray<readonly [string, SignedRecord]>): void
  /** Every stored ballot, as plain records. */
  values(): SignedRecord[]
  /** Stores the budget and its projects. */
  setup(workload: BudgetWorkload): void
  encodeFull(): Parts
  close?(): void
}

/** A {@link BudgetReplica} over a store, with the plain verify / fold / greedy outcome. */
export function plainBudget(store: BallotStore): BudgetReplica {
  let workload: BudgetWorkload | undefined
  const keys = new Map<string, Promise<CryptoKey>>()
  let verified: SignedRecord[] = []
  let tally: PlainTally = { latest: new Map(), votes: new Map() }
  const verifyAll = async (records: readonly SignedRecord[]): Promise<SignedRecord[]> => {
    const out: SignedRecord[] = []
    for (let start = 0; start < records.length; start += 1000) {
      const chunk = records.slice(start, start + 1000)
      const ok = await Promise.all(chunk.map((r) => plainVerify(r, keys)))
      chunk.forEach((r, i) => ok[i] && out.push(r))
    }
    return out
  }
  return {
    setup: async (w) => {
      workload = w
      store.setup(w)
    },
    ingest: async (ballots, batch) => {
      for (let start = 0; start < ballots.length; start += batch) {
        store.put(ballots.slice(start, start + batch).map((b) => [recordHash(b), b] as const))
      }
    },
    encodeFull: async () => store.encodeFull(),
    verify: async () => {
      keys.clear()
      verified = await verifyAll(store.values())
      return verified.length
    },
    fold: async () => {
      tally = { latest: new Map(), votes: new Map() }
      for (const record of verified) plainAdd(tally, record)
      return tally.latest.size
    },
    outcome: async () => plainGreedy((workload as BudgetWorkload).projects, (workload as BudgetWorkload).total, tally.votes),
    warm: async () => undefined,
    addBallot: async (ballot) => {
      store.put([[recordHash(ballot), ballot]])
      if (await plainVerify(ballot, keys)) plainAdd(tally, ballot)
      return tally.latest.size
    },
    close: async () => store.close?.(),
  }
}
