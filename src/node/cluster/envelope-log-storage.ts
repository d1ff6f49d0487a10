/**
 * A storage for a relay's Spaces in a store several processes share: it keeps only the
 * documents' envelope logs (`<doc>#envelopes`), and each document's content is rebuilt from them
 * when it opens.
 *
 * Why: a relay has no identity, so everything its documents hold came in envelopes, and the
 * envelope log alone rebuilds them. Keeping nothing else means processes sharing the store never write snapshots of a
 * document that another process is appending to, and a document's content can never run ahead
 * of its log, whichever process wrote last.
 *
 * ```ts
 * const storage = createEnvelopeLogStorage(createPrefixedStorage(shared, 'city/'))
 * const space = await openSpace({ id: 'city', storage }) // content comes back from the envelopes
 * ```
 * @module
 */
import type { DocStore, Storage } from '../../storage/storage'
import { assertStorageKey, closedStoreError } from '../../storage/storage-errors'
import { ENVELOPE_STORE_SUFFIX } from '../../sync/envelope-store'

/** A view of `storage` that stores envelope logs and keeps documents' own records nowhere. */
export function createEnvelopeLogStorage(storage: Storage): Storage {
  return {
    async open(key: string): Promise<DocStore> {
      if (key.endsWith(ENVELOPE_STORE_SUFFIX)) return storage.open(key)
      assertStorageKey(key)
      return contentFromEnvelopes(key)
    },
  }
}

/** A document's own store: empty, and what it is given is already in the envelope log. */
function contentFromEnvelopes(key: string): DocStore {
  let closed = false
  const check = (): void => {
    if (closed) throw closedStoreError(key)
  }
  return {
    key,
    load: async () => {
      check()
      return []
    },
    append: async () => check(),
    compact: async () => check(),
    close: async () => {
      closed = true
    },
  }
}
