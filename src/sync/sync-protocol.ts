/**
 * The sync engine's wire protocol: five small binary messages (lib0 encoding), each one starting
 * with a protocol version and a type, multiplexing every document of a Space over one pipe.
 *
 * | type | body |
 * | --- | --- |
 * | `hello` (0) | space id; flags (bit 0: "answer with your hello") |
 * | `heads` (1) | doc; flags (bit 0: "answer with your heads"); an author table; per session: author index, 16-byte session, seq, 32-byte hash |
 * | `want` (2) | doc; per session: author, 16-byte session, `after` (send every envelope with a greater seq) |
 * | `envelopes` (3) | doc; the envelopes' canonical bytes |
 * | `awareness` (4) | doc; a y-protocols awareness update (presence: ephemeral, unsigned) |
 *
 * ```ts
 * const bytes = encodeSyncMessage({ type: 'hello', space: 'city', ask: false })
 * const decoded = decodeSyncMessage(bytes)
 * if (decoded.ok) console.log(decoded.message.type) // 'hello'
 * ```
 *
 * Decoding never throws: every length is checked against the bytes left, strings must be valid
 * UTF-8, counts are bounded, trailing bytes are refused. A peer's bytes are untrusted input.
 * @module
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { fromHexString } from 'lib0/buffer'
import { toHex } from '../encoding/canonical'
import { SESSION_BYTES } from './envelope-codec'

/** The protocol version this code writes and reads (the first varuint of every message). */
export const SYNC_PROTOCOL_VERSION = 1

/** Message type numbers on the wire. */
export const SyncMessageType = { hello: 0, heads: 1, want: 2, envelopes: 3, awareness: 4 } as const

/** One of {@link SyncMessageType}'s keys. */
export type SyncMessageKind = keyof typeof SyncMessageType

/** The latest envelope a peer holds of one author session, as carried by `heads`. */
export interface WireHead {
  /** The author's `did:key`. */
  readonly author: string
  /** The 16-byte session nonce, hex. */
  readonly session: string
  /** The session's sequence number (≥ 1). */
  readonly seq: number
  /** The hex SHA-256 of that envelope's body. */
  readonly hash: string
}

/** A request for the envelopes of one session after a sequence number. */
export interface WireWant {
  /** The author's `did:key`. */
  readonly author: string
  /** The 16-byte session nonce, hex. */
  readonly session: string
  /** Send every envelope of the session whose seq is greater than this (0: all). */
  readonly after: number
}

/** The messages of the protocol. */
export type SyncMessage =
  | {
      /** I am a peer of Space `space`; peers of other Spaces are ignored. */
      readonly type: 'hello'
      readonly space: string
      /** Answer with your own hello (mine was sent because yours never arrived). */
      readonly ask: boolean
    }
  | {
      /** Some of my heads of one document (a long list is split across messages). */
      readonly type: 'heads'
      readonly doc: string
      /** Answer with your heads of this document, so that I can ask for what I lack. */
      readonly reply: boolean
      readonly heads: readonly WireHead[]
    }
  | { readonly type: 'want'; readonly doc: string; readonly wants: readonly WireWant[] }
  | { readonly type: 'envelopes'; readonly doc: string; readonly envelopes: readonly Uint8Array[] }
  | {
      /** Presence of one document: a y-protocols awareness update, checked by `decodeAwarenessUpdate` before use. */
      readonly type: 'awareness'
      readonly doc: string
      readonly update: Uint8Array
    }

/** The key of a session in the sync layer's indexes: `<author> <session hex>`. */
export function sessionKey(author: string, session: string): string {
  return `${author} ${session}`
}

/** Limits of {@link decodeSyncMessage}. */
export interface SyncDecodeLimits {
  /** Most entries (heads, wants, envelopes, authors) in one message. */
  readonly maxEntries: number
}

/** Default decode limits: 100,000 entries per message. */
export const defaultSyncDecodeLimits: SyncDecodeLimits = { maxEntries: 100_000 }

