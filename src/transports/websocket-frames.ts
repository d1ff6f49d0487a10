/**
 * The frames of cabildo's WebSocket protocol (subprotocol `cabildo.v1`), shared by the browser
 * client and the Node server: one binary WebSocket message is one frame.
 *
 * | frame | bytes |
 * | --- | --- |
 * | `hello` | version (1), type 0, peer id (varstring), metadata count (varuint), then key, value (varstrings), then the largest message the sender accepts (varuint; 0: no limit) |
 * | `data` | version (1), type 1, the message's bytes as they are (no length: the WebSocket message delimits it) |
 *
 * ```ts
 * const hello = encodeHelloFrame({ peerId: 'north', metadata: { app: 'tickets' } }, 16 * 1024 * 1024)
 * const decoded = decodeFrame(hello)
 * if (decoded.ok && decoded.frame.type === 'hello') console.log(decoded.frame.peer.peerId) // 'north'
 * ```
 *
 * Each end sends its `hello` first; a peer is announced once the other end's `hello` arrived.
 * Decoding never throws: frames from the other end are untrusted.
 * @module
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { PeerInfo } from './transport'

/** The WebSocket subprotocol of cabildo's protocol. A relay routes on it. */
export const WEBSOCKET_SUBPROTOCOL = 'cabildo.v1'

/** The frame format version: the first byte of every frame. */
export const FRAME_VERSION = 1

/** Frame type numbers (the second byte). */
export const FrameType = { hello: 0, data: 1 } as const

/** Bytes a `data` frame adds to its message. */
export const DATA_FRAME_OVERHEAD = 2

/** Bounds of a `hello` frame: what a peer may claim about itself. */
export const HELLO_LIMITS = { maxPeerIdChars: 256, maxMetadataEntries: 64, maxKeyChars: 128, maxValueChars: 1024 } as const

/**
 * A decoded frame. A `hello` says who the sender is and the largest message it accepts
 * (`undefined`: no limit); `bytes` of a `data` frame is a view into the frame.
 */
export type Frame =
  | { readonly type: 'hello'; readonly peer: PeerInfo; readonly maxMessageBytes: number | undefined }
  | { readonly type: 'data'; readonly bytes: Uint8Array }

/** Why bytes are not a frame. */
export const FrameRefusal = {
  /** Not a binary message, or too short to hold a header. */
  malformed: 'malformed',
  /** Another frame format version. */
  version: 'version',
  /** An unknown frame type. */
  type: 'type',
  /** A `hello` that is truncated, too long, not UTF-8, or followed by trailing bytes. */
  hello: 'hello',
} as const

/** One of {@link FrameRefusal}'s values. */
export type FrameRefusal = (typeof FrameRefusal)[keyof typeof FrameRefusal]

/** The result of {@link decodeFrame}. */
export type FrameDecoding = { readonly ok: true; readonly frame: Frame } | { readonly ok: false; readonly refusal: FrameRefusal; readonly reason: string }

/** The `hello` frame announcing `peer`, which accepts messages up to `maxMessageBytes` (omitted: no limit). */
export function encodeHelloFrame(peer: PeerInfo, maxMessageBytes?: number): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeUint8(encoder, FRAME_VERSION)
  encoding.writeUint8(encoder, FrameType.hello)
  encoding.writeVarString(encoder, peer.peerId)
  const entries = Object.entries(peer.metadata ?? {})
  encoding.writeVarUint(encoder, entries.length)
  for (const [key, value] of entries) {
    encoding.writeVarString(encoder, key)
    encoding.writeVarString(encoder, value)
  }
  encoding.writeVarUint(encoder, maxMessageBytes ?? 0)
  return encoding.toUint8Array(encoder)
}

/** The `data` frame carrying `bytes` (a fresh array: later changes to `bytes` are not in it). */
export function encodeDataFrame(bytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(DATA_FRAME_OVERHEAD + bytes.length)
  frame[0] = FRAME_VERSION
  frame[1] = FrameType.data
  frame.set(bytes, DATA_FRAME_OVERHEAD)
  return frame
}

