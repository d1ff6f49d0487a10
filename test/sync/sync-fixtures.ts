/** Shared helpers of the sync engine tests: replicas on a memory network, settling, and convergence checks. */
import { expect } from 'vitest'
import * as Y from 'yjs'
import { createSpace, MANIFEST_DOC, type Identity, type MemoryNetwork, type Space, type SpaceOptions, type SyncEngine, type SyncEngineOptions } from '../../src/index'

/** A replica: a Space and its engine on one network. */
export interface Replica {
  readonly name: string
  readonly space: Space
  readonly engine: SyncEngine
}

/** Creates a Space with `identity` and starts syncing it on `network` as peer `name` (no resync timer: tests drive it). */
export function replica(
  network: MemoryNetwork,
  name: string,
  identity: Identity | undefined,
  options: Partial<SpaceOptions> = {},
  engine: Omit<SyncEngineOptions, 'space' | 'transport'> = {},
): Replica {
  const space = createSpace({ id: 'city', ...(identity ? { identity } : {}), ...options })
  return { name, space, engine: space.sync(network.transport(), { peerId: name, resyncEvery: 0, ...engine }) }
}

/** Steps the network until nothing is in flight and every engine is idle. */
export async function settle(network: MemoryNetwork, engines: readonly SyncEngine[]): Promise<void> {
  await network.settle({ idle: async () => void (await Promise.all(engines.map((engine) => engine.idle()))) })
}

/** Opens every shard every replica knows on every replica (shards are exchanged between peers that have them open). */
export async function openAll(spaces: readonly Space[]): Promise<void> {
  const names = new Set(spaces.flatMap((space) => space.shardNames()))
  for (const space of spaces) for (const name of names) await space.doc(name)
}

/** What must be equal between converged replicas of a document: state vector, delete set, content. */
export function docState(doc: Y.Doc): { stateVector: Uint8Array; snapshot: Uint8Array; content: Record<string, unknown> } {
  const content: Record<string, unknown> = {}
  // An empty root type is no content: it exists where something looked it up (an observer), not in the CRDT state.
  for (const key of [...doc.share.keys()].sort()) {
    const value = doc.getMap(key).toJSON()
    if (Object.keys(value).length > 0) content[key] = value
  }
  return { stateVector: Y.encodeStateVector(doc), snapshot: Y.encodeSnapshot(Y.snapshot(doc)), content }
}

/** Expects every document of every replica to have the same state vector, delete set and content. */
export async function expectSameDocs(spaces: readonly Space[]): Promise<void> {
  const names = [MANIFEST_DOC, ...new Set(spaces.flatMap((space) => space.shardNames()))]
  for (const name of names) {
    const states = await Promise.all(spaces.map(async (space) => docState(await space.doc(name))))
    for (const state of states.slice(1)) {
      expect(state.content, `content of ${name}`).toEqual(states[0]?.content)
      expect(state.stateVector, `state vector of ${name}`).toEqual(states[0]?.stateVector)
      expect(state.snapshot, `delete set of ${name}`).toEqual(states[0]?.snapshot)
    }
  }
}
