/**
 * Checks a y-protocols awareness update from a peer before anything applies it. Awareness
 * (presence: who is here, where their cursor is) is ephemeral and unsigned, but its bytes are
 * still untrusted input: `applyAwarenessUpdate` would throw half-way through a truncated update
 * (after applying its first entries) and hold whatever size of state a peer sends.
 *
 * ```ts
 * import { checkAwarenessUpdate } from 'cabildo'
 * const checked = checkAwarenessUpdate(new Uint8Array([1, 7, 1, 2, 123, 125]))
 * if (checked.ok) console.log(checked.entries) // [{ client: 7, clock: 1, state: {} }]
 * ```
 * @module
 */
import * as decoding from 'lib0/decoding'

/** Limits on one awareness update. */
export interface AwarenessLimits {
  /** Largest update, in bytes. Default 64 KiB. */
  readonly maxBytes: number
  /** Most client states in one update. Default 256. */
  readonly maxEntries: number
  /** Longest JSON state of one client, in characters. Default 16,384. */
  readonly maxStateChars: number
}

/** Default {@link AwarenessLimits}. */
export const defaultAwarenessLimits: AwarenessLimits = { maxBytes: 64 * 1024, maxEntries: 256, maxStateChars: 16 * 1024 }

/** One client's state in an awareness update. */
export interface AwarenessEntry {
  /** The Yjs client id the state is about. */
  readonly client: number
  /** The state's clock: a higher clock replaces a lower one. */
  readonly clock: number
  /** The state (a JSON object), or `null` when the client left. */
  readonly state: Record<string, unknown> | null
}

/** The outcome of {@link checkAwarenessUpdate}. */
export type AwarenessCheck =
  | { readonly ok: true; readonly entries: readonly AwarenessEntry[] }
  | { readonly ok: false; readonly reason: string }

const utf8 = new TextDecoder('utf-8', { fatal: true })

function readUint(decoder: decoding.Decoder, what: string): number {
  if (!decoding.hasContent(decoder)) throw new Error(`${what}: truncated`)
  const n = decoding.readVarUint(decoder)
  if (!Number.isSafeInteger(n)) throw new Error(`${what}: out of range`)
  return n
}

/**
 * Decodes an awareness update completely and checks it against `limits`. Never throws. An update
 * that passes can be given to `applyAwarenessUpdate` without it failing half-way.
 */
export function checkAwarenessUpdate(bytes: Uint8Array, limits: AwarenessLimits = defaultAwarenessLimits): AwarenessCheck {
  if (!(bytes instanceof Uint8Array)) return { ok: false, reason: 'not a Uint8Array' }
  if (bytes.byteLength > limits.maxBytes) return { ok: false, reason: `${bytes.byteLength} bytes exceed ${limits.maxBytes}` }
  try {
    const decoder = decoding.createDecoder(bytes)
    const count = readUint(decoder, 'count')
    if (count > limits.maxEntries) return { ok: false, reason: `${count} states exceed ${limits.maxEntries}` }
    const entries: AwarenessEntry[] = []
    for (let i = 0; i < count; i++) {
      const client = readUint(decoder, 'client')
      const clock = readUint(decoder, 'clock')
      const length = readUint(decoder, 'state length')
      if (length > limits.maxStateChars * 3) return { ok: false, reason: 'state too long' }
      if (length > decoder.arr.length - decoder.pos) return { ok: false, reason: 'state: truncated' }
      const text = utf8.decode(decoding.readUint8Array(decoder, length))
      if (text.length > limits.maxStateChars) return { ok: false, reason: 'state too long' }
      const state: unknown = JSON.parse(text)
      if (state !== null && (typeof state !== 'object' || Array.isArray(state))) return { ok: false, reason: 'state must be an object or null' }
      entries.push({ client, clock, state: state as Record<string, unknown> | null })
    }
    if (decoding.hasContent(decoder)) return { ok: false, reason: 'trailing bytes' }
    return { ok: true, entries }
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) }
  }
}
