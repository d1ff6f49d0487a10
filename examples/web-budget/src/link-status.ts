/**
 * How many peers each of the page's transports reaches, as a store React can read with
 * `useSyncExternalStore`.
 *
 * ```ts
 * const links = createLinkStatus()
 * links.watch('tabs', transport) // before the transport connects, so no announcement is missed
 * links.subscribe(() => console.log(links.getSnapshot()))
 * ```
 * @module
 */
import type { PeerId, Transport } from 'cabildo'

/** One transport's state. */
export interface LinkState {
  /** What the page calls it (`tabs`, `relay`). */
  readonly name: string
  /** The peers it reaches now. */
  readonly peers: number
  /** Whether it closed (with the reason it gave, if any). */
  readonly closed: boolean
  readonly reason?: string
}

/** The store. */
export interface LinkStatus {
  /** Follows a transport's peers and its close. */
  watch(name: string, transport: Transport): void
  /** Calls `listener` after every change; returns the unsubscribe. */
  subscribe(listener: () => void): () => void
  /** The state of every watched transport, in watch order; the same array until something changes. */
  getSnapshot(): readonly LinkState[]
}

/** Creates an empty {@link LinkStatus}. */
export function createLinkStatus(): LinkStatus {
  const listeners = new Set<() => void>()
  const links: Array<{ name: string; peers: Set<PeerId>; closed: boolean; reason?: string }> = []
  let snapshot: readonly LinkState[] = []
  const changed = (): void => {
    snapshot = links.map(({ name, peers, closed, reason }) => ({ name, peers: peers.size, closed, ...(reason === undefined ? {} : { reason }) }))
    for (const listener of [...listeners]) listener()
  }
  return {
    watch(name, transport) {
      const link: (typeof links)[number] = { name, peers: new Set(), closed: false }
      links.push(link)
      transport.on('peer', ({ peerId }) => {
        link.peers.add(peerId)
        changed()
      })
      transport.on('peer-left', ({ peerId }) => {
        link.peers.delete(peerId)
        changed()
      })
      transport.on('close', ({ reason }) => {
        link.closed = true
        if (reason !== undefined) link.reason = reason
        changed()
      })
      changed()
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    getSnapshot: () => snapshot,
  }
}
