/**
 * Builds the sync engine's messages under a size limit: heads, wants and envelopes of one
 * document, split into as many messages as the transport needs.
 *
 * ```ts
 * for (const message of envelopeMessages('tickets.2026-11', envelopes, 64 * 1024).messages) send(encodeSyncMessage(message))
 * ```
 * @module
 */
import { encodeUtf8 } from 'lib0/string'
import type { SyncMessage, WireHead, WireWant } from './sync-protocol'

/** Room kept in each message for its header (version, type, doc name, flags, counts). */
const HEADER_ROOM = 2048
/** Upper bound of a head's bytes besides its author: index, session, seq, hash. */
const HEAD_BYTES = 5 + 16 + 8 + 32
/** Upper bound of a want's bytes besides its author: session, seq. */
const WANT_BYTES = 16 + 8
/** Upper bound of a varuint length prefix. */
const LENGTH_BYTES = 5

function roomFor(limit: number): number {
  return Math.max(1, limit - HEADER_ROOM)
}

/**
 * The `envelopes` messages carrying `envelopes` (in the given order) within `limit` bytes each.
 * An envelope that cannot fit in any message is left out and counted in `oversize`.
 */
export function envelopeMessages(doc: string, envelopes: readonly Uint8Array[], limit: number): { messages: SyncMessage[]; oversize: number } {
  const room = roomFor(limit)
  const messages: SyncMessage[] = []
  let oversize = 0
  let batch: Uint8Array[] = []
  let size = 0
  for (const bytes of envelopes) {
    const cost = bytes.length + LENGTH_BYTES
    if (cost > room) {
      oversize++
      continue
    }
    if (size + cost > room && batch.length > 0) {
      messages.push({ type: 'envelopes', doc, envelopes: batch })
      batch = []
      size = 0
    }
    batch.push(bytes)
    size += cost
  }
  if (batch.length > 0) messages.push({ type: 'envelopes', doc, envelopes: batch })
  return { messages, oversize }
}

/**
 * The `heads` messages announcing `heads` within `limit` bytes each. An empty list still yields
 * one message (with `reply`, it asks the peer for its heads).
 */
export function headsMessages(doc: string, heads: readonly WireHead[], reply: boolean, limit: number): SyncMessage[] {
  const room = roomFor(limit)
  const messages: SyncMessage[] = []
  let batch: WireHead[] = []
  let authors = new Set<string>()
  let size = 0
  const close = (): void => {
    // One answer is enough: only the first message asks for it.
    messages.push({ type: 'heads', doc, reply: reply && messages.length === 0, heads: batch })
    batch = []
    authors = new Set()
    size = 0
  }
  for (const head of heads) {
    const cost = HEAD_BYTES + (authors.has(head.author) ? 0 : encodeUtf8(head.author).length + LENGTH_BYTES)
    if (size + cost > room && batch.length > 0) close()
    batch.push(head)
    authors.add(head.author)
    size += cost
  }
  if (batch.length > 0 || messages.length === 0) close()
  return messages
}

/** The `want` messages asking for `wants` within `limit` bytes each. */
export function wantMessages(doc: string, wants: readonly WireWant[], limit: number): SyncMessage[] {
  const room = roomFor(limit)
  const messages: SyncMessage[] = []
  let batch: WireWant[] = []
  let size = 0
  for (const want of wants) {
    const cost = WANT_BYTES + encodeUtf8(want.author).length + LENGTH_BYTES
    if (size + cost > room && batch.length > 0) {
      messages.push({ type: 'want', doc, wants: batch })
      batch = []
      size = 0
    }
    batch.push(want)
    size += cost
  }
  if (batch.length > 0) messages.push({ type: 'want', doc, wants: batch })
  return messages
}
