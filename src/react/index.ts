/**
 * cabildo/react: hooks that keep React components in step with a Space, on
 * `useSyncExternalStore`. A component re-renders only when the records it shows change, here
 * or on another replica.
 *
 * ```ts
 * import { createElement } from 'react'
 * import { SpaceProvider, useCollection, useEntity, useSpace } from 'cabildo/react'
 * function Ticket({ id }: { id: string }) {
 *   const { value, view } = useEntity(useSpace().tickets, id)
 *   return createElement('li', null, `${value.service_code ?? '?'}: ${view?.status ?? '…'}`)
 * }
 * function Tickets() {
 *   const { items } = useCollection(useSpace().tickets, { where: (t) => t.district === 'north' })
 *   return createElement('ul', null, items.map((t) => createElement(Ticket, { key: t.id, id: t.id })))
 * }
 * // createRoot(el).render(createElement(SpaceProvider, { space }, createElement(Tickets)))
 * ```
 * React is an optional peer dependency: only this entry point imports it.
 * @module
 */
export { SpaceProvider, useSpace, type SpaceProviderProps } from './space-context'
export { useCollection, type UseCollectionOptions, type CollectionState } from './use-collection'
export { useEntity } from './use-entity'
// The stores behind the hooks, for class components and other view libraries.
export { collectionStore, type CollectionStore, type CollectionItem, type CollectionSource, type CollectionStoreState } from './collection-store'
export { entityStore, type EntityStore, type EntityState, type EntityStatus, type ResolvedView } from './entity-store'
