/**
 * Record verification with bounded caches: a {@link Verifier} remembers the outcome of the
 * records it checked (by hash, with the signature checked) and what it learnt of each author key,
 * so re-reading a document does not re-run Ed25519. Entry point for users: `signed-record.ts`.
 *
 * Per record, the work before any signature check is kept small, because a replica re-reads
 * whole documents: a hand-written shape check (`record-shape.ts`, the twin of the zod schema,
 * which runs only to explain a rejection), one canonical encoding shared by the hash and the
 * signing input, one SHA-256. A new author key costs byte comparisons and the backend's key
 * import, no curve arithmetic in JavaScript (see `ed25519-rules.ts`).
 * @module
 */
import type { z } from 'zod'
import { sha256Hex } from '../encoding/canonical'
import { CabildoError } from '../errors'
import { decodeBase64url } from './base64url'
import { tryDecodeDidKey } from './did-key'
import { resolveEd25519Backend, type Ed25519Backend, type Ed25519BackendChoice, type VerifyFn } from './ed25519-backend'
import { publicKeyEncodingProblem } from './ed25519-rules'
import { LruCache } from './lru-cache'
import { recordBytes, signedRecordSchema, type SignedRecord } from './record-schema'
import { readSignedRecord } from './record-shape'

/** The outcome of verifying one record. */
export type VerifyResult =
  | { readonly ok: true; readonly hash: string }
  | {
      readonly ok: false
      /** The record's hash, when its body could be hashed. */
      readonly hash?: string
      /** `E_INVALID`: malformed, or meant for another document; `E_SIGNATURE`: bad signature or author key. */
      readonly code: 'E_SIGNATURE' | 'E_INVALID'
      readonly reason: string
    }

/** A record that passed verification, with its hash. */
export interface VerifiedRecord<P = unknown> {
  readonly record: SignedRecord<P>
  readonly hash: string
}

/** A record that failed verification: kept, never counted, shown to people. */
export interface RejectedRecord {
  readonly record: unknown
  readonly hash?: string
  readonly code: 'E_SIGNATURE' | 'E_INVALID'
  readonly reason: string
}

/** Options of one verification. */
export interface VerifyOptions {
  /** The document the records are read from: a record signed for another document is rejected as a replay. */
  readonly doc?: string
}

/** Options of {@link Verifier.filter}. */
export interface FilterOptions<P> extends VerifyOptions {
  /** A schema the payload must pass; failing it rejects the record as `E_INVALID`. It validates, it does not transform. */
  readonly payload?: z.ZodType<P>
}

/** Options of {@link createVerifier}. */
export interface VerifierOptions {
  /** Which Ed25519 implementation verifies; detected by default. */
  readonly backend?: Ed25519BackendChoice
  /** How many record outcomes to remember (one per record hash). Default 100 000 (roughly 30 MB). */
  readonly cacheSize?: number
  /** How many author dids to remember (decoded key, and the backend's prepared key). Default 10 000. */
  readonly keyCacheSize?: number
  /** How many signature checks may be in flight at once in a batch. Default 64. */
  readonly concurrency?: number
}

/** Counters of a verifier's outcome cache. */
export interface VerifierStats {
  readonly hits: number
  readonly misses: number
  readonly size: number
}

/** A record read for verification: its fields, hash and signing input, or why it cannot be verified. */
type Read = { ok: true; record: SignedRecord; hash: string; signed: Uint8Array } | (VerifyResult & { ok: false })

/**
 * What a verifier knows of an author did: not an Ed25519 did:key at all (the record is
 * malformed), a key no signature can be valid for, or a usable key with its backend verifier,
 * prepared on the first signature check.
 */
type Author =
  | { readonly kind: 'malformed' }
  | { readonly kind: 'unusable'; readonly reason: string }
  | { readonly kind: 'key'; readonly publicKey: Uint8Array; verify?: Promise<VerifyFn | string> }

function malformed(reason: string): VerifyResult & { ok: false } {
  return { ok: false, code: 'E_INVALID', reason: `malformed record: ${reason}` }
}

/**
 * Verifies signed records and remembers the outcomes. The outcome of a signature check depends
 * only on the record's hash (which covers its author) and its signature, so it is cached under
 * the hash along with the signature, and reused only for that same signature; the document
 * check is cheap and runs every time.
 */