/** Whether a `hello` fits {@link HELLO_LIMITS} (checked before sending one, so the other end accepts it). */
export function helloFits(peer: PeerInfo): boolean {
  const entries = Object.entries(peer.metadata ?? {})
  return (
    peer.peerId.length <= HELLO_LIMITS.maxPeerIdChars &&
    entries.length <= HELLO_LIMITS.maxMetadataEntries &&
    entries.every(([key, value]) => typeof value === 'string' && key.length <= HELLO_LIMITS.maxKeyChars && value.length <= HELLO_LIMITS.maxValueChars)
  )
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** A refusal thrown inside the hello decoder. */
class BadHello {
  constructor(readonly reason: string) {}
}

function readString(decoder: decoding.Decoder, what: string, maxChars: number): string {
  let length: number
  try {
    length = decoding.readVarUint(decoder)
  } catch {
    throw new BadHello(`${what}: truncated`)
  }
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (!Number.isSafeInteger(length) || length > maxChars * 3) throw new BadHello(`${what}: too long`)
  if (length > decoder.arr.length - decoder.pos) throw new BadHello(`${what}: truncated`)
  let text: string
  try {
    text = utf8.decode(decoding.readUint8Array(decoder, length))
  } catch {
    throw new BadHello(`${what}: not UTF-8`)
  }
  if (text.length > maxChars) throw new BadHello(`${what}: too long`)
  return text
}

function readHello(bytes: Uint8Array): { peer: PeerInfo; maxMessageBytes: number | undefined } {
  const decoder = decoding.createDecoder(bytes.subarray(DATA_FRAME_OVERHEAD))
  const peerId = readString(decoder, 'peer id', HELLO_LIMITS.maxPeerIdChars)
  if (peerId === '') throw new BadHello('peer id: empty')
  let count: number
  try {
    count = decoding.readVarUint(decoder)
  } catch {
    throw new BadHello('metadata count: truncated')
  }
  if (count > HELLO_LIMITS.maxMetadataEntries) throw new BadHello(`metadata: ${count} entries exceed ${HELLO_LIMITS.maxMetadataEntries}`)
  // A prototype-free object: a key like `__proto__` stays a plain entry.
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>
  for (let i = 0; i < count; i++) {
    const key = readString(decoder, 'metadata key', HELLO_LIMITS.maxKeyChars)
    metadata[key] = readString(decoder, 'metadata value', HELLO_LIMITS.maxValueChars)
  }
  let limit: number
  try {
    limit = decoding.readVarUint(decoder)
  } catch {
    throw new BadHello('message limit: truncated')
  }
  if (!Number.isSafeInteger(limit)) throw new BadHello('message limit: out of range')
  if (decoding.hasContent(decoder)) throw new BadHello('trailing bytes')
  const peer = count === 0 ? Object.freeze({ peerId }) : Object.freeze({ peerId, metadata: Object.freeze({ ...metadata }) })
  return { peer, maxMessageBytes: limit === 0 ? undefined : limit }
}

/** Decodes one frame. Never throws: anything that is not exactly one well-formed frame is refused with a reason. */
export function decodeFrame(bytes: Uint8Array): FrameDecoding {
  if (!(bytes instanceof Uint8Array) || bytes.length < DATA_FRAME_OVERHEAD) return { ok: false, refusal: FrameRefusal.malformed, reason: 'shorter than a frame header' }
  if (bytes[0] !== FRAME_VERSION) return { ok: false, refusal: FrameRefusal.version, reason: `frame version ${bytes[0]}` }
  if (bytes[1] === FrameType.data) return { ok: true, frame: { type: 'data', bytes: bytes.subarray(DATA_FRAME_OVERHEAD) } }
  if (bytes[1] !== FrameType.hello) return { ok: false, refusal: FrameRefusal.type, reason: `unknown frame type ${bytes[1]}` }
  try {
    return { ok: true, frame: { type: 'hello', ...readHello(bytes) } }
  } catch (error) {
    return { ok: false, refusal: FrameRefusal.hello, reason: error instanceof BadHello ? error.reason : 'undecodable hello' }
  }
}
