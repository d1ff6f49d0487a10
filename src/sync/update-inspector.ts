/**
 * Reads a Yjs V1 update completely, with bounds, without applying it: what it writes (per client,
 * which clock range), what it depends on, what it deletes. The ingress guard decides from this
 * summary, so a document never sees bytes that were not fully understood first.
 *
 * Only V1 is read: V2's run-length decoders trust declared counts (a 25-byte V2 update can
 * declare tens of millions of structs), while every V1 count is consumed byte by byte, so a
 * false count runs out of input instead of memory.
 * @module
 */
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'

/** A Yjs id: the client that wrote a struct and its clock. */
export interface StructId {
  readonly client: number
  readonly clock: number
}

/** One struct of an update. */
export interface InspectedStruct {
  readonly client: number
  readonly clock: number
  /** How many clock units the struct covers. */
  readonly length: number
  /** `item`: content; `gc`: a tombstone of deleted content; `skip`: a gap in the update. */
  readonly kind: 'item' | 'gc' | 'skip'
  /** Ids this struct needs to exist before it can be integrated (origin, right origin, parent). */
  readonly deps: readonly StructId[]
  /** The item originally to its left, if any. */
  readonly origin: StructId | undefined
  /** The parent type's item, when the parent is not a root type and is given explicitly. */
  readonly parentId: StructId | undefined
  /** The root type's name when the struct sits directly in a root type. */
  readonly rootKey: string | undefined
  /** The map key, when the struct is a map entry. */
  readonly parentSub: string | undefined
  /** What an item holds; `undefined` for `gc` and `skip`. */
  readonly content: ContentKind | undefined
  /** The values of an `any` item (plain JSON-like data), for rules that compare them. */
  readonly values: readonly unknown[] | undefined
}

/** The kinds of Yjs item content. `doc` (a subdocument) is the one civic documents never need. */
export type ContentKind = 'any' | 'binary' | 'deleted' | 'doc' | 'embed' | 'format' | 'json' | 'string' | 'type'

// Checked with instanceof rather than constructor names, which bundlers may rename.
const contentKinds: ReadonlyArray<readonly [abstract new (...args: never[]) => unknown, ContentKind]> = [
  [Y.ContentAny, 'any'],
  [Y.ContentBinary, 'binary'],
  [Y.ContentDeleted, 'deleted'],
  [Y.ContentDoc, 'doc'],
  [Y.ContentEmbed, 'embed'],
  [Y.ContentFormat, 'format'],
  [Y.ContentJSON, 'json'],
  [Y.ContentString, 'string'],
  [Y.ContentType, 'type'],
]

function contentKindOf(content: unknown): ContentKind | undefined {
  for (const [type, kind] of contentKinds) if (content instanceof type) return kind
  return undefined
}

/** A deleted clock range. */
export interface DeleteRange {
  readonly client: number
  readonly clock: number
  readonly length: number
}

/** The complete reading of an update. */
export interface InspectedUpdate {
  readonly byteLength: number
  readonly structs: readonly InspectedStruct[]
  /** Per client: the clock range `[start, end)` the update writes. */
  readonly ranges: ReadonlyMap<number, { readonly start: number; readonly end: number }>
  readonly deletes: readonly DeleteRange[]
}

/** Limits on what one update may contain. */
export interface InspectLimits {
  /** Largest update in bytes. */
  readonly maxBytes: number
  /** Most structs in one update. */
  readonly maxStructs: number
  /** Most delete ranges in one update. */
  readonly maxDeleteRanges: number
  /** Largest clock range one struct may claim (guards against a forged "already seen" range). */
  readonly maxStructLength: number
}

/** Limits that fit civic editing: 8 MiB, 200k structs, 200k delete ranges, 8M clock units per struct. */
export const defaultInspectLimits: InspectLimits = {
  maxBytes: 8 * 1024 * 1024,
  maxStructs: 200_000,
  maxDeleteRanges: 200_000,
  maxStructLength: 8 * 1024 * 1024,
}

/** Why an update could not be inspected. */
export type InspectFailure =
  | { readonly ok: false; readonly code: 'E_UPDATE_TOO_LARGE'; readonly size: number; readonly limit: number }
  | { readonly ok: false; readonly code: 'E_UPDATE_MALFORMED'; readonly reason: string }

function idOf(value: unknown): StructId | undefined {
  if (value instanceof Y.ID) return { client: value.client, clock: value.clock }
  return undefined
}

/**
 * Reads a V1 update fully. Never throws: malformed bytes give `E_UPDATE_MALFORMED`, oversized
 * ones `E_UPDATE_TOO_LARGE`.
 */
export function inspectUpdate(
  bytes: Uint8Array,
  limits: InspectLimits = defaultInspectLimits,
): { readonly ok: true; readonly update: InspectedUpdate } | InspectFailure {
  return readUpdate(bytes, limits, true) as { readonly ok: true; readonly update: InspectedUpdate } | InspectFailure
}

/**
 * The checks of {@link inspectUpdate} without its summary: the same answer for every input
 * (`ok`, or the same failure), without building a record per struct, for callers that only
 * need to know the update is sound before applying it. Never throws.
 *
 * ```ts
 * const checked = checkUpdate(bytes, { ...defaultInspectLimits, maxStructs: 2_000_000 })
 * if (!checked.ok) console.warn(checked.code)
 * ```
 */