/** Why bytes are not a message: `unsupported` for another protocol version, `malformed` otherwise. */
export type SyncDecodeFailure = { readonly ok: false; readonly kind: 'unsupported' | 'malformed'; readonly reason: string }

const MAX_DOC_CHARS = 300
const MAX_AUTHOR_CHARS = 200
const MAX_SPACE_CHARS = 300
const HASH_BYTES = 32

/** The bytes of a message. */
export function encodeSyncMessage(message: SyncMessage): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, SYNC_PROTOCOL_VERSION)
  encoding.writeVarUint(encoder, SyncMessageType[message.type])
  switch (message.type) {
    case 'hello':
      encoding.writeVarString(encoder, message.space)
      encoding.writeVarUint(encoder, message.ask ? 1 : 0)
      break
    case 'heads': {
      encoding.writeVarString(encoder, message.doc)
      encoding.writeVarUint(encoder, message.reply ? 1 : 0)
      const authors = [...new Set(message.heads.map((h) => h.author))]
      const index = new Map(authors.map((a, i) => [a, i]))
      encoding.writeVarUint(encoder, authors.length)
      for (const author of authors) encoding.writeVarString(encoder, author)
      encoding.writeVarUint(encoder, message.heads.length)
      for (const head of message.heads) {
        encoding.writeVarUint(encoder, index.get(head.author) as number)
        encoding.writeUint8Array(encoder, fromHexString(head.session))
        encoding.writeVarUint(encoder, head.seq)
        encoding.writeUint8Array(encoder, fromHexString(head.hash))
      }
      break
    }
    case 'want':
      encoding.writeVarString(encoder, message.doc)
      encoding.writeVarUint(encoder, message.wants.length)
      for (const want of message.wants) {
        encoding.writeVarString(encoder, want.author)
        encoding.writeUint8Array(encoder, fromHexString(want.session))
        encoding.writeVarUint(encoder, want.after)
      }
      break
    case 'envelopes':
      encoding.writeVarString(encoder, message.doc)
      encoding.writeVarUint(encoder, message.envelopes.length)
      for (const envelope of message.envelopes) encoding.writeVarUint8Array(encoder, envelope)
      break
    case 'awareness':
      encoding.writeVarString(encoder, message.doc)
      encoding.writeVarUint8Array(encoder, message.update)
      break
  }
  return encoding.toUint8Array(encoder)
}

/** A malformed input, thrown inside the decoder and turned into a {@link SyncDecodeFailure}. */
class Malformed {
  constructor(readonly reason: string) {}
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** A cursor over untrusted bytes whose every read is bounded. */
class Reader {
  readonly #decoder: decoding.Decoder
  constructor(bytes: Uint8Array) {
    this.#decoder = decoding.createDecoder(bytes)
  }

