/** Helpers of the plain y-websocket tests: a bare `ws` server that hands connections to a plain handler, and y-websocket clients. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocket, WebSocketServer } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import type { Space } from '../../../src/sync/space'
import type { PlainRoomHandler } from '../../../src/node/relay/plain-handler'

/** A bare server: `/<space>/<shard>?identity=..&access=..` → `handler.handle`, with the query standing in for an auth hook. */
export interface PlainServer {
  readonly url: string
  close(): Promise<void>
}

/** Starts a server on 127.0.0.1 (a free port) that gives every connection to `handler`, with the Space `spaceOf` returns. */
export async function plainServer(handler: PlainRoomHandler, spaceOf: (spaceId: string) => Space): Promise<PlainServer> {
  const http: Server = createServer()
  const wss = new WebSocketServer({ server: http })
  wss.on('connection', (socket, request) => {
    const url = new URL(request.url ?? '/', 'http://local')
    const [spaceId = '', ...rest] = url.pathname.split('/').slice(1).map(decodeURIComponent)
    const identity = url.searchParams.get('identity') ?? undefined
    const access = url.searchParams.get('access') === 'read' ? 'read' : 'read-write'
    handler.handle({ socket, spaceId, shard: rest.join('/'), identity, access }, spaceOf(spaceId))
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}`,
    async close() {
      for (const client of wss.clients) client.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}

/** A y-websocket client of one room, with its own Y.Doc. */
export interface PlainClient {
  readonly doc: Y.Doc
  readonly provider: WebsocketProvider
  /** Close codes the server sent, in order. */
  readonly closeCodes: number[]
  destroy(): void
}

/** Connects a `WebsocketProvider` (no BroadcastChannel: only the server connects clients). */
export function plainClient(url: string, room: string, params: Record<string, string>, doc = new Y.Doc()): PlainClient {
  const provider = new WebsocketProvider(url, room, doc, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, params, disableBc: true, maxBackoffTime: 100 })
  const closeCodes: number[] = []
  provider.on('connection-close', (event) => {
    if (event) closeCodes.push(event.code)
  })
  return {
    doc,
    provider,
    closeCodes,
    destroy() {
      provider.destroy()
      provider.awareness.destroy()
    },
  }
}

/** Resolves once `check()` holds (checked again every 10 ms); fails after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** A raw WebSocket to a room, open. */
export async function rawSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url)
  socket.binaryType = 'arraybuffer'
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
  })
  return socket
}

/** The close code a socket ends with. */
export function closed(socket: WebSocket): Promise<number> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve(-1)
  return new Promise((resolve) => socket.once('close', (code) => resolve(code)))
}
