/**
 * A minimal server of the standard y-websocket protocol (sync = 0, awareness = 1), standing for
 * "an existing y-websocket server": one Y.Doc per room named by the URL path, every change sent
 * to every connection of the room. Independent of cabildo's relay. Rooms live in `docs`, which a
 * restarted server can be given again.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import { WebSocket, WebSocketServer } from 'ws'
import * as Y from 'yjs'

const messageSync = 0
const messageAwareness = 1

/** A running server. */
export interface YWebsocketServer {
  readonly url: string
  readonly port: number
  /** The rooms' documents, by room name. */
  readonly docs: Map<string, Y.Doc>
  /** Sends raw bytes to every connection of `room` (for hostile-server tests). */
  inject(room: string, bytes: Uint8Array): void
  /** How many connections `room` has. */
  connections(room: string): number
  /** Closes every connection and the server; `docs` are kept. */
  close(): Promise<void>
}

interface Room {
  readonly doc: Y.Doc
  readonly awareness: awarenessProtocol.Awareness
  /** Each connection and the awareness client ids it sent. */
  readonly conns: Map<WebSocket, Set<number>>
  readonly close: () => void
}

function send(conn: WebSocket, bytes: Uint8Array): void {
  if (conn.readyState === WebSocket.OPEN) conn.send(bytes)
}

function message(type: number, write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, type)
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/** Starts a server on 127.0.0.1 (`port` 0: a free one). */
export async function startYWebsocketServer(options: { port?: number; docs?: Map<string, Y.Doc> } = {}): Promise<YWebsocketServer> {
  const docs = options.docs ?? new Map<string, Y.Doc>()
  const rooms = new Map<string, Room>()
  const roomOf = (name: string): Room => {
    let room = rooms.get(name)
    if (room !== undefined) return room
    let doc = docs.get(name)
    if (doc === undefined) docs.set(name, (doc = new Y.Doc()))
    const awareness = new awarenessProtocol.Awareness(doc)
    awareness.setLocalState(null)
    const conns = new Map<WebSocket, Set<number>>()
    const onUpdate = (update: Uint8Array): void => {
      const bytes = message(messageSync, (e) => syncProtocol.writeUpdate(e, update))
      for (const conn of conns.keys()) send(conn, bytes)
    }
    doc.on('update', onUpdate)
    awareness.on('update', ({ added, updated, removed }: Record<'added' | 'updated' | 'removed', number[]>, origin: unknown) => {
      const own = conns.get(origin as WebSocket)
      for (const client of [...added, ...updated]) own?.add(client)
      const bytes = message(messageAwareness, (e) => encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(awareness, [...added, ...updated, ...removed])))
      for (const conn of conns.keys()) send(conn, bytes)
    })
    const created: Room = {
      doc,
      awareness,
      conns,
      close: () => {
        doc.off('update', onUpdate)
        awareness.destroy()
      },
    }
    rooms.set(name, (room = created))
    return room
  }

  const http = createServer()
  const wss = new WebSocketServer({ server: http })
  wss.on('connection', (conn, request) => {
    const room = roomOf(decodeURIComponent(new URL(request.url ?? '/', 'http://local').pathname.slice(1)))
    room.conns.set(conn, new Set())
    conn.on('message', (data: Buffer) => {
      const decoder = decoding.createDecoder(new Uint8Array(data))
      const encoder = encoding.createEncoder()
      const type = decoding.readVarUint(decoder)
      if (type === messageSync) {
        encoding.writeVarUint(encoder, messageSync)
        syncProtocol.readSyncMessage(decoder, encoder, room.doc, conn)
        if (encoding.length(encoder) > 1) send(conn, encoding.toUint8Array(encoder))
      } else if (type === messageAwareness) {
        awarenessProtocol.applyAwarenessUpdate(room.awareness, decoding.readVarUint8Array(decoder), conn)
      }
    })
    conn.on('close', () => {
      const clients = room.conns.get(conn) ?? new Set()
      room.conns.delete(conn)
      awarenessProtocol.removeAwarenessStates(room.awareness, [...clients], null)
    })
    send(conn, message(messageSync, (e) => syncProtocol.writeSyncStep1(e, room.doc)))
    if (room.awareness.getStates().size > 0) {
      send(conn, message(messageAwareness, (e) => encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(room.awareness, [...room.awareness.getStates().keys()]))))
    }
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(options.port ?? 0, '127.0.0.1', resolve)
  })
  const { port } = http.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    docs,
    inject(name, bytes) {
      for (const conn of rooms.get(name)?.conns.keys() ?? []) send(conn, bytes)
    },
    connections(name) {
      return rooms.get(name)?.conns.size ?? 0
    },
    async close() {
      for (const conn of wss.clients) conn.terminate()
      for (const room of rooms.values()) room.close()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
