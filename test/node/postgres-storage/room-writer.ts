/**
 * A second process writing to a document in PostgreSQL, for test/node/postgres-storage.test.ts:
 * appends `count` edits (each by its own Yjs client, ids `first`, `first + 1`, ...), two at a
 * time, printing `acked <id>` once each append resolves, then closes and exits.
 *
 *   node --import tsx room-writer.ts <connectionString> <schema> <key> <first> <count>
 */
import * as Y from 'yjs'
import { createPostgresStorage } from '../../../src/node/postgres-storage'

const [connectionString = '', schema = '', key = '', first = '0', count = '0'] = process.argv.slice(2)

function edit(id: number): Uint8Array {
  const author = new Y.Doc()
  author.clientID = 100_000 + id
  author.getMap<number>('edits').set(`e${id}`, id)
  return Y.encodeStateAsUpdate(author)
}

const storage = createPostgresStorage({ connectionString, schema })
const store = await storage.open(key)
for (let i = 0; i < Number(count); i += 2) {
  const ids = [Number(first) + i, Number(first) + i + 1]
  await Promise.all(ids.map(async (id) => {
    await store.append(edit(id))
    process.stdout.write(`acked ${id}\n`)
  }))
}
await store.close()
await storage.close()
