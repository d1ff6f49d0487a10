/**
 * Whether a checkpoint says what the envelopes it merges said. A replica that holds those
 * envelopes compares, clock by clock, what each writes (where it was inserted, in which parent,
 * under which key, with which content) and what each deletes, so that an author cannot tell
 * replicas catching up through a checkpoint something else than it told everyone else.
 *
 * Items are compared unit by unit, not struct by struct: a checkpoint joins adjacent items (see
 * `mergeSessionUpdates`), and a unit inside an item is the same as an item of its own
 * whose left origin is the unit before it.
 *
 * ```ts
 * const problem = checkpointContentProblem(checkpoint.update, heldUpdates, true)
 * if (problem) refuse('E_EQUIVOCATION', problem)
 * ```
 * @module
 */
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'

type Struct = Y.Item | Y.GC | Y.Skip

interface Decoded {
  readonly structs: Struct[]
  readonly ds: { readonly clients: Map<number, Array<{ readonly clock: number; readonly len: number }>> }
}

/**
 * Why a checkpoint's update differs from its envelopes' (`held`, the updates of the envelopes it
 * merges that the replica holds, in order, from its first), or `undefined`. Every clock the held
 * updates write must be written the same way, and every deletion they make must be in the
 * checkpoint; with `exact` (the replica holds every envelope it merges) the checkpoint must also
 * write and delete nothing more.
 */
export function checkpointContentProblem(checkpoint: Uint8Array, held: readonly Uint8Array[], exact: boolean): string | undefined {
  const mine = Y.decodeUpdate(checkpoint) as unknown as Decoded
  const theirs = Y.decodeUpdate(held.length === 1 ? (held[0] as Uint8Array) : Y.mergeUpdates([...held])) as unknown as Decoded
  const structs = sameStructs(mine.structs, theirs.structs, exact)
  if (structs !== undefined) return structs
  const mineDeleted = ranges(mine.ds)
  const theirsDeleted = ranges(theirs.ds)
  for (const [client, list] of theirsDeleted) {
    for (const range of list) if (!covers(mineDeleted.get(client) ?? [], range)) return `does not delete ${client}:${range.clock} as the envelopes it merges do`
  }
  if (exact) {
    for (const [client, list] of mineDeleted) {
      for (const range of list) if (!covers(theirsDeleted.get(client) ?? [], range)) return `deletes ${client}:${range.clock}, which the envelopes it merges do not`
    }
  }
  return undefined
}

/** Compares the clocks `theirs` writes (one client, in clock order) with `mine`. */
function sameStructs(mine: readonly Struct[], theirs: readonly Struct[], exact: boolean): string | undefined {
  let i = 0
  for (const their of theirs) {
    const end = their.id.clock + their.length
    for (let clock = their.id.clock; clock < end; ) {
      while (i < mine.length && (mine[i] as Struct).id.clock + (mine[i] as Struct).length <= clock) i++
      const my = mine[i]
      if (my === undefined || my.id.client !== their.id.client || my.id.clock > clock) return `leaves out clock ${their.id.client}:${clock}`
      const stop = Math.min(end, my.id.clock + my.length)
      const problem = sameSegment(my, their, clock, stop)
      if (problem !== undefined) return `writes ${their.id.client}:${clock} differently: ${problem}`
      clock = stop
    }
  }
  if (exact) {
    const written = mine.reduce((sum, s) => sum + s.length, 0)
    const expected = theirs.reduce((sum, s) => sum + s.length, 0)
    if (written !== expected) return `writes ${written} clocks, the envelopes it merges ${expected}`
  }
  return undefined
}

/** Compares the clocks `[from, to)` of two structs that both cover them. */
function sameSegment(a: Struct, b: Struct, from: number, to: number): string | undefined {
  if (a.constructor !== b.constructor) return 'another kind of struct'
  if (!(a instanceof Y.Item) || !(b instanceof Y.Item)) return undefined
  const originOf = (item: Y.Item): Y.ID | null => (from === item.id.clock ? item.origin : Y.createID(item.id.client, from - 1))
  if (!Y.compareIDs(originOf(a), originOf(b)) || !Y.compareIDs(a.rightOrigin, b.rightOrigin)) return 'another position'
  if (from === a.id.clock && from === b.id.clock && (!sameParent(a.parent, b.parent) || a.parentSub !== b.parentSub)) return 'another parent or key'
  if (a.content.constructor !== b.content.constructor) return 'another kind of content'
  for (let clock = from; clock < to; clock++) {
    if (!equalBytes(unit(a.content, clock - a.id.clock), unit(b.content, clock - b.id.clock))) return 'other content'
  }
  return undefined
}

function sameParent(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' || typeof b === 'string' || a === null || b === null) return a === b
  return a instanceof Y.ID && b instanceof Y.ID && Y.compareIDs(a, b)
}

/** The bytes of one unit of content (a character, a value, or the whole content when it has one unit). */
function unit(content: Y.Item['content'], offset: number): Uint8Array {
  const encoder = encoding.createEncoder()
  if (content instanceof Y.ContentString) encoding.writeVarString(encoder, content.str.slice(offset, offset + 1))
  else if (content instanceof Y.ContentAny) encoding.writeAny(encoder, content.arr[offset] as Parameters<typeof encoding.writeAny>[1])
  else if (content instanceof Y.ContentJSON) encoding.writeVarString(encoder, JSON.stringify(content.arr[offset]) ?? 'undefined')
  else if (content instanceof Y.ContentDeleted) encoding.writeVarUint(encoder, 1)
  else {
    const update = new Y.UpdateEncoderV1()
    content.write(update, 0)
    return update.toUint8Array()
  }
  return encoding.toUint8Array(encoder)
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}

type Range = { readonly clock: number; readonly len: number }

/** A delete set as sorted, merged ranges per client. */
function ranges(ds: Decoded['ds']): Map<number, Range[]> {
  const out = new Map<number, Range[]>()
  for (const [client, list] of ds.clients) {
    const merged: Range[] = []
    for (const range of [...list].sort((x, y) => x.clock - y.clock)) {
      const last = merged[merged.length - 1]
      if (last && range.clock <= last.clock + last.len) merged[merged.length - 1] = { clock: last.clock, len: Math.max(last.len, range.clock + range.len - last.clock) }
      else merged.push({ clock: range.clock, len: range.len })
    }
    out.set(client, merged)
  }
  return out
}

/** Whether sorted, merged ranges cover `range` whole. */
function covers(list: readonly Range[], range: Range): boolean {
  return list.some((r) => r.clock <= range.clock && r.clock + r.len >= range.clock + range.len)
}
