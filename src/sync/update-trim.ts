/**
 * Cuts a Yjs V1 update down to what a document lacks: the structs beyond its state vector and
 * the deletions of items it has not deleted yet.
 *
 * A plain Yjs client repeats what the other side already has: its sync step 2 carries the whole
 * delete set of its document, and its structs may start before the receiver's clock (an edit
 * sent as an update, then again inside a step 2). An envelope made from such bytes would be
 * judged on deletions it does not make (a record deleted long ago, by someone else) and would
 * overlap clocks already applied. Trimming first makes the envelope say exactly what changes.
 *
 * ```ts
 * const read = inspectUpdate(bytes)
 * if (read.ok) {
 *   const fresh = trimUpdate(doc, bytes, read.update) // undefined: nothing new
 * }
 * ```
 * @module
 */
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import type { DeleteRange, InspectedUpdate } from './update-inspector'

/**
 * The part of `update` that `doc` lacks, as a V1 update, or `undefined` when it adds nothing.
 * `inspected` is the complete reading of `update` ({@link inspectUpdate}), which has checked its
 * bounds; structs beyond a gap and deletions of content the document lacks are kept, for the
 * guard to judge.
 */
export function trimUpdate(doc: Y.Doc, update: Uint8Array, inspected: InspectedUpdate): Uint8Array | undefined {
  const deletes = freshDeletes(doc, inspected.deletes)
  let knownStructs = false
  let freshStructs = false
  for (const [client, range] of inspected.ranges) {
    const state = Y.getState(doc.store, client)
    if (range.start < state) knownStructs = true
    if (range.end > state) freshStructs = true
  }
  if (!freshStructs && deletes.length === 0) return undefined
  if (!knownStructs && deletes.length === inspected.deletes.length) return update
  // Yjs slices the structs (a struct partly known keeps its unknown clocks); the delete set is
  // written anew, since Yjs offers no way to subtract one.
  const structs = freshStructs ? Y.decodeUpdate(Y.diffUpdate(update, Y.encodeStateVector(doc))).structs : []
  return encodeUpdate(structs, deletes)
}

/** The deleted ranges of `deletes` the document has not deleted yet (ranges beyond its clocks are kept). */
function freshDeletes(doc: Y.Doc, deletes: readonly DeleteRange[]): DeleteRange[] {
  const out: DeleteRange[] = []
  const keep = (client: number, clock: number, length: number): void => {
    const last = out[out.length - 1]
    if (last && last.client === client && last.clock + last.length === clock) out[out.length - 1] = { client, clock: last.clock, length: last.length + length }
    else out.push({ client, clock, length })
  }
  for (const del of deletes) {
    const state = Y.getState(doc.store, del.client)
    const end = del.clock + del.length
    for (let clock = del.clock; clock < end; ) {
      if (clock >= state) {
        keep(del.client, clock, end - clock)
        break
      }
      // Below the document's clock every id exists: walk struct by struct.
      const struct = Y.getItem(doc.store, Y.createID(del.client, clock))
      const stop = Math.min(end, state, struct.id.clock + struct.length)
      if (struct instanceof Y.Item && !struct.deleted) keep(del.client, clock, stop - clock)
      clock = stop
    }
  }
  return out
}

/** A V1 update of decoded structs (each client's contiguous, in order) and a delete set. */
function encodeUpdate(structs: ReadonlyArray<Y.Item | Y.GC | Y.Skip>, deletes: readonly DeleteRange[]): Uint8Array {
  const encoder = new Y.UpdateEncoderV1()
  const byClient = new Map<number, Array<Y.Item | Y.GC | Y.Skip>>()
  for (const struct of structs) {
    let list = byClient.get(struct.id.client)
    if (!list) byClient.set(struct.id.client, (list = []))
    list.push(struct)
  }
  encoding.writeVarUint(encoder.restEncoder, byClient.size)
  for (const [client, list] of byClient) {
    encoding.writeVarUint(encoder.restEncoder, list.length)
    encoder.writeClient(client)
    encoding.writeVarUint(encoder.restEncoder, (list[0] as Y.Item | Y.GC | Y.Skip).id.clock)
    for (const struct of list) struct.write(encoder, 0)
  }
  const deletesByClient = new Map<number, DeleteRange[]>()
  for (const del of deletes) {
    let list = deletesByClient.get(del.client)
    if (!list) deletesByClient.set(del.client, (list = []))
    list.push(del)
  }
  encoding.writeVarUint(encoder.restEncoder, deletesByClient.size)
  for (const [client, list] of deletesByClient) {
    encoder.resetDsCurVal()
    encoding.writeVarUint(encoder.restEncoder, client)
    encoding.writeVarUint(encoder.restEncoder, list.length)
    for (const del of list) {
      encoder.writeDsClock(del.clock)
      encoder.writeDsLen(del.length)
    }
  }
  return encoder.toUint8Array()
}