export class Verifier {
  readonly #backendChoice: Ed25519BackendChoice
  #backend: Promise<Ed25519Backend> | undefined
  /** Outcomes by record hash: the signature checked for that hash, and the answer. */
  readonly #outcomes: LruCache<string, { readonly sig: string; readonly outcome: true | string }>
  readonly #authors: LruCache<string, Author>
  readonly #concurrency: number
  #hits = 0
  #misses = 0
  /** `isDidKey`, answered from the author cache. */
  readonly #isAuthor = (did: string): boolean => this.#author(did).kind !== 'malformed'

  /** @throws CabildoError `E_ARGUMENT` for a negative or fractional cache size or concurrency. */
  constructor(options: VerifierOptions = {}) {
    this.#backendChoice = options.backend ?? 'auto'
    this.#outcomes = new LruCache(options.cacheSize ?? 100_000)
    this.#authors = new LruCache(options.keyCacheSize ?? 10_000)
    const concurrency = options.concurrency ?? 64
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new CabildoError('E_ARGUMENT', 'concurrency is a positive integer', { argument: 'concurrency', reason: `got ${concurrency}` })
    }
    this.#concurrency = concurrency
  }

  /** Cache counters, e.g. to check that re-reading a document hits the cache. */
  get stats(): VerifierStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#outcomes.size }
  }

  /** Forgets every cached outcome and key (the counters stay). */
  clear(): void {
    this.#outcomes.clear()
    this.#authors.clear()
  }

  /**
   * Verifies one record. Never throws for a bad record: the result says why it failed.
   * @throws CabildoError `E_KEY` only when the configured backend cannot be used on this platform.
   */
  async verify(record: unknown, opts: VerifyOptions = {}): Promise<VerifyResult> {
    const [result] = await this.verifyMany([record], opts)
    return result as VerifyResult
  }

  /**
   * Verifies records in a batch, in parallel where the backend allows; results are in input order.
   * A (hash, signature) pair that appears several times is checked once.
   * @throws CabildoError `E_KEY` only when the configured backend cannot be used on this platform.
   */
  async verifyMany(records: readonly unknown[], opts: VerifyOptions = {}): Promise<VerifyResult[]> {
    const results: VerifyResult[] = new Array(records.length)
    let pending: Map<string, { read: Read & { ok: true }; indexes: number[] }> | undefined
    for (let i = 0; i < records.length; i++) {
      const read = this.#read(records[i], opts)
      if (!read.ok) {
        results[i] = read
        continue
      }
      // Keyed by hash, checked against the signature: no key string to build per record. A body
      // has one honest signature (Ed25519 signing is deterministic), so one slot per hash is enough.
      const cached = this.#outcomes.get(read.hash)
      if (cached !== undefined && cached.sig === read.record.sig) {
        this.#hits++
        results[i] = outcomeResult(cached.outcome, read.hash)
        continue
      }
      pending ??= new Map()
      // The hash is 64 hex digits: hash and signature side by side are an unambiguous key.
      const key = read.hash + read.record.sig
      const entry = pending.get(key)
      if (entry) entry.indexes.push(i)
      else pending.set(key, { read, indexes: [i] })
    }
    if (pending === undefined) return results
    const work = [...pending]
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < work.length) {
        const [, { read, indexes }] = work[next++] as (typeof work)[number]
        this.#misses++
        const outcome = await this.#checkSignature(read)
        this.#outcomes.set(read.hash, { sig: read.record.sig, outcome })
        for (const i of indexes) results[i] = outcomeResult(outcome, read.hash)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, work.length) }, worker))
    return results
  }

  /**
   * Verifies records and splits them: the verified ones (with their hashes, typed by the payload
   * schema when one is given) and the rejected ones with the reason.
   * @throws CabildoError `E_KEY` only when the configured backend cannot be used on this platform.
   */
  async filter<P = unknown>(
    records: readonly unknown[],
    opts: FilterOptions<P> = {},
  ): Promise<{ verified: VerifiedRecord<P>[]; rejected: RejectedRecord[] }> {
    const results = await this.verifyMany(records, opts)
    const verified: VerifiedRecord<P>[] = []
    const rejected: RejectedRecord[] = []
    results.forEach((result, i) => {
      const record = records[i]
      if (!result.ok) {
        const { code, reason, hash } = result
        rejected.push(hash === undefined ? { record, code, reason } : { record, hash, code, reason })
        return
      }
      const signed = record as SignedRecord<P>
      if (opts.payload !== undefined) {
        const parsed = opts.payload.safeParse(signed.payload)
        if (!parsed.success) {
          const issue = parsed.error.issues[0]
          const where = issue ? ['payload', ...issue.path].join('.') : 'payload'
          rejected.push({ record, hash: result.hash, code: 'E_INVALID', reason: `${where}: ${issue?.message ?? 'invalid'}` })
          return
        }
      }
      verified.push({ record: signed, hash: result.hash })
    })
    return { verified, rejected }
  }

  /** Shape, encoding and document checks: everything but the signature itself. Synchronous. */
  #read(value: unknown, opts: VerifyOptions): Read {
    let record: SignedRecord | undefined
    try {
      record = readSignedRecord(value, this.#isAuthor)
      if (record === undefined) {
        // The fast check refused it: the schema says why (and has the last word).
        const parsed = signedRecordSchema.safeParse(value)
        if (!parsed.success) {
          const issue = parsed.error.issues[0]
          const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''
          return malformed(`${where}${issue?.message ?? 'invalid'}`)
        }
        record = parsed.data as SignedRecord
      }
    } catch (err) {
      return malformed(`reading it threw (${String(err)})`) // a getter or proxy that throws
    }
    let signed: Uint8Array
    let hash: string
    try {
      const bytes = recordBytes(record)
      signed = bytes.signed
      hash = sha256Hex(bytes.body)
    } catch (err) {
      return malformed(CabildoError.is(err) ? err.message : String(err))
    }
    if (opts.doc !== undefined && record.doc !== opts.doc) {
      return {
        ok: false,
        hash,
        code: 'E_INVALID',
        reason: `replay: the record was signed for document ${JSON.stringify(record.doc)}, not ${JSON.stringify(opts.doc)}`,
      }
    }
    return { ok: true, record, hash, signed }
  }

  async #checkSignature(read: Read & { ok: true }): Promise<true | string> {
    const author = this.#author(read.record.author)
    if (author.kind === 'malformed') return 'the author is not an Ed25519 did:key' // the shape check refused it already
    if (author.kind === 'unusable') return `the author is not a usable Ed25519 key: ${author.reason}`
    author.verify ??= this.#prepare(author.publicKey)
    const verify = await author.verify
    if (typeof verify === 'string') return verify
    // The shape check admits canonical base64url only, so this decodes.
    const signature = decodeBase64url(read.record.sig, 64)
    if (signature === undefined) return 'the signature is not 64 bytes of canonical base64url'
    let valid: boolean
    try {
      valid = await verify(read.signed, signature)
    } catch {
      valid = false // a backend that throws on odd input has not verified it
    }
    return valid ? true : 'the signature does not verify for the author'
  }

  /** The cached facts about an author did; decoding a new one costs byte work only. */
  #author(did: string): Author {
    let author = this.#authors.get(did)
    if (author === undefined) {
      const publicKey = tryDecodeDidKey(did)
      const problem = publicKey === undefined ? undefined : publicKeyEncodingProblem(publicKey)
      author =
        publicKey === undefined
          ? { kind: 'malformed' }
          : problem !== undefined
            ? { kind: 'unusable', reason: problem }
            : { kind: 'key', publicKey }
      this.#authors.set(did, author)
    }
    return author
  }

  /** The backend's verifier for a key, or why the backend refused the key. */
  async #prepare(publicKey: Uint8Array): Promise<VerifyFn | string> {
    this.#backend ??= resolveEd25519Backend(this.#backendChoice)
    const backend = await this.#backend
    try {
      return await backend.verifier(publicKey)
    } catch (err) {
      return `the author is not a usable Ed25519 key: the ${backend.name} backend refused it (${String(err)})`
    }
  }
}

function outcomeResult(outcome: true | string, hash: string): VerifyResult {
  return outcome === true ? { ok: true, hash } : { ok: false, hash, code: 'E_SIGNATURE', reason: outcome }
}

/** A new verifier with its own caches (e.g. one per `Space`, or one per test). */
export function createVerifier(options: VerifierOptions = {}): Verifier {
  return new Verifier(options)
}

/** The verifier used when none is given: auto-detected backend, default cache sizes. */
export const defaultVerifier: Verifier = new Verifier()
