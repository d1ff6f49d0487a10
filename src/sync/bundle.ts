/**
 * File bundles: a Space's signed envelopes in one file, for the offline hand-over between
 * districts that share no network. A bundle carries what a peer lacks (given its heads) or
 * everything; importing one passes every envelope through the document's ingress guard, exactly
 * as if it had arrived by sync, so a bundle is never trusted more than a peer.
 *
 * ```ts
 * const bytes = await exportBundle(north)              // every known shard and the manifest
 * const report = await importBundle(south, bytes)      // through each document's guard
 * console.log(report.totals.applied, report.totals.rejected)
 * console.log(inspectBundle(bytes).docs)               // no Space needed
 * ```
 *
 * A session that has a checkpoint travels as the checkpoint and the envelopes after it, unless
 * its envelopes alone cost fewer bytes (see `SignedDoc.envelopesAfter`).
 *
 * Format (lib0 encoding, version 1): the 8 magic bytes `CABUNDLE`; the format version (varuint);
 * the Space id, the creation time (ISO 8601) and the creator's `did:key` (empty when none), as
 * var strings; the number of documents, then for each its name and its envelopes (each a var
 * byte array, in the exporter's log order, which is causal); and last the 32-byte SHA-256 of
 * everything before it. The checksum catches damage in transit, not forgery: authenticity comes
 * from the envelopes' signatures, which the guards check one by one.
 * @module
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { digest } from 'lib0/hash/sha256'
import { toHex } from '../encoding/canonical'
import { CabildoError } from '../errors'
import type { GuardRejectionCode } from './ingress-guard'
import { MANIFEST_DOC } from './shard-set'
import type { SignedDoc } from './signed-doc'
import type { Space } from './space'
import { sessionKey, type WireHead } from './sync-protocol'

/** The format version this code writes and reads. */
export const BUNDLE_FORMAT_VERSION = 1

/** The first bytes of every bundle: `CABUNDLE` in ASCII. */
export const BUNDLE_MAGIC: Uint8Array = new TextEncoder().encode('CABUNDLE')

const CHECKSUM_BYTES = 32

/** Options of {@link exportBundle}. */
export interface ExportBundleOptions {
  /**
   * The receiving peer's heads, by document name: only envelopes beyond them are exported. A
   * document missing from the map is exported whole. Without `heads`, everything is exported.
   */
  readonly heads?: Readonly<Record<string, readonly WireHead[]>>
  /** Only these documents (shard names, or `_manifest`); default: the manifest and every known shard. */
  readonly shards?: readonly string[]
  /** The creation time written in the header (default: now). */
  readonly now?: () => Date
}

/** A bundle's header and contents, as {@link inspectBundle} reads them. */
export interface BundleInfo {
  /** The format version. */
  readonly formatVersion: number
  /** The id of the Space the envelopes were signed for. */
  readonly spaceId: string
  /** When the bundle was made (ISO 8601, as the exporter's clock said). */
  readonly createdAt: string
  /** The exporting replica's `did:key`, or `undefined` when it had no identity. */
  readonly createdBy: string | undefined
  /** The hex SHA-256 checksum ending the bundle. */
  readonly checksum: string
  /** Every document in the bundle, in bundle order. */
  readonly docs: ReadonlyArray<{ readonly name: string; readonly envelopes: number; readonly bytes: number }>
  /** Total number of envelopes. */
  readonly envelopes: number
}

/** A parsed bundle: its header and every document's envelopes. */
interface ParsedBundle {
  readonly info: BundleInfo
  readonly docs: ReadonlyArray<{ readonly name: string; readonly envelopes: readonly Uint8Array[] }>
}

