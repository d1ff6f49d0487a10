/**
 * What a document's log holds of one author session: its plain envelopes by sequence number and
 * its checkpoints, and the session's head.
 *
 * A replica that caught up through a checkpoint holds no plain envelope before it: the head is
 * the checkpoint's `seq`, with its `last` as the head's hash (the hash of envelope `seq`, which
 * every replica agrees on, however it got there). Of two checkpoints, one whose range contains
 * the other's makes it useless (any peer that could take the smaller can take the larger, which
 * costs less than the smaller plus the envelopes between), so only the larger is kept.
 *
 * ```ts
 * const session = new SessionLog<LoggedEnvelope>()
 * session.add(entry)                 // false when it does not link in (yet)
 * const plan = session.plan(peerHead) // the cheapest envelopes to send a peer at `peerHead`
 * ```
 * @module
 */
import { planCatchUp, type PlanStep } from './catch-up-plan'

/** An envelope as a {@link SessionLog} keeps it. */
export interface SessionEntry extends PlanStep {
  /** Hex hash of its body. */
  readonly hash: string
  /** Set for a checkpoint: its first sequence number and the hex hash of envelope `seq`. */
  readonly checkpoint?: { readonly from: number; readonly last: string } | undefined
}

/** One session's envelopes in a log. */
export class SessionLog<E extends SessionEntry> {
  readonly #plain: Array<E | undefined> = []
  #checkpoints: E[] = []
  #head = 0
  #headHash = ''

  /** The highest sequence number held, plainly or through a checkpoint (0: none). */
  get head(): number {
    return this.#head
  }

  /** The hex hash of envelope `head` ('' when none). */
  get headHash(): string {
    return this.#headHash
  }

  /** The checkpoints held (none contains another). */
  get checkpoints(): readonly E[] {
    return this.#checkpoints
  }

  /** The plain envelope `seq`, if held. */
  envelopeAt(seq: number): E | undefined {
    return this.#plain[seq - 1]
  }

  /** The latest envelope: the plain one at the head, or the checkpoint that reaches it. */
  latest(): E | undefined {
    return this.#plain[this.#head - 1] ?? this.#checkpoints.find((c) => c.seq === this.#head)
  }

  /** The hex hash of envelope `seq`, if known here (held, or named by a checkpoint's `last`). */
  hashAt(seq: number): string | undefined {
    return this.#plain[seq - 1]?.hash ?? this.#checkpoints.find((c) => c.seq === seq)?.checkpoint?.last
  }

  /**
   * Adds an envelope that the guard accepted. A plain envelope must be the next one; a
   * checkpoint must start at most one past the head and not be contained in a checkpoint held.
   * Returns whether it was added, and the checkpoints it made useless (removed).
   */
  add(entry: E): { readonly added: boolean; readonly superseded: readonly E[] } {
    const checkpoint = entry.checkpoint
    if (checkpoint === undefined) {
      if (entry.seq !== this.#head + 1) return { added: false, superseded: [] }
      this.#plain[entry.seq - 1] = entry
      this.#head = entry.seq
      this.#headHash = entry.hash
      return { added: true, superseded: [] }
    }
    if (checkpoint.from - 1 > this.#head) return { added: false, superseded: [] }
    const contains = (outer: E, inner: E): boolean => (outer.checkpoint?.from as number) <= (inner.checkpoint?.from as number) && outer.seq >= inner.seq
    if (this.#checkpoints.some((held) => contains(held, entry))) return { added: false, superseded: [] }
    const superseded = this.#checkpoints.filter((held) => contains(entry, held))
    if (superseded.length > 0) this.#checkpoints = this.#checkpoints.filter((held) => !contains(entry, held))
    this.#checkpoints.push(entry)
    if (entry.seq > this.#head) {
      this.#head = entry.seq
      this.#headHash = checkpoint.last
    }
    return { added: true, superseded }
  }

  /** The cheapest envelopes, in order, that bring a peer at `after` to the head (see {@link planCatchUp}). */
  plan(after: number): E[] {
    return planCatchUp({ envelopeAt: (seq) => this.#plain[seq - 1], checkpoints: this.#checkpoints, head: this.#head }, after)
  }
}
