/**
 * Keeps a Y.Doc in a {@link DocStore}: loads what the store holds into the document, then appends
 * every later update of the document, and compacts the store from time to time.
 *
 * ```ts
 * import * as Y from 'yjs'
 * import { attachStore, createMemoryStorage } from 'cabildo'
 * const doc = new Y.Doc()
 * const attached = await attachStore(doc, await createMemoryStorage().open('tickets.2026-11'))
 * doc.getMap('tickets').set('t1', 'open')
 * await attached.flush() // the edit is durable
 * ```
 *
 * Failures never break the document: a failed append is reported (`on('error')`, `onError`) and
 * kept, then retried on the next `flush()` (which rejects if it fails again) or made unnecessary
 * by the next successful compaction. A store that fails to load is never written to: attaching
 * rejects, so an empty document can never be persisted over the real one.
 *
 * Updates that another record keeps ({@link KeptElsewhere}: a Space's signed envelopes, in the
 * document's envelope log) are not appended: each transaction is then stored once, so a crash
 * can never keep one record of it without the other. The store holds the updates nothing else
 * keeps, and the snapshots of compactions, which are written only once what is kept elsewhere is
 * durable there.
 * @module
 */
import * as Y from 'yjs'
import { CabildoError } from '../errors'
import { createListeners } from './listeners'
import type { DocStore } from './storage'
import { causeCode, storageError } from './storage-errors'

/**
 * The updates of a document that another record keeps (a signed envelope in the document's
 * envelope log): {@link attachStore} does not append them, counts them towards its compactions,
 * and writes a snapshot only once they are durable where they are kept.
 */
export interface KeptElsewhere {
  /** How many records elsewhere keep the update of `transaction` (0: none, the store appends it). */
  count(transaction: Y.Transaction): number
  /**
   * Resolves once every update kept elsewhere that the document held when this was called is
   * durable there (later ones may be too).
   * @throws when some of them could not be made durable.
   */
  durable(): Promise<void>
  /**
   * Subscribes to updates that were counted as kept elsewhere and lost that record (a local
   * transaction whose signing failed): the store appends them. Returns the function that
   * unsubscribes.
   */
  onUnkept(listener: (update: Uint8Array) => void): () => void
}

/** Options of {@link attachStore}. */
export interface AttachStoreOptions {
  /**
   * Compact once the store holds this many records since its last compaction (default 500,
   * counting the records found at load and the updates kept elsewhere). `Infinity` disables
   * automatic compaction.
   */
  readonly compactEvery?: number
  /** Called with every storage error, like an `on('error')` listener attached before loading. */
  readonly onError?: (error: StorageFailure) => void
  /** The updates another record keeps: they are not appended (see {@link KeptElsewhere}). */
  readonly keptElsewhere?: KeptElsewhere
}

/** A failure reported by an attached store: the store failed (`E_STORAGE`) or was closed (`E_CLOSED`). */
export type StorageFailure = CabildoError<'E_STORAGE'> | CabildoError<'E_CLOSED'>

/** The events of an {@link AttachedStore}. */
export interface AttachedStoreEvents {
  /** A storage operation failed; the document is unchanged and the data is kept for a retry. */
  error: StorageFailure
}

/** A Y.Doc kept in a store, as returned by {@link attachStore}. */
export interface AttachedStore {
  /** The store the document is kept in. */
  readonly store: DocStore
  /** How many document updates are not yet known durable (in flight or waiting for a retry). */
  readonly pending: number
  /**
   * Resolves once every update made so far is durable, retrying failed appends once.
   * @throws the storage failure if some update made before the call still is not durable;
   *   `E_CLOSED` after `detach()`.
   */
  flush(): Promise<void>
  /**
   * Replaces the store's records by one snapshot of the document (`Y.encodeStateAsUpdate`), once
   * the updates kept elsewhere are durable there. Also makes every update that failed to append
   * durable.
   * @throws the storage failure, or that of the updates kept elsewhere (also reported as an
   *   `error` event); `E_CLOSED` after `detach()`.
   */
  compact(): Promise<void>
  /**
   * Stops persisting the document's updates, then flushes what was made before. Does not close
   * the store. Idempotent. Destroying the document detaches too.
   * @throws the failure of the final flush (the attachment is detached anyway).
   */
  detach(): Promise<void>
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof AttachedStoreEvents>(event: E, listener: (payload: AttachedStoreEvents[E]) => void): () => void
}

