/**
 * The writes a simulation made and what was promised about each. A write is identified by
 * where it ended in its document: the writer's Yjs client id and the clock after it. A replica
 * holds the write (whatever later edits did to its content) exactly when its state vector has
 * reached that clock for that client, which is what the final checks ask of every replica.
 *
 * What "acknowledged" means:
 * - `returned`: the operation's promise resolved (the edit is in the district's document).
 *   Until the district crashes, the write must reach every honest replica.
 * - `durable`: a `space.flush()` of the district resolved after the operation returned (the
 *   file store has fsynced the document's update and its envelope). It must survive a crash:
 *   the restarted district holds it before it syncs with anyone.
 * - `unacknowledged`: the district crashed after the operation returned and before a flush
 *   covered it. It may be lost, or come back from a peer that received it before the crash;
 *   either way every honest replica must end up agreeing.
 * @module
 */
import * as Y from 'yjs'

/** What was promised about a write (see the module comment). */
export type WriteStatus = 'returned' | 'durable' | 'unacknowledged'

/** One write. */
export interface LedgerWrite {
  /** The district that made it. */
  readonly district: string
  /** Its incarnation (1 before its first crash). */
  readonly incarnation: number
  /** The operation, e.g. `ticket.close`. */
  readonly op: string
  /** The document it wrote (a shard name). */
  readonly doc: string
  /** The writer's Yjs client id (its session's). */
  readonly client: number
  /** The client's clock after the write. */
  readonly clock: number
  status: WriteStatus
}

/** The writes of a simulation, in the order they were made. */
export class WriteLedger {
  readonly #writes: LedgerWrite[] = []

  /** Every write so far. */
  get writes(): readonly LedgerWrite[] {
    return this.#writes
  }

  /** The current clock of a document's own client: call before an operation, pass to {@link WriteLedger.record} after. */
  static mark(doc: Y.Doc): number {
    return Y.getState(doc.store, doc.clientID)
  }

  /** Records an operation that returned, if it wrote to `doc` since `before` (see {@link WriteLedger.mark}). */
  record(write: { district: string; incarnation: number; op: string; doc: string }, ydoc: Y.Doc, before: number): LedgerWrite | undefined {
    const clock = Y.getState(ydoc.store, ydoc.clientID)
    if (clock <= before) return undefined
    const entry: LedgerWrite = { ...write, client: ydoc.clientID, clock, status: 'returned' }
    this.#writes.push(entry)
    return entry
  }

  /** Returns a function that, called once a flush of the district resolved, marks every write it covers as durable. */
  flushStarted(district: string, incarnation: number): () => void {
    const covered = this.#writes.filter((w) => w.district === district && w.incarnation === incarnation && w.status === 'returned')
    return () => {
      for (const write of covered) if (write.status === 'returned') write.status = 'durable'
    }
  }

  /** The district crashed: what no flush covered is no longer promised. Returns the durable writes of the dead incarnation. */
  crashed(district: string, incarnation: number): LedgerWrite[] {
    const mine = this.#writes.filter((w) => w.district === district && w.incarnation === incarnation)
    for (const write of mine) if (write.status === 'returned') write.status = 'unacknowledged'
    return mine.filter((w) => w.status === 'durable')
  }

  /** Whether a replica's document holds a write. */
  static holds(doc: Y.Doc, write: LedgerWrite): boolean {
    return Y.getState(doc.store, write.client) >= write.clock
  }
}
