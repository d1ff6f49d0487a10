/**
 * The frames of the Redis transport: what one peer publishes on a channel's bus (`hello`,
 * `bye`) or on another peer's own channel (`hello`, `hello-back`, `data`). One Redis pub/sub
 * message is one frame.
 *
 * | frame | bytes |
 * | --- | --- |
 * | `hello` | version (1), type 0, peer id and metadata (as in the WebSocket hello), incarnation (varstring), ask (1 byte: 1 asks for a `hello-back`) |
 * | `hello-back` | version (1), type 1, peer id and metadata, incarnation |
 * | `bye` | version (1), type 2, peer id, incarnation |
 * | `data` | version (1), type 3, peer id of the sender, the message's bytes (varuint length, then the bytes) |
 *
 * The incarnation names one run of a peer's subscriptions: a peer whose Redis connection broke
 * (or that restarted with the same peer id) says hello under a new one, so the others know it
 * missed messages and announce it afresh.
 *
 * ```ts
 * const hello = encodeBusFrame({ type: 'hello', peer: { peerId: 'relay-a' }, incarnation: 'f00d', ask: true })
 * const decoded = decodeBusFrame(hello)
 * if (decoded !== undefined && decoded.type === 'hello') console.log(decoded.peer.peerId) // 'relay-a'
 * ```
 *
 * Decoding never throws: anything published on a channel is untrusted.
 * @module
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { PeerInfo } from '../../transports/transport'
import { HELLO_LIMITS } from '../../transports/websocket-frames'

/** The format version: the first byte of every frame. */
export const BUS_FRAME_VERSION = 1

/** Frame type numbers (the second byte). */
export const BusFrameType = { hello: 0, 'hello-back': 1, bye: 2, data: 3 } as const

/** Longest incarnation accepted, in characters. */
const MAX_INCARNATION_CHARS = 64

/** A frame of the Redis transport. */
export type BusFrame =
  /** A peer is here (on the bus: to everyone; on a peer's channel: to it alone); `ask` asks for a `hello-back`. */
  | { readonly type: 'hello'; readonly peer: PeerInfo; readonly incarnation: string; readonly ask: boolean }
  /** The answer to a `hello` that asked, on the asker's channel. */
  | { readonly type: 'hello-back'; readonly peer: PeerInfo; readonly incarnation: string }
  /** A peer leaves. */
  | { readonly type: 'bye'; readonly peerId: string; readonly incarnation: string }
  /** Bytes for the peer whose channel carries the frame. */
  | { readonly type: 'data'; readonly from: string; readonly bytes: Uint8Array }

function writePeer(encoder: encoding.Encoder, peer: PeerInfo): void {
  encoding.writeVarString(encoder, peer.peerId)
  const entries = Object.entries(peer.metadata ?? {})
  encoding.writeVarUint(encoder, entries.length)
  for (const [key, value] of entries) {
    encoding.writeVarString(encoder, key)
    encoding.writeVarString(encoder, value)
  }
}

/** Encodes a frame into a fresh array (a `data` frame copies its bytes). */
export function encodeBusFrame(frame: BusFrame): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeUint8(encoder, BUS_FRAME_VERSION)
  encoding.writeUint8(encoder, BusFrameType[frame.type])
  switch (frame.type) {
    case 'hello':
    case 'hello-back':
      writePeer(encoder, frame.peer)
      encoding.writeVarString(encoder, frame.incarnation)
      if (frame.type === 'hello') encoding.writeUint8(encoder, frame.ask ? 1 : 0)
      break
    case 'bye':
      encoding.writeVarString(encoder, frame.peerId)
      encoding.writeVarString(encoder, frame.incarnation)
      break
    case 'data':
      encoding.writeVarString(encoder, frame.from)
      encoding.writeVarUint8Array(encoder, frame.bytes)
  }
  return encoding.toUint8Array(encoder)
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Thrown inside the decoder for bytes that are not a frame; never escapes it. */
class NotAFrame {}

function readString(decoder: decoding.Decoder, maxChars: number, nonEmpty = false): string {
  const length = decoding.readVarUint(decoder)
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (!Number.isSafeInteger(length) || length > maxChars * 3 || length > decoder.arr.length - decoder.pos) throw new NotAFrame()
  const text = utf8.decode(decoding.readUint8Array(decoder, length))
  if (text.length > maxChars || (nonEmpty && text === '')) throw new NotAFrame()
  return text
}

function readPeer(decoder: decoding.Decoder): PeerInfo {
  const peerId = readString(decoder, HELLO_LIMITS.maxPeerIdChars, true)
  const count = decoding.readVarUint(decoder)
  if (count > HELLO_LIMITS.maxMetadataEntries) throw new NotAFrame()
  // A prototype-free object: a key like `__proto__` stays a plain entry.
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>
  for (let i = 0; i < count; i++) {
    const key = readString(decoder, HELLO_LIMITS.maxKeyChars)
    metadata[key] = readString(decoder, HELLO_LIMITS.maxValueChars)
  }
  return count === 0 ? Object.freeze({ peerId }) : Object.freeze({ peerId, metadata: Object.freeze({ ...metadata }) })
}

function readFrame(decoder: decoding.Decoder, type: number): BusFrame {
  switch (type) {
    case BusFrameType.hello: {
      const peer = readPeer(decoder)
      const incarnation = readString(decoder, MAX_INCARNATION_CHARS, true)
      const ask = decoding.readUint8(decoder)
      if (ask > 1) throw new NotAFrame()
      return { type: 'hello', peer, incarnation, ask: ask === 1 }
    }
    case BusFrameType['hello-back']:
      return { type: 'hello-back', peer: readPeer(decoder), incarnation: readString(decoder, MAX_INCARNATION_CHARS, true) }
    case BusFrameType.bye:
      return { type: 'bye', peerId: readString(decoder, HELLO_LIMITS.maxPeerIdChars, true), incarnation: readString(decoder, MAX_INCARNATION_CHARS, true) }
    case BusFrameType.data: {
      const from = readString(decoder, HELLO_LIMITS.maxPeerIdChars, true)
      // A fresh array the transport hands to its listeners and never touches again.
      return { type: 'data', from, bytes: decoding.readVarUint8Array(decoder).slice() }
    }
    default:
      throw new NotAFrame()
  }
}

/**
 * Decodes one frame; `undefined` for anything that is not exactly one well-formed frame of this
 * version (truncated, too long, not UTF-8, trailing bytes, another version or type).
 */
export function decodeBusFrame(bytes: Uint8Array): BusFrame | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2 || bytes[0] !== BUS_FRAME_VERSION) return undefined
  try {
    const decoder = decoding.createDecoder(bytes)
    decoder.pos = 2
    const frame = readFrame(decoder, bytes[1] as number)
    return decoding.hasContent(decoder) ? undefined : frame
  } catch {
    return undefined
  }
}
