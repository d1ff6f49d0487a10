/**
 * Record verification with bounded caches: a {@link Verifier} remembers the outcome of each
 * (hash, signature) pair it checked and each author key it decoded, so re-reading a document does
 * not re-run Ed25519. Entry point for users: `signed-record.ts`.
 * @module
 */
import type { z } from 'zod'
import { canonicalBytes, sha256Hex } from '../encoding/canonical'
import { CabildoError } from '../errors'
import { decodeBase64url } from './base64url'
import { publicKeyFromDid } from './did-key'
import { resolveEd25519Backend, type Ed25519Backend, type Ed25519BackendChoice, type VerifyFn } from './ed25519-backend'
import { LruCache } from './lru-cache'
import { recordBody, signedRecordSchema, withDomain, type SignedRecord } from './record-schema'

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
  /** How many (hash, signature) outcomes to remember. Default 100 000 (about 20 MB). */
  readonly cacheSize?: number
  /** How many author keys to keep decoded. Default 10 000. */
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

type Checked = { ok: true; record: SignedRecord; hash: string; bodyBytes: Uint8Array } | (VerifyResult & { ok: false })

type KeyEntry = { verify: VerifyFn } | { problem: string }

/** Shape, encoding and document checks: everything but the signature itself. Synchronous and cheap. */
function check(record: unknown, opts: VerifyOptions): Checked {
  const parsed = signedRecordSchema.safeParse(record)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''
    return { ok: false, code: 'E_INVALID', reason: `malformed record: ${where}${issue?.message ?? 'invalid'}` }
  }
  const signed = record as SignedRecord
  let bodyBytes: Uint8Array
  try {
    bodyBytes = canonicalBytes(recordBody(signed))
  } catch (err) {
    const reason = CabildoError.is(err) ? err.message : String(err)
    return { ok: false, code: 'E_INVALID', reason: `malformed record: ${reason}` }
  }
  const hash = sha256Hex(bodyBytes)
  if (opts.doc !== undefined && signed.doc !== opts.doc) {
    return {
      ok: false,
      hash,
      code: 'E_INVALID',
      reason: `replay: the record was signed for document ${JSON.stringify(signed.doc)}, not ${JSON.stringify(opts.doc)}`,
    }
  }
  return { ok: true, record: signed, hash, bodyBytes }
}

/**
 * Verifies signed records and remembers the outcomes. The outcome of a signature check depends
 * only on the record's hash (which covers its author) and its signature, so it is cached under
 * that pair; the document check is cheap and runs every time.
 */
export class Verifier {
  readonly #backendChoice: Ed25519BackendChoice
  #backend: Promise<Ed25519Backend> | undefined
  readonly #outcomes: LruCache<string, true | string>
  readonly #keys: LruCache<string, Promise<KeyEntry>>
  readonly #concurrency: number
  #hits = 0
  #misses = 0

  /** @throws CabildoError `E_ARGUMENT` for a negative or fractional cache size or concurrency. */
  constructor(options: VerifierOptions = {}) {
    this.#backendChoice = options.backend ?? 'auto'
    this.#outcomes = new LruCache(options.cacheSize ?? 100_000)
    this.#keys = new LruCache(options.keyCacheSize ?? 10_000)
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
    this.#keys.clear()
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
    const pending = new Map<string, { checked: Checked & { ok: true }; indexes: number[] }>()
    records.forEach((record, i) => {
      const checked = check(record, opts)
      if (!checked.ok) {
        results[i] = checked
        return
      }
      const key = `${checked.hash}.${checked.record.sig}`
      const outcome = this.#outcomes.get(key)
      if (outcome !== undefined) {
        this.#hits++
        results[i] = outcomeResult(outcome, checked.hash)
        return
      }
      const entry = pending.get(key)
      if (entry) entry.indexes.push(i)
      else pending.set(key, { checked, indexes: [i] })
    })
    const work = [...pending]
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < work.length) {
        const [key, { checked, indexes }] = work[next++] as (typeof work)[number]
        this.#misses++
        const outcome = await this.#checkSignature(checked)
        this.#outcomes.set(key, outcome)
        for (const i of indexes) results[i] = outcomeResult(outcome, checked.hash)
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

  async #checkSignature(checked: Checked & { ok: true }): Promise<true | string> {
    const key = await this.#key(checked.record.author)
    if ('problem' in key) return `the author is not a usable Ed25519 key: ${key.problem}`
    // The schema's pattern admits canonical base64url only, so this decodes.
    const signature = decodeBase64url(checked.record.sig, 64)
    if (signature === undefined) return 'the signature is not 64 bytes of canonical base64url'
    let valid: boolean
    try {
      valid = await key.verify(withDomain(checked.bodyBytes), signature)
    } catch {
      valid = false // a backend that throws on odd input has not verified it
    }
    return valid ? true : 'the signature does not verify for the author'
  }

  #key(did: string): Promise<KeyEntry> {
    let entry = this.#keys.get(did)
    if (entry === undefined) {
      entry = (async (): Promise<KeyEntry> => {
        let publicKey: Uint8Array
        try {
          publicKey = publicKeyFromDid(did)
        } catch (err) {
          return { problem: CabildoError.is(err, 'E_KEY') ? err.details.reason : String(err) }
        }
        this.#backend ??= resolveEd25519Backend(this.#backendChoice)
        const backend = await this.#backend
        try {
          return { verify: await backend.verifier(publicKey) }
        } catch (err) {
          return { problem: `the ${backend.name} backend refused it (${String(err)})` }
        }
      })()
      this.#keys.set(did, entry)
    }
    return entry
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
