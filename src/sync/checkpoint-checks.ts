/**
 * The rules the ingress guard applies to checkpoints, as pure functions over what the guard
 * knows of a session.
 *
 * A checkpoint merges its session's envelopes `from`..`seq` into one update. Its `prev` is the
 * `prev` of envelope `from`, its `last` the hash of envelope `seq`, so a receiver links it into
 * the session's chain on both ends; the envelopes in between are not named, and a receiver that
 * took the checkpoint instead of them knows only their content. Its update starts at the clock
 * where envelope `from` started (0 when `from` is 1) and may overlap what the receiver holds
 * (Yjs skips what it has), never leave a gap.
 *
 * Catch-up by checkpoints can make envelopes wait on each other: author A's checkpoint contains
 * an edit made after one of B's, and B's envelope (or checkpoint) an edit made after one of A's
 * that the checkpoint merged. Neither applies alone; together they do. {@link closedGroup} finds
 * the largest set of waiting envelopes that applies together, which the guard applies as one
 * update (what Yjs does with a whole document's state).
 * @module
 */

/** What the guard knows of a session's chain. */
export interface ChainView {
  /** The session's head: the highest sequence number applied, plainly or through a checkpoint. */
  readonly head: number
  /** The hash (hex) of envelope `seq`, if known here (a checkpoint's merged envelopes are not). */
  hashAt(seq: number): string | undefined
}

/** A checkpoint's chain fields, hashes in hex. */
export interface CheckpointLink {
  readonly from: number
  readonly seq: number
  /** The `prev` of envelope `from` ('' when `from` is 1). */
  readonly prev: string
  /** The hash of envelope `seq`. */
  readonly last: string
}

/** Where a checkpoint stands against a session's chain. */
export type CheckpointChainVerdict =
  /** Its predecessor (envelope `from - 1`) is missing. */
  | { readonly kind: 'wait'; readonly seq: number }
  /** It brings the session's head forward: check its update, then apply it. */
  | { readonly kind: 'extend' }
  /** The head is at or beyond it and its `last` matches: nothing to apply; it can be kept to serve peers. */
  | { readonly kind: 'known' }
  /** The head is beyond it, and envelope `seq` is unknown here (a later checkpoint covered it): a no-op. */
  | { readonly kind: 'covered' }
  | { readonly kind: 'reject'; readonly code: 'E_CHAIN' | 'E_EQUIVOCATION'; readonly reason: string }

/** Links a checkpoint into its session's chain. */
export function linkCheckpoint(link: CheckpointLink, chain: ChainView): CheckpointChainVerdict {
  if (chain.head < link.from - 1) return { kind: 'wait', seq: link.from - 1 }
  const before = link.from > 1 ? chain.hashAt(link.from - 1) : ''
  if (before !== undefined && before !== link.prev) {
    return { kind: 'reject', code: 'E_CHAIN', reason: `prev does not name envelope #${link.from - 1} of the session` }
  }
  if (chain.head < link.seq) return { kind: 'extend' }
  const known = chain.hashAt(link.seq)
  if (known === undefined) return { kind: 'covered' }
  if (known !== link.last) {
    return { kind: 'reject', code: 'E_EQUIVOCATION', reason: `its last is not the hash of envelope #${link.seq} of this session, which was already applied` }
  }
  return { kind: 'known' }
}

/**
 * Why a checkpoint's clocks cannot be its session's, or `undefined`. `state` is the receiver's
 * clock of the session's client (the end of envelope `head`), `range` what the update writes.
 */
export function checkpointClockProblem(
  link: CheckpointLink,
  head: number,
  state: number,
  range: { readonly start: number; readonly end: number } | undefined,
): string | undefined {
  if (range === undefined) {
    // Only deletions: the envelopes it merges wrote no clock either.
    return link.from === 1 && head <= link.seq && state !== 0 ? `writes no clock, yet envelopes #1 to #${head} of its session wrote up to clock ${state}` : undefined
  }
  const { start, end } = range
  if (link.from === 1 && start !== 0) return `merges from envelope #1 but starts at clock ${start}, not 0`
  if (start > state) return `starts at clock ${start}, leaving a gap after clock ${state}`
  if (head === link.from - 1 && start !== state) return `starts at clock ${start}, not where envelope #${link.from} starts (${state})`
  if (head < link.seq && end < state) return `ends at clock ${end}, before envelope #${head}, which it merges, ended (${state})`
  if (head === link.seq && end !== state) return `ends at clock ${end}, not where envelope #${link.seq} ended (${state})`
  if (head > link.seq && end > state) return `ends at clock ${end}, beyond envelope #${head} (${state})`
  return undefined
}

