/**
 * The plain y-websocket protocol as its server side speaks it: each WebSocket message is a
 * varuint type, then
 * - `0` sync (y-protocols `sync`): a varuint subtype — `0` step 1 (a state vector), `1` step 2
 *   or `2` update (a V1 update) — then varbytes;
 * - `1` awareness: varbytes of a y-protocols awareness update;
 * - `3` query awareness: nothing (answer with every awareness state);
 * - `2` auth: sent by servers only, never read here.
 *
 * ```ts
 * const message = decodePlainMessage(bytes) // never throws
 * if (message.kind === 'sync-step1') socket.send(encodeSyncStep2(doc, message.stateVector))
 * ```
 * @module
 */
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { writeSyncStep1, writeSyncStep2, writeUpdate } from 'y-protocols/sync'
import type { AwarenessEntry } from '../../sync/awareness-check'

/** The y-websocket message types. */
export const PlainMessageType = { sync: 0, awareness: 1, auth: 2, queryAwareness: 3 } as const

const SYNC_STEP1 = 0
const SYNC_STEP2 = 1
const SYNC_UPDATE = 2

/** A decoded message from a plain client. */
export type PlainMessage =
  | { readonly kind: 'sync-step1'; readonly stateVector: Uint8Array }
  | { readonly kind: 'sync-update'; readonly update: Uint8Array }
  | { readonly kind: 'awareness'; readonly update: Uint8Array }
  | { readonly kind: 'query-awareness' }
  | { readonly kind: 'invalid'; readonly reason: string }

function readBytes(decoder: decoding.Decoder): Uint8Array {
  const length = decoding.readVarUint(decoder)
  // lib0 clamps a length past the end; a truncated message must not pass as a shorter one.
  if (length > decoder.arr.length - decoder.pos) throw new Error('truncated')
  return decoding.readUint8Array(decoder, length)
}

/** Decodes one message from a plain client. Never throws: anything else is `invalid`. */
export function decodePlainMessage(bytes: Uint8Array): PlainMessage {
  try {
    const decoder = decoding.createDecoder(bytes)
    const type = decoding.readVarUint(decoder)
    let message: PlainMessage
    if (type === PlainMessageType.sync) {
      const subtype = decoding.readVarUint(decoder)
      const payload = readBytes(decoder)
      if (subtype === SYNC_STEP1) {
        Y.decodeStateVector(payload) // throws on anything that is no state vector
        message = { kind: 'sync-step1', stateVector: payload }
      } else if (subtype === SYNC_STEP2 || subtype === SYNC_UPDATE) {
        message = { kind: 'sync-update', update: payload }
      } else return { kind: 'invalid', reason: `unknown sync message ${subtype}` }
    } else if (type === PlainMessageType.awareness) {
      message = { kind: 'awareness', update: readBytes(decoder) }
    } else if (type === PlainMessageType.queryAwareness) {
      message = { kind: 'query-awareness' }
    } else return { kind: 'invalid', reason: `unexpected message type ${type}` }
    if (decoding.hasContent(decoder)) return { kind: 'invalid', reason: 'trailing bytes' }
    return message
  } catch (error) {
    return { kind: 'invalid', reason: `undecodable: ${error instanceof Error ? error.message : String(error)}` }
  }
}

function message(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/** Sync step 1: the document's state vector (the client answers with what the document lacks). */
export function encodeSyncStep1(doc: Y.Doc): Uint8Array {
  return message((encoder) => {
    encoding.writeVarUint(encoder, PlainMessageType.sync)
    writeSyncStep1(encoder, doc)
  })
}

/** Sync step 2: what a client whose state vector is `stateVector` lacks, as one V1 update. */
export function encodeSyncStep2(doc: Y.Doc, stateVector: Uint8Array): Uint8Array {
  return message((encoder) => {
    encoding.writeVarUint(encoder, PlainMessageType.sync)
    writeSyncStep2(encoder, doc, stateVector)
  })
}

/** An update message: a V1 update the document just applied. */
export function encodeSyncUpdate(update: Uint8Array): Uint8Array {
  return message((encoder) => {
    encoding.writeVarUint(encoder, PlainMessageType.sync)
    writeUpdate(encoder, update)
  })
}

/** An awareness update of the given entries (the y-protocols awareness format). */
export function encodeAwarenessEntries(entries: readonly AwarenessEntry[]): Uint8Array {
  return message((encoder) => {
    encoding.writeVarUint(encoder, entries.length)
    for (const { client, clock, state } of entries) {
      encoding.writeVarUint(encoder, client)
      encoding.writeVarUint(encoder, clock)
      encoding.writeVarString(encoder, JSON.stringify(state))
    }
  })
}

/** An awareness message carrying a y-protocols awareness update. */
export function encodeAwarenessMessage(update: Uint8Array): Uint8Array {
  return message((encoder) => {
    encoding.writeVarUint(encoder, PlainMessageType.awareness)
    encoding.writeVarUint8Array(encoder, update)
  })
}
