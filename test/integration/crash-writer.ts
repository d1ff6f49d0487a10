/**
 * The child process of the crash test: writes edits to a Y.Doc through the file store and prints
 * `ack <id>` once each edit's append has resolved, `compact` before each compaction and
 * `compacted` after it. The parent kills it with SIGKILL at a random point.
 *
 * Usage: node crash-writer.mjs <directory> <clientId> <firstId> <edits> <compactEvery> <seed>
 */
import * as prng from 'lib0/prng'
import * as Y from 'yjs'
import { createFileStorage } from '../../src/node/file-storage'

const [directory = '', clientId = '1', firstId = '0', edits = '100', compactEvery = '20', seed = '1'] = process.argv.slice(2)
const say = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

async function main(): Promise<void> {
  const random = prng.create(Number(seed))
  const store = await createFileStorage(directory).open('doc')
  const doc = new Y.Doc()
  doc.clientID = Number(clientId)
  const records = await store.load()
  Y.transact(doc, () => {
    for (const record of records) Y.applyUpdate(doc, record)
  })
  const map = doc.getMap<number>('edits')
  say('ready')
  let id = Number(firstId)
  const last = id + Number(edits)
  let sinceCompaction = 0
  const pending: Promise<void>[] = []
  while (id < last) {
    // A burst of edits made together: their appends share one write and one fsync.
    const burst = prng.uint32(random, 1, 4)
    for (let k = 0; k < burst && id < last; k++) {
      const editId = id++
      let update: Uint8Array | undefined
      const capture = (u: Uint8Array): void => {
        update = u
      }
      doc.on('update', capture)
      map.set(`e${editId}`, editId)
      doc.off('update', capture)
      if (update !== undefined) pending.push(store.append(update).then(() => say(`ack ${editId}`)))
      sinceCompaction += 1
    }
    if (sinceCompaction >= Number(compactEvery)) {
      sinceCompaction = 0
      say('compact')
      // Not awaited: appends called after it land in the new generation.
      pending.push(store.compact(Y.encodeStateAsUpdate(doc)).then(() => say('compacted')))
    }
    await Promise.all(pending.splice(0))
  }
  await store.close()
  say('done')
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exit(1)
})
