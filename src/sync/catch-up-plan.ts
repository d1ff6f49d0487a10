/**
 * Which envelopes bring a peer from one point of an author session to its head, at the fewest
 * bytes: the session's envelopes one by one, or a checkpoint (which merges envelopes `from`..`seq`
 * into one) followed by the envelopes after it, or any chain of those.
 *
 * A peer at `after` can take a checkpoint whenever `from - 1 <= after < seq`: the part it already
 * holds overlaps, and Yjs skips what it has. The plan is a shortest path over sequence numbers
 * (an envelope is an edge `seq - 1 → seq`, a checkpoint every edge `p → seq` for `from - 1 <= p`),
 * weighted by bytes.
 *
 * ```ts
 * const plan = planCatchUp({ envelopeAt: (seq) => plain[seq - 1], checkpoints, head: 1000 }, 0)
 * // → [checkpoint 1..768, envelope 769, ..., envelope 1000]
 * ```
 * @module
 */

/** An envelope a plan can send: a plain one or a checkpoint. */
export interface PlanStep {
  /** Its sequence number (a checkpoint's last). */
  readonly seq: number
  /** Set for a checkpoint: the first sequence number it merges. */
  readonly checkpoint?: { readonly from: number } | undefined
  /** Its canonical bytes (their length is the cost). */
  readonly bytes: Uint8Array
}

/** What a replica holds of one session. */
export interface SessionHoldings<S extends PlanStep> {
  /** The plain envelope `seq`, if held. */
  envelopeAt(seq: number): S | undefined
  /** The checkpoints held. */
  readonly checkpoints: readonly S[]
  /** The session's head (highest sequence number held, plain or through a checkpoint). */
  readonly head: number
}

/**
 * The cheapest list of envelopes (in the order to apply them) that takes a peer from `after` to
 * the session's head; when the holdings cannot reach the head from `after`, the cheapest list
 * that reaches as far as possible. Empty when the peer is not behind.
 */
export function planCatchUp<S extends PlanStep>(holdings: SessionHoldings<S>, after: number): S[] {
  const start = Math.max(0, after)
  const span = holdings.head - start
  if (span <= 0) return []
  const cost = new Float64Array(span + 1).fill(Number.POSITIVE_INFINITY)
  const via: Array<S | undefined> = new Array<S | undefined>(span + 1)
  const previous = new Float64Array(span + 1)
  cost[0] = 0
  const fromOf = (step: S): number => (step.checkpoint as { from: number }).from
  const usable = holdings.checkpoints.filter((c) => c.checkpoint !== undefined && c.seq > start).sort((a, b) => fromOf(a) - fromOf(b))
  const relax = (at: number, to: number, total: number, step: S): void => {
    if (total < (cost[to - start] as number)) {
      cost[to - start] = total
      via[to - start] = step
      previous[to - start] = at
    }
  }
  let furthest = start
  for (let p = start; p < holdings.head; p++) {
    const here = cost[p - start] as number
    if (here === Number.POSITIVE_INFINITY) continue
    furthest = p
    const next = holdings.envelopeAt(p + 1)
    if (next) relax(p, p + 1, here + next.bytes.length, next)
    for (const checkpoint of usable) {
      if (fromOf(checkpoint) - 1 > p) break
      if (checkpoint.seq > p) relax(p, checkpoint.seq, here + checkpoint.bytes.length, checkpoint)
    }
  }
  if ((cost[span] as number) !== Number.POSITIVE_INFINITY) furthest = holdings.head
  const plan: S[] = []
  for (let at = furthest; at > start; at = previous[at - start] as number) plan.push(via[at - start] as S)
  return plan.reverse()
}