  get done(): boolean {
    return !decoding.hasContent(this.#decoder)
  }

  uint(what: string): number {
    let n: number
    try {
      n = decoding.readVarUint(this.#decoder)
    } catch {
      throw new Malformed(`${what}: not a varuint`)
    }
    if (!Number.isSafeInteger(n)) throw new Malformed(`${what}: out of range`)
    return n
  }

  count(what: string, limit: number): number {
    const n = this.uint(what)
    if (n > limit) throw new Malformed(`${what}: ${n} entries exceed ${limit}`)
    // Every entry takes at least one byte: a count beyond the bytes left is a lie.
    if (n > this.#decoder.arr.length - this.#decoder.pos) throw new Malformed(`${what}: ${n} entries in fewer bytes`)
    return n
  }

  bytes(what: string, length: number): Uint8Array {
    if (length > this.#decoder.arr.length - this.#decoder.pos) throw new Malformed(`${what}: truncated`)
    return decoding.readUint8Array(this.#decoder, length).slice()
  }

  varBytes(what: string): Uint8Array {
    return this.bytes(what, this.uint(`${what} length`))
  }

  string(what: string, maxChars: number): string {
    const length = this.uint(`${what} length`)
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (length > maxChars * 3) throw new Malformed(`${what}: too long`)
    let text: string
    try {
      text = utf8.decode(this.bytes(what, length))
    } catch (error) {
      if (error instanceof Malformed) throw error
      throw new Malformed(`${what}: not UTF-8`)
    }
    if (text.length > maxChars) throw new Malformed(`${what}: too long`)
    return text
  }

  doc(): string {
    const doc = this.string('doc', MAX_DOC_CHARS)
    if (doc.length === 0) throw new Malformed('doc: empty')
    return doc
  }

  author(): string {
    const author = this.string('author', MAX_AUTHOR_CHARS)
    if (!author.startsWith('did:key:')) throw new Malformed('author: not a did:key')
    return author
  }

  flag(what: string): boolean {
    const value = this.uint(what)
    if (value > 1) throw new Malformed(`${what}: unknown flags ${value}`)
    return value === 1
  }
}

/**
 * Decodes a message. Never throws: bytes of another protocol version give `unsupported`,
 * anything else that is not exactly one well-formed message gives `malformed`.
 */
export function decodeSyncMessage(
  bytes: Uint8Array,
  limits: SyncDecodeLimits = defaultSyncDecodeLimits,
): { readonly ok: true; readonly message: SyncMessage } | SyncDecodeFailure {
  if (!(bytes instanceof Uint8Array)) return { ok: false, kind: 'malformed', reason: 'not a Uint8Array' }
  try {
    const reader = new Reader(bytes)
    const version = reader.uint('version')
    if (version !== SYNC_PROTOCOL_VERSION) return { ok: false, kind: 'unsupported', reason: `protocol version ${version}` }
    const message = readBody(reader, reader.uint('type'), limits)
    if (!reader.done) throw new Malformed('trailing bytes')
    return { ok: true, message }
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, kind: 'malformed', reason: error.reason }
    return { ok: false, kind: 'malformed', reason: `undecodable: ${error instanceof Error ? error.message : String(error)}` }
  }
}

function readBody(reader: Reader, type: number, limits: SyncDecodeLimits): SyncMessage {
  switch (type) {
    case SyncMessageType.hello: {
      const space = reader.string('space', MAX_SPACE_CHARS)
      if (space.length === 0) throw new Malformed('space: empty')
      return { type: 'hello', space, ask: reader.flag('hello flags') }
    }
    case SyncMessageType.heads: {
      const doc = reader.doc()
      const reply = reader.flag('heads flags')
      const authors: string[] = []
      for (let i = reader.count('authors', limits.maxEntries); i > 0; i--) authors.push(reader.author())
      const heads: WireHead[] = []
      for (let i = reader.count('heads', limits.maxEntries); i > 0; i--) {
        const author = authors[reader.uint('author index')]
        if (author === undefined) throw new Malformed('author index: out of range')
        const session = toHex(reader.bytes('session', SESSION_BYTES))
        const seq = reader.uint('seq')
        if (seq < 1) throw new Malformed('seq: must be at least 1')
        heads.push({ author, session, seq, hash: toHex(reader.bytes('hash', HASH_BYTES)) })
      }
      return { type: 'heads', doc, reply, heads }
    }
    case SyncMessageType.want: {
      const doc = reader.doc()
      const wants: WireWant[] = []
      for (let i = reader.count('wants', limits.maxEntries); i > 0; i--) {
        wants.push({ author: reader.author(), session: toHex(reader.bytes('session', SESSION_BYTES)), after: reader.uint('after') })
      }
      return { type: 'want', doc, wants }
    }
    case SyncMessageType.envelopes: {
      const doc = reader.doc()
      const envelopes: Uint8Array[] = []
      for (let i = reader.count('envelopes', limits.maxEntries); i > 0; i--) envelopes.push(reader.varBytes('envelope'))
      return { type: 'envelopes', doc, envelopes }
    }
    case SyncMessageType.awareness: {
      const doc = reader.doc()
      return { type: 'awareness', doc, update: reader.varBytes('awareness update') }
    }
    default:
      throw new Malformed(`unknown message type ${type}`)
  }
}
