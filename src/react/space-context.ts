/**
 * The Space an app's components work on, given once by {@link SpaceProvider} and read by
 * {@link useSpace} (and by `useEntity`, which needs the Space's documents).
 *
 * ```ts
 * import { createElement } from 'react'
 * import { SpaceProvider, useSpace } from 'cabildo/react'
 * const root = createElement(SpaceProvider, { space }, createElement(App))
 * function App() { return useSpace().id }
 * ```
 * @module
 */
import { createContext, createElement, useContext, type ReactElement, type ReactNode } from 'react'
import { CabildoError } from '../errors'
import type { Space } from '../sync/space'

const SpaceContext = createContext<Space | undefined>(undefined)
SpaceContext.displayName = 'CabildoSpace'

/** Props of {@link SpaceProvider}. */
export interface SpaceProviderProps {
  /** The Space the components below work on (open it, with `openSpace`, before rendering). */
  readonly space: Space
  /** The components that may call {@link useSpace}, `useCollection` and `useEntity`. */
  readonly children?: ReactNode
}

/** Gives `space` to every component below it. Nest providers to give a subtree another Space. */
export function SpaceProvider({ space, children }: SpaceProviderProps): ReactElement {
  // `.Provider` rather than React 19's `<Context>`: the peer range includes React 18.
  return createElement(SpaceContext.Provider, { value: space }, children)
}

/**
 * The Space of the nearest {@link SpaceProvider}.
 * @throws CabildoError `E_ARGUMENT` when the component is not below a `SpaceProvider`.
 */
export function useSpace(): Space {
  const space = useContext(SpaceContext)
  if (!space) {
    throw new CabildoError('E_ARGUMENT', 'useSpace needs a <SpaceProvider space={space}> above the component', { argument: 'space', reason: 'no SpaceProvider above the component' })
  }
  return space
}
