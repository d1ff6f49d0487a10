/**
 * `useCollection`: the records of a collection as a React component's state.
 *
 * ```ts
 * import { useCollection, useSpace } from 'cabildo/react'
 * function OpenTickets() {
 *   const { items, loading } = useCollection(useSpace().tickets, { where: (t) => t.status === 'open' })
 *   return loading ? 'Loading…' : items.map((t) => t.value.description).join('\n')
 * }
 * ```
 * @module
 */
import { useMemo, useRef, useSyncExternalStore } from 'react'
import type { Collection } from '../doc/collection'
import type { RecordInput, RecordOf, RecordType } from '../schema/record-type'
import { collectionStore, type CollectionItem, type CollectionStoreState } from './collection-store'

/** Options of {@link useCollection}. */
export interface UseCollectionOptions<T> {
  /**
   * Keep only records whose value passes this test (records with schema issues are passed as
   * read, as `Collection.list` passes them). It may be a new function at every render; a stable
   * one (defined outside the component, or memoized) spares re-filtering at every render.
   */
  readonly where?: (value: T | Partial<T>) => boolean
  /** Only these shards, in this order (default: every shard of the collection). */
  readonly shards?: readonly string[]
  /** Include archived records (default false). */
  readonly includeArchived?: boolean
}

/** What {@link useCollection} returns: the same object until the shown records change. */
export interface CollectionState<R extends RecordType, A extends object = object> {
  /** The records, sorted by shard then id as `Collection.list` sorts them; the same array until one of them changes. */
  readonly items: readonly CollectionItem<R, A>[]
  /** True until the collection was first listed (`items` is then empty or partial). */
  readonly loading: boolean
  /** Why listing failed (e.g. a `CabildoError` `E_CLOSED`); `undefined` when it did not. */
  readonly error: unknown
}

interface Selection<R extends RecordType, A extends object> {
  readonly source: CollectionStoreState<R, A>
  readonly where: ((value: RecordOf<R> | Partial<RecordOf<R>>) => boolean) | undefined
  readonly includeArchived: boolean
  readonly result: CollectionState<R, A>
}

/**
 * The records of `collection` (typically `useSpace().tickets`), read tolerantly, kept current as
 * they change here or arrive by sync. The component re-renders only when the shown list changes:
 * a change to a record that `where` leaves out (before and after) does not re-render it, and
 * each unchanged record keeps its item object, so `React.memo` rows of other records are skipped.
 * Shares one store per collection and shard list across components; the last component to
 * unmount releases the collection observer.
 */
export function useCollection<R extends RecordType, D extends keyof RecordInput<R>, A extends object>(
  collection: Collection<R, D, A>,
  options: UseCollectionOptions<RecordOf<R>> = {},
): CollectionState<R, A> {
  // A key rather than the array itself, so an inline `shards: [...]` keeps the same store.
  const shardsKey = options.shards === undefined ? undefined : JSON.stringify(options.shards)
  const store = useMemo(
    () => collectionStore<R, A>(collection, shardsKey === undefined ? undefined : (JSON.parse(shardsKey) as string[])),
    [collection, shardsKey],
  )
  const where = options.where
  const includeArchived = options.includeArchived ?? false
  const memo = useRef<Selection<R, A> | undefined>(undefined)

  // Filtering happens in getSnapshot, so `useSyncExternalStore` sees the filtered list and bails
  // out of rendering when it is unchanged (the approach of use-sync-external-store/with-selector).
  const getSnapshot = (): CollectionState<R, A> => {
    const source = store.getSnapshot()
    const previous = memo.current
    if (previous && previous.source === source && previous.where === where && previous.includeArchived === includeArchived) return previous.result
    const kept = source.items.filter((item) => (includeArchived || !item.archived) && (!where || where(item.value)))
    // Nothing left out: hand out the store's own array, shared by every component showing it.
    const items = kept.length === source.items.length ? source.items : kept
    const before = previous?.result
    const sameItems = before !== undefined && before.items.length === items.length && items.every((item, i) => item === before.items[i])
    const result =
      before && sameItems && before.loading === source.loading && Object.is(before.error, source.error)
        ? before
        : { items: sameItems && before ? before.items : items, loading: source.loading, error: source.error }
    memo.current = { source, where, includeArchived, result }
    return result
  }
  return useSyncExternalStore(store.subscribe, getSnapshot, getSnapshot)
}