/** What happened to one document's envelopes during {@link importBundle}. */
export interface BundleDocReport {
  /** The document's name. */
  readonly name: string
  /** Envelopes of the bundle applied (at once, or released later in the same import). */
  readonly applied: number
  /** Envelopes that waited from before this import (an earlier bundle or sync) and that it released. */
  readonly released: number
  /** Envelopes the document already held (or already waited on). */
  readonly duplicate: number
  /** Envelopes still waiting for a predecessor or a dependency the bundle did not carry. */
  readonly pending: number
  /** Envelopes the guard refused (they are in the document's quarantine), with their codes. */
  readonly rejected: ReadonlyArray<{ readonly hash: string | undefined; readonly code: GuardRejectionCode; readonly reason: string }>
  /** Set when the document could not be opened at all (e.g. an invalid shard name): nothing of it was imported. */
  readonly error?: { readonly code: string; readonly message: string }
}

/** The outcome of {@link importBundle}. */
export interface BundleImportReport {
  /** The bundle's header. */
  readonly info: BundleInfo
  /** One report per document, in bundle order. */
  readonly docs: readonly BundleDocReport[]
  /** Sums over every document (`rejected` counts envelopes). */
  readonly totals: { readonly applied: number; readonly released: number; readonly duplicate: number; readonly pending: number; readonly rejected: number }
}

function parseError(reason: string): CabildoError<'E_PARSE'> {
  return new CabildoError('E_PARSE', `Not a valid cabildo bundle: ${reason}`, { format: 'cabildo-bundle', reason })
}

/**
 * What a peer with `heads` lacks of `signed` (everything without heads), in log (causal) order:
 * per session, the cheapest mix of envelopes and checkpoints (see `SignedDoc.envelopesAfter`).
 */
function envelopesBeyond(signed: SignedDoc, heads: readonly WireHead[] | undefined): Uint8Array[] {
  const have = new Map<string, number>()
  for (const head of heads ?? []) have.set(sessionKey(head.author, head.session), head.seq)
  const keys = new Set(signed.log().map((entry) => entry.key))
  const chosen = [...keys].flatMap((key) => signed.envelopesAfter(key, have.get(key) ?? 0))
  return chosen.sort((a, b) => a.position - b.position).map((entry) => entry.bytes)
}

/**
 * Writes a bundle of a Space's envelopes: the manifest's and every known shard's (opening the
 * shards that are not open), or only `options.shards`; with `options.heads`, only what a peer
 * with those heads lacks. Flushes pending local signatures first, so every edit made so far is in.
 * @throws CabildoError `E_CLOSED` when the Space is closed; `E_ARGUMENT` for an invalid shard name.
 */
export async function exportBundle(space: Space, options: ExportBundleOptions = {}): Promise<Uint8Array> {
  await space.ready()
  const names = options.shards ?? [MANIFEST_DOC, ...space.shardNames()]
  const docs: Array<{ name: string; envelopes: Uint8Array[] }> = []
  for (const name of [...new Set(names)]) {
    await space.doc(name)
    const signed = space.signedDocs.get(name)
    if (signed === undefined) throw new CabildoError('E_CLOSED', `The document "${name}" closed while exporting`, { what: name })
    await signed.writer?.flush().catch(() => undefined) // a writer failure is reported through the Space's error event
    docs.push({ name, envelopes: envelopesBeyond(signed, options.heads?.[name]) })
  }
  return encodeBundle({
    spaceId: space.id,
    createdAt: (options.now ?? (() => new Date()))().toISOString(),
    ...(space.identity === undefined ? {} : { createdBy: space.identity.did }),
    docs,
  })
}

/** What {@link encodeBundle} writes. */
export interface BundleContents {
  /** The id of the Space the envelopes were signed for. */
  readonly spaceId: string
  /** When the bundle was made (ISO 8601). */
  readonly createdAt: string
  /** The exporting replica's `did:key`, if any. */
  readonly createdBy?: string
  /** Each document's name and envelopes (in an order the receiver can apply: causal). */
  readonly docs: ReadonlyArray<{ readonly name: string; readonly envelopes: readonly Uint8Array[] }>
}

/**
 * Encodes bundle bytes (the format of the module header) from envelopes as they are: nothing is
 * checked, so a bundle proves nothing about its envelopes; {@link importBundle} checks each one.
 */