interface Unsaved {
  readonly seq: number
  readonly update: Uint8Array
}

/**
 * Loads `store` into `doc` (one transaction whose origin is `store`), then persists every later
 * update of `doc` that `options.keptElsewhere` does not keep. Edits made to `doc` while it loads
 * are persisted once it has loaded, and so is any content `doc` had before.
 * @throws `E_STORAGE` (operation `load`) if the store cannot be read or holds bytes Yjs cannot
 *   apply (cause `EDECODE`); then nothing is ever written to the store by this call.
 */
export async function attachStore(doc: Y.Doc, store: DocStore, options: AttachStoreOptions = {}): Promise<AttachedStore> {
  const compactEvery = options.compactEvery ?? 500
  const kept = options.keptElsewhere
  const listeners = createListeners<AttachedStoreEvents>()
  if (options.onError !== undefined) listeners.on('error', options.onError)

  let phase: 'loading' | 'ready' | 'detached' = 'loading'
  const earlier: Uint8Array[] = []
  // A document with content before attaching: that content must reach the store too.
  if (doc.store.clients.size > 0) earlier.push(Y.encodeStateAsUpdate(doc))
  /** Updates appended while a compaction waits for what is kept elsewhere: its snapshot must hold them too. */
  let appendedWhileWaiting: Uint8Array[] | undefined
  const onUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, transaction: Y.Transaction): void => {
    if (origin === store) return // loaded from the store: already there
    const elsewhere = kept?.count(transaction) ?? 0
    if (elsewhere > 0) {
      if (phase !== 'ready') return
      sinceCompaction += elsewhere
      compactIfDue()
    } else if (phase === 'loading') earlier.push(update)
    else if (phase === 'ready') persist(update)
  }
  doc.on('update', onUpdate)
  const offUnkept = kept?.onUnkept((update) => {
    if (phase === 'loading') earlier.push(update)
    else if (phase === 'ready') persist(update)
  })

  let seq = 0
  /** Every update with a sequence number up to this one is in a durable snapshot. */
  let covered = 0
  let sinceCompaction = 0
  let lastError: StorageFailure | undefined
  let compacting: Promise<void> | undefined
  const unsaved: Unsaved[] = []
  const inFlight = new Set<Promise<void>>()

  const report = (error: unknown, operation: 'append' | 'compact'): StorageFailure => {
    const failure = storageError(operation, store.key, error)
    lastError = failure
    listeners.emit('error', failure)
    return failure
  }

  const append = (entry: Unsaved): void => {
    sinceCompaction += 1
    const attempt = store.append(entry.update).then(
      () => undefined,
      (error: unknown) => {
        // A compaction that succeeded meanwhile already holds this update.
        if (entry.seq > covered) unsaved.push(entry)
        report(error, 'append')
      },
    )
    inFlight.add(attempt)
    void attempt.finally(() => inFlight.delete(attempt))
  }

  const persist = (update: Uint8Array): void => {
    seq += 1
    appendedWhileWaiting?.push(update)
    append({ seq, update })
    compactIfDue()
  }

  const compactIfDue = (): void => {
    if (sinceCompaction >= compactEvery && compacting === undefined) void compact().catch(() => undefined)
  }

  const compact = (): Promise<void> => {
    if (compacting !== undefined) return compacting
    compacting = (async () => {
      // Everything the document holds is in the snapshot, including updates whose append failed.
      let snapshot = Y.encodeStateAsUpdate(doc)
      sinceCompaction = 0
      if (kept !== undefined) {
        // The snapshot holds content that only the records kept elsewhere hold besides: it is
        // written once those are durable, so that a crash at any point leaves that content in
        // them (and maybe in the snapshot too), never in the snapshot alone. Updates appended
        // meanwhile land before the snapshot in the store (operations take effect in call
        // order), so the snapshot takes them in.
        const waiting: Uint8Array[] = []
        appendedWhileWaiting = waiting
        try {
          await kept.durable()
        } catch (error) {
          throw report(new CabildoError('E_STORAGE', `The snapshot of "${store.key}" waits for records kept elsewhere, which are not durable`, {
            operation: 'compact',
            key: store.key,
            cause: causeCode(error),
          }, { cause: error }), 'compact')
        } finally {
          appendedWhileWaiting = undefined
        }
        if (waiting.length > 0) snapshot = Y.mergeUpdates([snapshot, ...waiting])
      }
      const upTo = seq
      try {
        await store.compact(snapshot)
      } catch (error) {
        throw report(error, 'compact')
      }
      covered = Math.max(covered, upTo)
      for (let i = unsaved.length - 1; i >= 0; i--) if ((unsaved[i]?.seq ?? 0) <= upTo) unsaved.splice(i, 1)
    })().finally(() => {
      compacting = undefined
      // Updates that arrived during this compaction may already call for the next one.
      compactIfDue()
    })
    return compacting
  }

  const settled = async (): Promise<void> => {
    while (inFlight.size > 0 || compacting !== undefined) {
      await Promise.all([...inFlight, compacting?.catch(() => undefined)])
    }
  }

  const flush = async (): Promise<void> => {
    const target = seq
    await settled()
    if (unsaved.length > 0) {
      for (const entry of unsaved.splice(0)) append(entry)
      await settled()
    }
    if (unsaved.some((entry) => entry.seq <= target)) {
      throw lastError ?? storageError('flush', store.key, new Error('updates are not durable'))
    }
  }

  let records: Uint8Array[]
  try {
    records = await store.load()
  } catch (error) {
    phase = 'detached'
    doc.off('update', onUpdate)
    offUnkept?.()
    throw storageError('load', store.key, error)
  }
  try {
    Y.transact(doc, () => {
      for (const record of records) Y.applyUpdate(doc, record, store)
    }, store)
  } catch (error) {
    phase = 'detached'
    doc.off('update', onUpdate)
    offUnkept?.()
    throw new CabildoError('E_STORAGE', `The records of "${store.key}" are not Yjs updates Yjs can apply`, {
      operation: 'load',
      key: store.key,
      cause: 'EDECODE',
    }, { cause: error })
  }
  phase = 'ready'
  sinceCompaction = records.length
  for (const update of earlier.splice(0)) persist(update)
  compactIfDue()

  let detaching: Promise<void> | undefined
  const closedError = (): CabildoError<'E_CLOSED'> =>
    new CabildoError('E_CLOSED', `The attachment of "${store.key}" was detached`, { what: `attachment ${store.key}` })
  const detach = (): Promise<void> => {
    detaching ??= (async () => {
      phase = 'detached'
      doc.off('update', onUpdate)
      doc.off('destroy', onDestroy)
      offUnkept?.()
      await flush()
    })()
    return detaching
  }
  const onDestroy = (): void => {
    void detach().catch(() => undefined) // its failures were reported as `error` events
  }
  doc.on('destroy', onDestroy)

  return {
    store,
    get pending() {
      return inFlight.size + unsaved.length
    },
    flush: () => (phase === 'detached' ? Promise.reject(closedError()) : flush()),
    compact: () => (phase === 'detached' ? Promise.reject(closedError()) : compact()),
    detach,
    on: (event, listener) => listeners.on(event, listener),
  }
}
