/**
 * Keeps the signed envelopes of one document in a {@link DocStore} next to its Yjs updates
 * (key `<doc>#envelopes`), so that after a restart a replica still knows every session's chain
 * and can serve peers the envelopes they lack.
 *
 * ```ts
 * const store = await openEnvelopeStore(storage, 'tickets.2026-11', { snapshot: () => log })
 * const stored = await store.load() // envelope bytes, in the order they were saved
 * store.save([bytes])               // appended in the background
 * await store.flush()
 * ```
 *
 * Each record is a lib0-encoded list of envelopes. A failed append is reported and marks the
 * store dirty; the next flush (or the next compaction) rewrites the whole log from `snapshot`,
 * so a lost append never leaves a hole behind for long.
 * @module
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { StorageFailure } from '../storage/attach-store'
import { storageError } from '../storage/storage-errors'
import type { DocStore, Storage } from '../storage/storage'

/** The suffix of an envelope store's key; shard names cannot contain `#`, so keys never clash. */
export const ENVELOPE_STORE_SUFFIX = '#envelopes'

/** Options of {@link openEnvelopeStore}. */
export interface EnvelopeStoreOptions {
  /** Every envelope the document holds, in a causal order: what a compaction writes. */
  readonly snapshot: () => readonly Uint8Array[]
  /** Compact once this many records were appended since the last compaction (default 500). */
  readonly compactEvery?: number
  /** Called with every storage failure; the envelopes stay in memory. */
  readonly onError?: (error: StorageFailure) => void
}

/** A document's envelope log in storage. */
export interface EnvelopeStore {
  /**
   * Every stored envelope, in the order saved. Records that cannot be decoded are skipped and
   * reported through `onError` (their envelopes can be fetched again from peers).
   */
  load(): Promise<Uint8Array[]>
  /** Appends envelopes in the background (one record). Failures are reported, never thrown. */
  save(envelopes: readonly Uint8Array[]): void
  /**
   * Resolves once everything saved so far is durable.
   * @throws the storage failure when the log still could not be written.
   */
  flush(): Promise<void>
  /** Flushes, then closes the store. @throws the failure of the final flush (the store is closed anyway). */
  close(): Promise<void>
}

/** Encodes a list of envelopes as one record. */
function encodeRecord(envelopes: readonly Uint8Array[]): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, envelopes.length)
  for (const envelope of envelopes) encoding.writeVarUint8Array(encoder, envelope)
  return encoding.toUint8Array(encoder)
}

function decodeRecord(record: Uint8Array): Uint8Array[] | undefined {
  try {
    const decoder = decoding.createDecoder(record)
    const out: Uint8Array[] = []
    for (let n = decoding.readVarUint(decoder); n > 0; n--) out.push(decoding.readVarUint8Array(decoder).slice())
    return decoding.hasContent(decoder) ? undefined : out
  } catch {
    return undefined
  }
}

/**
 * Opens the envelope store of document `name` in `storage`.
 * @throws `E_STORAGE` when the store cannot be opened.
 */
export async function openEnvelopeStore(storage: Storage, name: string, options: EnvelopeStoreOptions): Promise<EnvelopeStore> {
  const key = `${name}${ENVELOPE_STORE_SUFFIX}`
  let store: DocStore
  try {
    store = await storage.open(key)
  } catch (error) {
    throw storageError('open', key, error)
  }
  return new StoredLog(store, options)
}

class StoredLog implements EnvelopeStore {
  readonly #store: DocStore
  readonly #options: EnvelopeStoreOptions
  readonly #compactEvery: number
  readonly #inFlight = new Set<Promise<void>>()
  #sinceCompaction = 0
  /** An append failed: only a full rewrite makes the log whole again. */
  #dirty = false
  #lastError: StorageFailure | undefined
  #compacting: Promise<void> | undefined
  #closed = false

  constructor(store: DocStore, options: EnvelopeStoreOptions) {
    this.#store = store
    this.#options = options
    this.#compactEvery = options.compactEvery ?? 500
  }

  async load(): Promise<Uint8Array[]> {
    let records: Uint8Array[]
    try {
      records = await this.#store.load()
    } catch (error) {
      throw storageError('load', this.#store.key, error)
    }
    this.#sinceCompaction = records.length
    const out: Uint8Array[] = []
    for (const record of records) {
      const envelopes = decodeRecord(record)
      if (envelopes) out.push(...envelopes)
      else {
        this.#dirty = true // rewrite without the damaged record
        this.#report('load', new Error('an envelope record cannot be decoded'))
      }
    }
    return out
  }

  save(envelopes: readonly Uint8Array[]): void {
    if (this.#closed || envelopes.length === 0) return
    this.#sinceCompaction++
    const attempt = this.#store.append(encodeRecord(envelopes)).catch((error: unknown) => {
      this.#dirty = true
      this.#report('append', error)
    })
    this.#inFlight.add(attempt)
    void attempt.finally(() => this.#inFlight.delete(attempt))
    if (this.#sinceCompaction >= this.#compactEvery) void this.#compact().catch(() => undefined)
  }

  #report(operation: 'load' | 'append' | 'compact', error: unknown): StorageFailure {
    const failure = storageError(operation, this.#store.key, error)
    this.#lastError = failure
    this.#options.onError?.(failure)
    return failure
  }

  #compact(): Promise<void> {
    this.#compacting ??= (async () => {
      this.#sinceCompaction = 0
      this.#dirty = false
      try {
        await this.#store.compact(encodeRecord(this.#options.snapshot()))
      } catch (error) {
        this.#dirty = true
        throw this.#report('compact', error)
      }
    })().finally(() => {
      this.#compacting = undefined
    })
    return this.#compacting
  }

  async #settled(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#compacting !== undefined) {
      await Promise.all([...this.#inFlight, this.#compacting?.catch(() => undefined)])
    }
  }

  async flush(): Promise<void> {
    await this.#settled()
    if (this.#dirty) await this.#compact()
    if (this.#dirty) throw this.#lastError ?? storageError('flush', this.#store.key, new Error('envelopes are not durable'))
  }

  async close(): Promise<void> {
    if (this.#closed) return
    try {
      await this.flush()
    } finally {
      this.#closed = true
      await this.#store.close().catch(() => undefined)
    }
  }
}
