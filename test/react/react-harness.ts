/** Renders React trees with react-dom in the test's DOM (happy-dom) and waits for async store work. */
import { act, type ReactNode } from 'react'
import { createRoot, type Root } from 'react-dom/client'

// Tells React that updates are wrapped in act(), as in its own tests.
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

/** A mounted tree. */
export interface Mounted {
  readonly container: HTMLElement
  /** Renders another tree into the same root. */
  render(node: ReactNode): Promise<void>
  unmount(): Promise<void>
  /** The container's text. */
  text(): string
}

/** Mounts `node` into a fresh container. */
export async function mount(node: ReactNode): Promise<Mounted> {
  const container = document.createElement('div')
  document.body.appendChild(container)
  const root: Root = createRoot(container)
  await act(async () => root.render(node))
  return {
    container,
    render: (next) => act(async () => root.render(next)),
    unmount: async () => {
      await act(async () => root.unmount())
      container.remove()
    },
    text: () => container.textContent ?? '',
  }
}

/** Runs `work` inside act(), so React applies the updates it causes. */
export async function inAct<T>(work: () => Promise<T> | T): Promise<T> {
  let out: T | undefined
  await act(async () => {
    out = await work()
  })
  return out as T
}

/** Lets pending promises and timers run (several macrotask turns), inside act(). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await act(async () => new Promise<void>((resolve) => setTimeout(resolve, 0)))
}

/** Settles until `check()` holds. @throws when it does not within `ms` milliseconds. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await settle(1)
  }
}
