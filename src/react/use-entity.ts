/**
 * `useEntity`: one record, and its resolved view, as a React component's state.
 *
 * ```ts
 * import { useEntity, useSpace } from 'cabildo/react'
 * function TicketStatus({ id }: { id: string }) {
 *   const { value, view, resolving } = useEntity(useSpace().tickets, id)
 *   return `${value.description ?? ''}: ${view?.status ?? '…'}${resolving ? ' (updating)' : ''}`
 * }
 * ```
 * @module
 */
import { useMemo, useSyncExternalStore } from 'react'
import type { Collection } from '../doc/collection'
import type { RecordInput, RecordType } from '../schema/record-type'
import { entityStore, type EntityState } from './entity-store'
import { useSpace } from './space-context'

/**
 * Record `id` of `collection` (a collection of the Space given by the nearest `SpaceProvider`):
 * its tolerant read, and for tickets, proposals, processes, budgets and comments the last view
 * their `resolve()` gave, with its `conflicts` and `rejected` acts. The component re-renders when
 * the record changes, and when its view changes (an act about it, a role granted, ...); never
 * for changes to other records that leave its view as it was. A record not found yet (`status:
 * 'missing'`) is shown as soon as it is created here or arrives by sync. Shares one store per
 * record across components; the last component to unmount releases every subscription.
 * @throws CabildoError `E_ARGUMENT` when the component is not below a `SpaceProvider`.
 */
export function useEntity<R extends RecordType, D extends keyof RecordInput<R>, A extends object>(collection: Collection<R, D, A>, id: string): EntityState<R, A> {
  const space = useSpace()
  const store = useMemo(() => entityStore<R, A>(space, collection, id), [space, collection, id])
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
}
