/** Shared helpers of the relay tests: district replicas syncing through a relay over real sockets, and convergence checks. */
import { afterEach } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { createSpace, MANIFEST_DOC, type Identity, type Space, type SyncEngine } from '../../../src/index'
import { createWebSocketTransport, type WebSocketTransport } from '../../../src/transports/websocket-transport'
import { startRelay, type Relay, type RelayOptions } from '../../../src/node/relay/relay'
import { openAll } from '../../sync/sync-fixtures'

/** A district's replica of the Space `city`, syncing through one relay. */
export interface District {
  readonly name: string
  readonly space: Space
  readonly transport: WebSocketTransport
  readonly engine: SyncEngine
}

/** Starts syncing `space` (or a new Space of `city` with `identity`) through the relay at `url`, as peer `name`. */
export function district(name: string, url: string, identity: Identity, roots: Readonly<Record<string, string>>, space?: Space, token?: string): District {
  const replica = space ?? createSpace({ id: 'city', identity, districts: roots })
  const transport = createWebSocketTransport({ url: `${url}/city`, WebSocket, reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, ...(token ? { token } : {}) })
  const engine = replica.sync(transport, { peerId: name, resyncEvery: 0 })
  return { name, space: replica, transport, engine }
}

/** The state vector and delete set of every document of `space`, by name (for a cheap equality check). */
async function fingerprint(space: Space, names: readonly string[]): Promise<string> {
  const parts: string[] = []
  for (const name of names) {
    const doc = await space.doc(name)
    parts.push(`${name}:${Buffer.from(Y.encodeStateVector(doc)).toString('hex')}:${Buffer.from(Y.encodeSnapshot(Y.snapshot(doc))).toString('hex')}`)
  }
  return parts.join('|')
}

/**
 * Waits until every Space holds the same documents (state vectors and delete sets), opening every
 * shard any of them knows (shards sync between peers that have them open). Fails after `timeoutMs`.
 */
export async function converge(spaces: readonly Space[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    await openAll(spaces)
    const names = [MANIFEST_DOC, ...new Set(spaces.flatMap((space) => space.shardNames()))]
    const prints = await Promise.all(spaces.map((space) => fingerprint(space, names)))
    if (prints.every((print) => print === prints[0])) return
    if (Date.now() > deadline) throw new Error(`the Spaces did not converge within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Resolves once `check()` holds, polling; fails after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * Registers, for the calling test file, clean-up steps run after each test (last first), and
 * returns them with `relayOf`, which starts a relay that the test's clean-up closes.
 */
export function testCleanup(): { readonly cleanup: Array<() => unknown>; relayOf(options: RelayOptions): Promise<Relay> } {
  const cleanup: Array<() => unknown> = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })
  return {
    cleanup,
    relayOf: async (options) => {
      const relay = await startRelay(options)
      cleanup.push(() => relay.close())
      return relay
    },
  }
}