export function encodeBundle(contents: BundleContents): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeUint8Array(encoder, BUNDLE_MAGIC)
  encoding.writeVarUint(encoder, BUNDLE_FORMAT_VERSION)
  encoding.writeVarString(encoder, contents.spaceId)
  encoding.writeVarString(encoder, contents.createdAt)
  encoding.writeVarString(encoder, contents.createdBy ?? '')
  encoding.writeVarUint(encoder, contents.docs.length)
  for (const doc of contents.docs) {
    encoding.writeVarString(encoder, doc.name)
    encoding.writeVarUint(encoder, doc.envelopes.length)
    for (const bytes of doc.envelopes) encoding.writeVarUint8Array(encoder, bytes)
  }
  const body = encoding.toUint8Array(encoder)
  const out = new Uint8Array(body.length + CHECKSUM_BYTES)
  out.set(body)
  out.set(digest(body), body.length)
  return out
}

function parseBundle(bytes: Uint8Array): ParsedBundle {
  if (!(bytes instanceof Uint8Array)) throw parseError('not a Uint8Array')
  if (bytes.length < BUNDLE_MAGIC.length || BUNDLE_MAGIC.some((byte, i) => bytes[i] !== byte)) throw parseError('bad magic bytes')
  if (bytes.length < BUNDLE_MAGIC.length + 1 + CHECKSUM_BYTES) throw parseError('truncated')
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES)
  const checksum = bytes.subarray(bytes.length - CHECKSUM_BYTES)
  // The version comes before the checksum check: a newer format may checksum differently.
  const decoder = decoding.createDecoder(body)
  decoding.readUint8Array(decoder, BUNDLE_MAGIC.length) // checked above
  let version: number
  try {
    version = decoding.readVarUint(decoder)
  } catch {
    throw parseError('truncated')
  }
  if (version !== BUNDLE_FORMAT_VERSION) throw parseError(`unsupported format version ${version}`)
  const expected = digest(body)
  if (expected.some((byte, i) => checksum[i] !== byte)) throw parseError('checksum mismatch (truncated or damaged)')
  try {
    const spaceId = decoding.readVarString(decoder)
    const createdAt = decoding.readVarString(decoder)
    const createdBy = decoding.readVarString(decoder)
    const docs: Array<{ name: string; envelopes: Uint8Array[] }> = []
    const seen = new Set<string>()
    for (let count = decoding.readVarUint(decoder); count > 0; count--) {
      const name = decoding.readVarString(decoder)
      if (seen.has(name)) throw parseError(`document "${name}" appears twice`)
      seen.add(name)
      const envelopes: Uint8Array[] = []
      for (let n = decoding.readVarUint(decoder); n > 0; n--) envelopes.push(decoding.readVarUint8Array(decoder).slice())
      docs.push({ name, envelopes })
    }
    if (decoding.hasContent(decoder)) throw parseError('trailing bytes before the checksum')
    const info: BundleInfo = {
      formatVersion: version,
      spaceId,
      createdAt,
      createdBy: createdBy === '' ? undefined : createdBy,
      checksum: toHex(checksum),
      docs: docs.map((doc) => ({ name: doc.name, envelopes: doc.envelopes.length, bytes: doc.envelopes.reduce((sum, e) => sum + e.length, 0) })),
      envelopes: docs.reduce((sum, doc) => sum + doc.envelopes.length, 0),
    }
    return { info, docs }
  } catch (error) {
    if (CabildoError.is(error)) throw error
    throw parseError(`truncated or malformed: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/**
 * Reads a bundle's header and per-document envelope counts, without a Space. It checks the
 * format and the checksum, not the envelopes' signatures (importing does).
 * @throws CabildoError `E_PARSE` (format `cabildo-bundle`) for bad magic bytes, an unknown format
 *   version, truncated bytes or a checksum mismatch.
 */
export function inspectBundle(bytes: Uint8Array): BundleInfo {
  return parseBundle(bytes).info
}

/**
 * Imports a bundle into a Space: every envelope goes through its document's ingress guard (never
 * straight into Yjs), so forged, re-signed or out-of-place envelopes are refused, quarantined and
 * reported, while the honest ones apply. Importing the same bundle again changes nothing (every
 * envelope is a duplicate). Documents the Space does not know yet are opened (created).
 * @throws CabildoError `E_PARSE` when the bytes are not a valid bundle (nothing is imported);
 *   `E_ARGUMENT` when the bundle belongs to another Space (nothing is imported); `E_CLOSED` when
 *   the Space is closed.
 */
export async function importBundle(space: Space, bytes: Uint8Array): Promise<BundleImportReport> {
  const bundle = parseBundle(bytes)
  if (bundle.info.spaceId !== space.id) {
    throw new CabildoError('E_ARGUMENT', `The bundle is for Space "${bundle.info.spaceId}", not "${space.id}"`, {
      argument: 'bytes',
      reason: `space id "${bundle.info.spaceId}" differs from "${space.id}"`,
    })
  }
  await space.ready()
  // One source per import: sync engines forward what it applied to their peers.
  const source = { peerId: `bundle:${bundle.info.checksum.slice(0, 16)}`, via: {} }
  // The manifest first: it names the shards.
  const ordered = [...bundle.docs].sort((a, b) => Number(b.name === MANIFEST_DOC) - Number(a.name === MANIFEST_DOC))
  const reports = new Map<string, BundleDocReport>()
  for (const doc of ordered) {
    let signed: SignedDoc | undefined
    try {
      await space.doc(doc.name)
      signed = space.signedDocs.get(doc.name)
    } catch (error) {
      if (!CabildoError.is(error) || error.code === 'E_CLOSED') throw error
      reports.set(doc.name, { name: doc.name, applied: 0, released: 0, duplicate: 0, pending: 0, rejected: [], error: { code: error.code, message: error.message } })
      continue
    }
    if (signed === undefined) throw new CabildoError('E_CLOSED', `The document "${doc.name}" closed while importing`, { what: doc.name })
    let applied = 0
    let released = 0
    let duplicate = 0
    const pending = new Set<string>()
    const rejected: Array<BundleDocReport['rejected'][number]> = []
    // Handed to the guard all at once (it takes them in order): a batch, as a sync message is.
    const outcomes = await Promise.all(doc.envelopes.map((envelope) => signed.receive(envelope, source)))
    for (const outcome of outcomes) {
      if (outcome.status === 'applied') {
        applied++
        for (const hash of outcome.released) if (pending.delete(hash)) applied++
        else released++
      } else if (outcome.status === 'duplicate') {
        duplicate++
      } else if (outcome.status === 'pending') {
        pending.add(outcome.hash)
      } else {
        rejected.push({ hash: outcome.hash, code: outcome.code, reason: outcome.reason })
      }
    }
    // Waiting envelopes released but then refused are in quarantine: count them as rejected.
    const refused = signed.guard.quarantine().filter((entry) => entry.hash !== undefined && pending.has(entry.hash))
    for (const entry of refused) {
      pending.delete(entry.hash as string)
      rejected.push({ hash: entry.hash, code: entry.code, reason: entry.reason })
    }
    // Waiting envelopes applied together with others (checkpoints that needed each other) without an outcome saying so.
    for (const hash of pending) {
      if (signed.guard.isPending(hash)) continue
      pending.delete(hash)
      applied++
    }
    reports.set(doc.name, { name: doc.name, applied, released, duplicate, pending: pending.size, rejected })
  }
  const docs = bundle.docs.map((doc) => reports.get(doc.name) as BundleDocReport)
  const totals = {
    applied: docs.reduce((sum, doc) => sum + doc.applied, 0),
    released: docs.reduce((sum, doc) => sum + doc.released, 0),
    duplicate: docs.reduce((sum, doc) => sum + doc.duplicate, 0),
    pending: docs.reduce((sum, doc) => sum + doc.pending, 0),
    rejected: docs.reduce((sum, doc) => sum + doc.rejected.length, 0),
  }
  return { info: bundle.info, docs, totals }
}
