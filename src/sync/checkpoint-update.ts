/**
 * The update of a checkpoint: one author session's updates merged into one, as compact as Yjs
 * would keep the same content in a document.
 *
 * `Y.mergeUpdates` keeps every transaction's items apart: 1,000 keystrokes stay 1,000 items, each
 * naming its left neighbour (about 13 bytes a character). A document joins such items once they
 * sit side by side ("ab" typed as "a" then "b" is one item), and so does this merge: an item joins
 * the one before it when it continues it exactly (same client, next clock, its left origin the
 * previous item's last character, the same right origin, content of a kind that joins, and both
 * deleted or both not). Splitting a joined item at any clock gives back the original items, which
 * is what Yjs does when something is inserted in between, so the joined update integrates into
 * the same document state as the separate ones, on every replica.
 *
 * ```ts
 * const update = mergeSessionUpdates(envelopes.map((e) => e.update)) // what a checkpoint carries
 * ```
 * @module
 */
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'

type Struct = Y.Item | Y.GC | Y.Skip

interface Range {
  readonly clock: number
  readonly len: number
}

/** Merges Yjs V1 updates (one session's, in order) into one V1 update whose adjacent items are joined. */
export function mergeSessionUpdates(updates: readonly Uint8Array[]): Uint8Array {
  const merged = updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates([...updates])
  const { structs, ds } = Y.decodeUpdate(merged) as unknown as { structs: Struct[]; ds: { clients: Map<number, Range[]> } }
  const deleted = new Map<number, Range[]>()
  for (const [client, ranges] of ds.clients) deleted.set(client, normalize(ranges))
  const joined: Struct[] = []
  let changed = false
  for (const struct of structs) {
    const last = joined[joined.length - 1]
    if (last instanceof Y.Item && struct instanceof Y.Item && joins(last, struct, deleted.get(struct.id.client) ?? [])) {
      last.length += struct.length
      changed = true
    } else {
      joined.push(struct)
    }
  }
  return changed ? encodeUpdate(joined, deleted) : merged
}

/**
 * Whether `right` continues `left` so that one item can stand for both; when it does, `left`'s
 * content has absorbed `right`'s (the caller adds the length).
 */
function joins(left: Y.Item, right: Y.Item, deleted: readonly Range[]): boolean {
  if (left.id.client !== right.id.client || left.id.clock + left.length !== right.id.clock) return false
  if (right.origin === null || !Y.compareIDs(right.origin, left.lastId) || !Y.compareIDs(left.rightOrigin, right.rightOrigin)) return false
  if (left.content.constructor !== right.content.constructor) return false
  const leftDeleted = deletedState(deleted, left.id.clock, left.length)
  if (leftDeleted === 'partly' || leftDeleted !== deletedState(deleted, right.id.clock, right.length)) return false
  // Strings, JSON and `any` values, and deleted content join; types, formats, embeds and binaries do not.
  return left.content.mergeWith(right.content as never)
}

/** Whether a clock range is deleted entirely, not at all, or partly. */
function deletedState(ranges: readonly Range[], clock: number, length: number): 'all' | 'none' | 'partly' {
  let covered = 0
  for (const range of ranges) {
    if (range.clock >= clock + length) break
    const start = Math.max(range.clock, clock)
    const end = Math.min(range.clock + range.len, clock + length)
    if (end > start) covered += end - start
  }
  return covered === 0 ? 'none' : covered === length ? 'all' : 'partly'
}

/** Sorted, non-overlapping ranges. */
function normalize(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a.clock - b.clock)
  const out: Range[] = []
  for (const range of sorted) {
    const last = out[out.length - 1]
    if (last && range.clock <= last.clock + last.len) out[out.length - 1] = { clock: last.clock, len: Math.max(last.len, range.clock + range.len - last.clock) }
    else out.push(range)
  }
  return out
}

/** A V1 update of decoded structs (each client's contiguous, in clock order) and a delete set. */
function encodeUpdate(structs: readonly Struct[], deleted: ReadonlyMap<number, readonly Range[]>): Uint8Array {
  const encoder = new Y.UpdateEncoderV1()
  const byClient = new Map<number, Struct[]>()
  for (const struct of structs) {
    let list = byClient.get(struct.id.client)
    if (!list) byClient.set(struct.id.client, (list = []))
    list.push(struct)
  }
  // Higher clients first, as Yjs writes them.
  const clients = [...byClient.keys()].sort((a, b) => b - a)
  encoding.writeVarUint(encoder.restEncoder, clients.length)
  for (const client of clients) {
    const list = byClient.get(client) as Struct[]
    encoding.writeVarUint(encoder.restEncoder, list.length)
    encoder.writeClient(client)
    encoding.writeVarUint(encoder.restEncoder, (list[0] as Struct).id.clock)
    for (const struct of list) struct.write(encoder, 0)
  }
  const deleting = [...deleted.entries()].filter(([, ranges]) => ranges.length > 0).sort((a, b) => b[0] - a[0])
  encoding.writeVarUint(encoder.restEncoder, deleting.length)
  for (const [client, ranges] of deleting) {
    encoder.resetDsCurVal()
    encoding.writeVarUint(encoder.restEncoder, client)
    encoding.writeVarUint(encoder.restEncoder, ranges.length)
    for (const range of ranges) {
      encoder.writeDsClock(range.clock)
      encoder.writeDsLen(range.len)
    }
  }
  return encoder.toUint8Array()
}