/** A waiting envelope, as {@link closedGroup} sees it. */
export interface GroupMember {
  /** Its session (`<author> <session hex>`). */
  readonly sessionKey: string
  /** Its session's Yjs client id. */
  readonly client: number
  readonly seq: number
  /** Hex hash of its body. */
  readonly hash: string
  /** Hex `prev` ('' at seq 1 or for a checkpoint from 1). */
  readonly prev: string
  /** Set for a checkpoint. */
  readonly checkpoint: { readonly from: number; readonly last: string } | undefined
  /** Per client, the clock range `[start, end)` its update writes. */
  readonly ranges: ReadonlyMap<number, { readonly start: number; readonly end: number }>
  /** Per client, the highest clock its update needs present (dependencies and deleted items). */
  readonly needs: ReadonlyMap<number, number>
}

/** What the guard knows of the document, for {@link closedGroup}. */
export interface GroupContext {
  /** A session's chain. */
  chain(sessionKey: string): ChainView
  /** The document's clock of a client. */
  state(client: number): number
}

/**
 * The largest set of waiting envelopes that can be applied together, in an order that extends
 * each session's chain link by link (empty when none): every member's predecessor is applied or
 * a member, its clocks continue its client (a checkpoint may overlap), and everything it needs
 * is in the document or written by a member. Computed as a greatest fixpoint: start from every
 * waiting envelope, drop those whose needs the others cannot meet, until none is dropped.
 */
export function closedGroup<M extends GroupMember>(waiting: readonly M[], context: GroupContext): M[] {
  let candidates = new Set(waiting)
  for (;;) {
    const { order, reach } = connect(candidates, context)
    const kept = new Set(order.filter((m) => [...m.needs].every(([client, clock]) => clock < (reach.get(client) ?? context.state(client)))))
    if (kept.size === candidates.size) return order
    candidates = kept
  }
}

/** Each session's members that link into its chain, in chain order, and the clocks they reach. */
function connect<M extends GroupMember>(candidates: ReadonlySet<M>, context: GroupContext): { order: M[]; reach: Map<number, number> } {
  const bySession = new Map<string, M[]>()
  for (const member of candidates) {
    let list = bySession.get(member.sessionKey)
    if (!list) bySession.set(member.sessionKey, (list = []))
    list.push(member)
  }
  const order: M[] = []
  const reach = new Map<number, number>()
  const clockOf = (client: number): number => reach.get(client) ?? context.state(client)
  for (const [key, members] of bySession) {
    const chain = context.chain(key)
    let head = chain.head
    const hashes = new Map<number, string>()
    const hashAt = (seq: number): string | undefined => hashes.get(seq) ?? chain.hashAt(seq)
    const plain = new Map<number, M>()
    for (const m of members) if (m.checkpoint === undefined && !plain.has(m.seq)) plain.set(m.seq, m)
    const checkpoints = members.filter((m) => m.checkpoint !== undefined)
    for (;;) {
      const next = plain.get(head + 1)
      let step: M | undefined
      if (next && (head === 0 ? next.prev === '' : next.prev === hashAt(head)) && continues(next, clockOf, false)) step = next
      else {
        for (const c of checkpoints) {
          const from = (c.checkpoint as { from: number }).from
          if (from - 1 > head || c.seq <= head || (step && step.seq >= c.seq)) continue
          const before = from > 1 ? hashAt(from - 1) : ''
          if ((before === undefined || before === c.prev) && continues(c, clockOf, from - 1 === head)) step = c
        }
      }
      if (!step) break
      order.push(step)
      head = step.seq
      hashes.set(head, step.checkpoint?.last ?? step.hash)
      for (const [client, range] of step.ranges) if (range.end > clockOf(client)) reach.set(client, range.end)
    }
  }
  return { order, reach }
}

/** Whether a member's clocks continue what is reached so far: exactly, or (a checkpoint) with overlap. */
function continues(member: GroupMember, clockOf: (client: number) => number, exact: boolean): boolean {
  for (const [client, range] of member.ranges) {
    const at = clockOf(client)
    if (member.checkpoint === undefined || exact ? range.start !== at : range.start > at) return false
  }
  return true
}