export function checkUpdate(bytes: Uint8Array, limits: InspectLimits = defaultInspectLimits): { readonly ok: true } | InspectFailure {
  return readUpdate(bytes, limits, false)
}

function readUpdate(
  bytes: Uint8Array,
  limits: InspectLimits,
  summarize: boolean,
): { readonly ok: true; readonly update?: InspectedUpdate } | InspectFailure {
  if (!(bytes instanceof Uint8Array)) return { ok: false, code: 'E_UPDATE_MALFORMED', reason: 'not a Uint8Array' }
  if (bytes.byteLength > limits.maxBytes) return { ok: false, code: 'E_UPDATE_TOO_LARGE', size: bytes.byteLength, limit: limits.maxBytes }
  let decoded: { structs: Array<Y.Item | Y.GC | Y.Skip>; ds: { clients: Map<number, Array<{ clock: number; len: number }>> } }
  try {
    // Yjs's own V1 reader, watched so that bytes it leaves unread are seen: `decodeUpdate` stops
    // after the delete set and ignores the rest (e.g. a V2 update read as V1 looks empty).
    const reader: { decoder?: Y.UpdateDecoderV1 } = {}
    class WatchedDecoder extends Y.UpdateDecoderV1 {
      constructor(decoder: decoding.Decoder) {
        super(decoder)
        reader.decoder = this
      }
    }
    decoded = Y.decodeUpdateV2(bytes, WatchedDecoder) as typeof decoded
    const rest = reader.decoder?.restDecoder
    if (rest === undefined || decoding.hasContent(rest)) {
      return { ok: false, code: 'E_UPDATE_MALFORMED', reason: `${rest === undefined ? 'unread' : rest.arr.length - rest.pos} bytes after the update` }
    }
  } catch (error) {
    return { ok: false, code: 'E_UPDATE_MALFORMED', reason: `undecodable: ${error instanceof Error ? error.message : String(error)}` }
  }
  if (decoded.structs.length > limits.maxStructs) {
    return { ok: false, code: 'E_UPDATE_MALFORMED', reason: `${decoded.structs.length} structs exceed the limit of ${limits.maxStructs}` }
  }
  const structs: InspectedStruct[] = []
  const ranges = new Map<number, { start: number; end: number }>()
  for (const struct of decoded.structs) {
    const { client, clock } = struct.id
    const length = struct.length
    if (!Number.isSafeInteger(client) || !Number.isSafeInteger(clock) || !Number.isSafeInteger(length) || length < 1) {
      return { ok: false, code: 'E_UPDATE_MALFORMED', reason: `struct ${client}:${clock} has an invalid id or length` }
    }
    if (length > limits.maxStructLength) {
      return { ok: false, code: 'E_UPDATE_MALFORMED', reason: `struct ${client}:${clock} claims ${length} clock units (limit ${limits.maxStructLength})` }
    }
    const range = ranges.get(client)
    if (!range) ranges.set(client, { start: clock, end: clock + length })
    else if (range.end !== clock) {
      return { ok: false, code: 'E_UPDATE_MALFORMED', reason: `client ${client} structs are not contiguous at clock ${clock}` }
    } else range.end = clock + length
    if (struct instanceof Y.Item) {
      const deps: StructId[] | undefined = summarize ? [] : undefined
      for (const ref of [struct.origin, struct.rightOrigin, struct.parent]) {
        if (!(ref instanceof Y.ID)) continue
        // A struct can only refer to what existed when it was written: of its own client, only
        // earlier clocks. Yjs throws half-way through integrating a struct that refers to itself
        // or to a later one, after part of the update has changed the document.
        if (ref.client === client && ref.clock >= clock) {
          return { ok: false, code: 'E_UPDATE_MALFORMED', reason: `struct ${client}:${clock} refers to ${ref.client}:${ref.clock}, not written before it` }
        }
        deps?.push({ client: ref.client, clock: ref.clock })
      }
      if (deps === undefined) continue
      const content = contentKindOf(struct.content)
      structs.push({
        client,
        clock,
        length,
        kind: 'item',
        deps,
        origin: idOf(struct.origin),
        parentId: idOf(struct.parent),
        rootKey: typeof struct.parent === 'string' ? struct.parent : undefined,
        parentSub: struct.parentSub ?? undefined,
        content,
        values: content === 'any' ? (struct.content as Y.ContentAny).arr : undefined,
      })
    } else if (summarize) {
      const kind = struct instanceof Y.Skip ? 'skip' : 'gc'
      structs.push({ client, clock, length, kind, deps: [], origin: undefined, parentId: undefined, rootKey: undefined, parentSub: undefined, content: undefined, values: undefined })
    }
  }
  const deletes: DeleteRange[] = []
  let deleteCount = 0
  for (const [client, items] of decoded.ds.clients) {
    for (const item of items) {
      if (!Number.isSafeInteger(item.clock) || !Number.isSafeInteger(item.len) || item.len < 1) {
        return { ok: false, code: 'E_UPDATE_MALFORMED', reason: `delete range ${client}:${item.clock} is invalid` }
      }
      deleteCount++
      if (summarize) deletes.push({ client, clock: item.clock, length: item.len })
      if (deleteCount > limits.maxDeleteRanges) {
        return { ok: false, code: 'E_UPDATE_MALFORMED', reason: `more than ${limits.maxDeleteRanges} delete ranges` }
      }
    }
  }
  return summarize ? { ok: true, update: { byteLength: bytes.byteLength, structs, ranges, deletes } } : { ok: true }
}
