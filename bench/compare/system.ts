/**
 * What each compared system implements: one adapter file per system under `systems/`, exporting
 * a {@link System}. The harness (`harness.ts`) drives every adapter through the same steps and
 * times them; adapters only do the work, in their system's ordinary API.
 * @module
 */
import type { SignedRecord } from '../../src/identity/signed-record'
import type { BudgetWorkload, TicketFields, TicketUpdate } from './workloads'

/** Encoded state, in named parts (one per document; a single part for single-document systems). */
export type Parts = ReadonlyArray<{ readonly name: string; readonly bytes: Uint8Array }>

/** Sum of the bytes of some parts. */
export function partBytes(parts: Parts): number {
  return parts.reduce((sum, p) => sum + p.bytes.length, 0)
}

/** A replica of the ticket data. */
export interface TicketReplica {
  /** Files ticket `index` in its own transaction. */
  create(index: number, fields: TicketFields): void | Promise<void>
  /** Applies one update in its own transaction. */
  update(update: TicketUpdate): void | Promise<void>
  /** Files many tickets at once (used only when one transaction each would overrun the time cap). */
  createBulk(items: ReadonlyArray<readonly [number, TicketFields]>): void | Promise<void>
  /** Applies many updates at once (as above). */
  updateBulk(updates: readonly TicketUpdate[]): void | Promise<void>
  /** Resolves once every write so far is complete (e.g. signed). */
  settle(): Promise<void>
  /** The full state, as a fresh replica would receive it. */
  encodeFull(): Promise<Parts>
  /** Applies parts made by another replica's `encodeFull` or `encodeSince`. */
  apply(parts: Parts): Promise<void>
  /** Reads every ticket into a plain object; returns how many it read. */
  readAll(): Promise<number>
  /** Loads only what it needs to read the tickets filed in `month` (`YYYY-MM`) from a full state, and reads them; returns how many. */
  loadMonth(parts: Parts, month: string): Promise<number>
  /** What this replica tells a peer so that the peer sends only what it lacks (a state vector, heads, a version). */
  since(): Promise<unknown>
  /** What a replica that sent `token` lacks. */
  encodeSince(token: unknown): Promise<Parts>
  /** Releases the replica. */
  close(): Promise<void>
}

/** A system's extra, signed path (cabildo only): full state and catch-up as signed envelopes. */
export interface SignedPath {
  /** Every envelope, as one bundle. */
  exportAll(): Promise<Uint8Array>
  /** Imports a bundle through the ingress guards; returns the refusals (`code: reason`), which should be none. */
  importBundle(bytes: Uint8Array): Promise<string[]>
  /** The peer's heads, for {@link SignedPath.exportSince}. */
  heads(): Promise<unknown>
  /** Envelopes beyond `heads`, as one bundle. */
  exportSince(heads: unknown): Promise<Uint8Array>
}

/** A replica of the budget's ballots. */
export interface BudgetReplica {
  /** Stores the budget and its projects (not timed). */
  setup(workload: BudgetWorkload): Promise<void>
  /** Stores received ballots, `batch` per transaction (as they would arrive by sync). */
  ingest(ballots: readonly SignedRecord[], batch: number): Promise<void>
  /** The encoded state. */
  encodeFull(): Promise<Parts>
  /** Verifies every stored ballot; returns how many passed. */
  verify(): Promise<number>
  /** Folds the verified ballots into the counted view; returns how many ballots count. */
  fold(): Promise<number>
  /** The outcome (greedy utilitarian): the selected project ids. */
  outcome(): Promise<readonly string[]>
  /** Prepares the live view the incremental figure updates (not timed). */
  warm(): Promise<void>
  /** Stores one more ballot and brings the counted view up to date; returns how many ballots count. */
  addBallot(ballot: SignedRecord): Promise<number>
  close(): Promise<void>
}

/** A replica of a proposal body. */
export interface TextReplica {
  /** Inserts one character at `pos` (its own transaction). */
  insert(pos: number, char: string): void
  /** Deletes the character at `pos` (its own transaction). */
  delete(pos: number): void
  /** Applies many ops in one transaction (used only past the time cap). */
  bulk(pos: Int32Array, chars: readonly string[], from: number, to: number): void
  settle(): Promise<void>
  encodeFull(): Promise<Parts>
  /** Loads parts into this (fresh) replica and returns the text. */
  load(parts: Parts): Promise<string>
  text(): string
  close(): Promise<void>
}

/** A compared system. */
export interface System {
  readonly name: string
  /** Version and the way it is used, for the report. */
  readonly description: string
  /** A replica; `writer` replicas make the changes, the others receive them. */
  tickets(writer: boolean): Promise<TicketReplica & { readonly signed?: SignedPath }>
  budget(): Promise<BudgetReplica>
  text(writer: boolean): Promise<TextReplica>
}
