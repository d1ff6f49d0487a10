/**
 * How the demo's apps reach each other: North and South through a relay on 127.0.0.1, East
 * (offline) only through bundle files, and everyone's convergence checked by comparing the
 * documents' state vectors.
 */
import { writeFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { createWebSocketTransport, exportBundle, importBundle, MANIFEST_DOC, type BundleImportReport, type Space, type SyncEngine } from '../../src/index'
import type { Relay } from '../../src/node/index'

/** Connects a Space to the relay as `peerId`; returns the running engine. */
export function connect(space: Space, relay: Relay, peerId: string): SyncEngine {
  const transport = createWebSocketTransport({ url: `${relay.url}/${space.id}`, WebSocket })
  return space.sync(transport, { peerId, resyncEvery: 500 })
}

/** Whether every document any of `spaces` knows has the same Yjs state in all of them. */
async function sameState(spaces: readonly Space[]): Promise<boolean> {
  const names = [MANIFEST_DOC, ...new Set(spaces.flatMap((space) => space.shardNames()))]
  for (const name of names) {
    const vectors = await Promise.all(spaces.map(async (space) => Y.encodeStateVector(await space.doc(name)).join(',')))
    if (vectors.some((vector) => vector !== vectors[0])) return false
  }
  return true
}

/**
 * Waits until `spaces` hold the same state of every document (sync is asynchronous: edits reach
 * the relay and come back over sockets). Fails after `timeoutMs`.
 */
export async function converge(spaces: readonly Space[], engines: readonly SyncEngine[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    await Promise.all(engines.filter((engine) => !engine.closed).map((engine) => engine.idle()))
    if (await sameState(spaces)) return
    if (Date.now() > deadline) throw new Error(`replicas did not converge within ${timeoutMs} ms`)
    for (const engine of engines) if (!engine.closed) engine.resync()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Carries everything `from` holds to `to` as a bundle file under `dir` (the USB stick between districts). */
export async function handOver(from: Space, to: Space, dir: string, label: string): Promise<{ file: string; bytes: number; report: BundleImportReport }> {
  const file = join(dir, `${label}.cabildo`)
  const bytes = await exportBundle(from)
  await writeFile(file, bytes)
  const report = await importBundle(to, new Uint8Array(await readFile(file)))
  return { file, bytes: bytes.length, report }
}
