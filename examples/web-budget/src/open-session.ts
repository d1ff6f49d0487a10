/**
 * Starts the page's replica: this browser's identity (kept in IndexedDB), the Space (kept in
 * IndexedDB, so a reload finds every ballot), the district's published budget (a bundle of
 * signed envelopes, imported through the ingress guard), sync with the other tabs of this
 * browser over a BroadcastChannel, and, when the page address says `?relay=ws://host:port`, sync
 * with every other browser through that relay.
 *
 * ```ts
 * const session = await openSession(new URL(location.href))
 * const budget = await session.space.budgets.require(session.budgetId)
 * ```
 * @module
 */
import {
  createBroadcastChannelTransport,
  createIndexedDbStorage,
  createWebSocketTransport,
  importBundle,
  indexedDbIdentityStore,
  loadOrCreateIdentity,
  openSpace,
  type Identity,
  type Space,
  type SyncEngine,
} from 'cabildo'
import { createLinkStatus, type LinkStatus } from './link-status'
import seed from './seed.json'

/** A running replica of the budget. */
export interface Session {
  readonly space: Space
  /** Who this browser votes as. */
  readonly identity: Identity
  /** The voter name this identity is kept under (`?voter=` in the page address; default `identity`). */
  readonly voter: string
  /** The budget the page shows. */
  readonly budgetId: string
  /** The peers each transport reaches. */
  readonly links: LinkStatus
  /** Stops syncing (the other tabs see this one leave at once). */
  close(): void
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
}

/** Opens the session for the page at `url`. */
export async function openSession(url: URL): Promise<Session> {
  // One identity per browser profile; `?voter=name` keeps another one beside it, for a device
  // shared by a household (and for trying two voters in two tabs).
  const voter = url.searchParams.get('voter') || 'identity'
  const identity = await loadOrCreateIdentity(indexedDbIdentityStore({ dbName: `${seed.spaceId}/identity`, keyName: voter }))
  const space = await openSpace({
    id: seed.spaceId,
    identity,
    districts: { [seed.district]: seed.root },
    storage: createIndexedDbStorage({ prefix: `${seed.spaceId}/` }),
  })
  // Every load imports the published budget again: what this replica already holds is skipped.
  await importBundle(space, fromBase64(seed.bundle))

  const links = createLinkStatus()
  const peerId = `${voter}-${crypto.randomUUID()}`
  const tabs = createBroadcastChannelTransport({ channel: `cabildo/${seed.spaceId}` })
  links.watch('tabs', tabs)
  const relay = url.searchParams.get('relay')
  // With a relay, this tab also passes on to the other tabs what the relay brings (and the other
  // way round), so a tab opened without `?relay=` is kept current too.
  const engines: SyncEngine[] = [space.sync(tabs, { peerId, relay: relay !== null })]
  if (relay !== null) {
    const socket = createWebSocketTransport({ url: `${relay.replace(/\/+$/, '')}/${encodeURIComponent(seed.spaceId)}` })
    links.watch('relay', socket)
    engines.push(space.sync(socket, { peerId, relay: true }))
  }

  return {
    space,
    identity,
    voter,
    budgetId: seed.budget,
    links,
    close: () => engines.forEach((engine) => engine.close()),
  }
}
