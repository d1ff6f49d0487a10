import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { runTransportTests } from '../../../src/testing/transport-tests'
import { createWebSocketTransport, type WebSocketStatusChange, type WebSocketTransport } from '../../../src/transports/websocket-transport'
import { listenWebSocketTransport, type ListeningWebSocketTransport } from '../../../src/node/relay/listen-websocket-transport'
import type { PeerId, TransportEvents } from '../../../src/transports/transport'

runTransportTests(
  'websocket (client a, server b)',
  async () => {
    const server = await listenWebSocketTransport()
    return { a: createWebSocketTransport({ url: server.url, WebSocket }), b: server.transport, teardown: () => server.close() }
  },
  { ordered: true },
)

runTransportTests(
  'websocket (server a, client b)',
  async () => {
    const server = await listenWebSocketTransport()
    return { a: server.transport, b: createWebSocketTransport({ url: server.url, WebSocket }), teardown: () => server.close() }
  },
  { ordered: true },
)

/** Resolves once `check()` holds, polling; fails after 5 s. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

function recordEvents(transport: WebSocketTransport): string[] {
  const log: string[] = []
  const events: Array<keyof TransportEvents> = ['peer', 'peer-left', 'close']
  for (const event of events) transport.on(event, (payload) => log.push(`${event}${'peerId' in payload ? `:${payload.peerId}` : ''}`))
  return log
}

describe('websocket transport', () => {
  const cleanup: Array<() => unknown> = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })

  it('announces the server gone when it stops and again when it comes back on the same port, waiting longer between each attempt', async () => {
    let server: ListeningWebSocketTransport = await listenWebSocketTransport()
    cleanup.push(() => server.close())
    server.transport.connect({ peerId: 'hub' })
    const port = server.port
    const client = createWebSocketTransport({ url: server.url, WebSocket, random: () => 0.5, reconnect: { initialDelayMs: 20, maxDelayMs: 200, jitter: 0.5 } })
    cleanup.push(() => client.close())
    const log = recordEvents(client)
    const changes: WebSocketStatusChange[] = []
    client.onStatus((change) => changes.push(change))
    client.connect({ peerId: 'north' })
    await until(() => client.status === 'open', 'the first handshake')
    expect(log).toEqual(['peer:hub'])

    await server.close()
    await until(() => changes.filter((change) => change.status === 'waiting').length >= 6, 'six failed attempts')
    expect(log).toEqual(['peer:hub', 'peer-left:hub'])
    server = await listenWebSocketTransport({ port })
    server.transport.connect({ peerId: 'hub' })
    await until(() => client.status === 'open', 'the handshake after the restart')
    expect(log).toEqual(['peer:hub', 'peer-left:hub', 'peer:hub'])

    // With a random factor of 0.5 the jitter is neutral: 20, 40, 80, 160, then capped at 200.
    const delays = changes.filter((change) => change.status === 'waiting').map((change) => change.delayMs)
    expect(delays.slice(0, 6)).toEqual([20, 40, 80, 160, 200, 200])
    expect(changes.filter((change) => change.status === 'waiting').map((change) => change.attempt).slice(0, 3)).toEqual([1, 2, 3])
    expect(changes.at(-1)).toEqual({ status: 'open', attempt: 0 })
  })

  it('spreads reconnection delays by the jitter ratio of the random source', async () => {
    const server = await listenWebSocketTransport()
    const port = server.port
    await server.close() // nothing listens: every attempt fails
    const low = createWebSocketTransport({ url: `ws://127.0.0.1:${port}`, WebSocket, random: () => 0, reconnect: { initialDelayMs: 100, maxDelayMs: 10_000, jitter: 0.3 } })
    const high = createWebSocketTransport({ url: `ws://127.0.0.1:${port}`, WebSocket, random: () => 0.999, reconnect: { initialDelayMs: 100, maxDelayMs: 10_000, jitter: 0.3 } })
    cleanup.push(() => low.close(), () => high.close())
    const delays = new Map<WebSocketTransport, number[]>([[low, []], [high, []]])
    for (const [transport, seen] of delays) transport.onStatus(({ delayMs }) => delayMs !== undefined && seen.push(delayMs))
    low.connect({ peerId: 'low' })
    high.connect({ peerId: 'high' })
    await until(() => (delays.get(low)?.length ?? 0) >= 2 && (delays.get(high)?.length ?? 0) >= 2, 'two attempts each')
    expect(delays.get(low)?.slice(0, 2)).toEqual([70, 140])
    expect(delays.get(high)?.slice(0, 2)).toEqual([130, 260])
  })

  it('reports its status and stops reconnecting once closed', async () => {
    const server = await listenWebSocketTransport()
    cleanup.push(() => server.close())
    server.transport.connect({ peerId: 'hub' })
    const client = createWebSocketTransport({ url: server.url, WebSocket })
    const statuses: string[] = []
    const off = client.onStatus(({ status }) => statuses.push(status))
    expect(client.status).toBe('idle')
    client.connect({ peerId: 'north' })
    await until(() => client.status === 'open', 'the handshake')
    client.close()
    expect(client.status).toBe('closed')
    expect(statuses).toEqual(['connecting', 'open', 'closed'])
    off()
    await until(() => server.transport.connections === 0, 'the server to see the client leave')
    expect(client.stats()).toMatchObject({ connections: 1, handshakes: 1, malformed: 0 })
  })

  it('refuses a second live connection with the same peer id (4409) and keeps the first', async () => {
    const server = await listenWebSocketTransport()
    cleanup.push(() => server.close())
    server.transport.connect({ peerId: 'hub' })
    const peers: PeerId[] = []
    server.transport.on('peer', ({ peerId }) => peers.push(peerId))
    const first = createWebSocketTransport({ url: server.url, WebSocket })
    cleanup.push(() => first.close())
    first.connect({ peerId: 'north' })
    await until(() => first.status === 'open', 'the first handshake')
    const second = createWebSocketTransport({ url: server.url, WebSocket, reconnect: { initialDelayMs: 5_000 } })
    cleanup.push(() => second.close())
    const reasons: string[] = []
    second.onStatus(({ reason }) => reason !== undefined && reasons.push(reason))
    second.connect({ peerId: 'north' })
    await until(() => reasons.length > 0, 'the second connection to be refused')
    expect(reasons[0]).toContain('4409')
    expect(peers).toEqual(['north'])
    expect(first.status).toBe('open')
  })

  it('ignores malformed frames from the server and counts them', async () => {
    const { WebSocketServer } = await import('ws')
    const raw = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'cabildo.v1' })
    cleanup.push(() => new Promise<void>((resolve) => raw.close(() => resolve())))
    await new Promise<void>((resolve) => raw.once('listening', () => resolve()))
    raw.on('connection', (socket) => {
      socket.send(new Uint8Array([1, 1, 9, 9])) // data before any hello
      socket.send('text')
      socket.send(new Uint8Array([7, 0]))
      socket.send(new Uint8Array([1, 0, 200])) // a truncated hello
      socket.send(new Uint8Array([1, 0, 3, 104, 117, 98, 0, 0])) // hello from 'hub', no metadata, no limit
      socket.send(new Uint8Array([1, 1, 42]))
    })
    const address = raw.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    const client = createWebSocketTransport({ url: `ws://127.0.0.1:${port}`, WebSocket })
    cleanup.push(() => client.close())
    const received: number[][] = []
    client.on('message', ({ from, bytes }) => from === 'hub' && received.push(Array.from(bytes)))
    client.connect({ peerId: 'north' })
    await until(() => received.length === 1, 'the one good message')
    expect(received).toEqual([[42]])
    expect(client.stats().malformed).toBe(4)
  })

  it('holds a client that says hello before the server transport connects, and announces both sides once it does', async () => {
    const server = await listenWebSocketTransport()
    cleanup.push(() => server.close())
    const client = createWebSocketTransport({ url: server.url, WebSocket })
    cleanup.push(() => client.close())
    const serverPeers: PeerId[] = []
    server.transport.on('peer', ({ peerId }) => serverPeers.push(peerId))
    client.connect({ peerId: 'north', metadata: { app: 'tickets' } })
    await until(() => server.transport.connections === 1, 'the socket')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(client.status).toBe('connecting')
    server.transport.connect({ peerId: 'hub', metadata: { role: 'hub' } })
    await until(() => client.status === 'open', 'the handshake')
    expect(serverPeers).toEqual(['north'])
  })

  it('closes a connection that never says hello (4408) and one that keeps sending bad frames (1008), counting both', async () => {
    const refused: string[] = []
    const closed: string[] = []
    const meter = { frameIn: () => undefined, frameOut: () => undefined, refused: (reason: string) => refused.push(reason), closed: (reason: string) => closed.push(reason) }
    const server = await listenWebSocketTransport({ meter, limits: { handshakeTimeoutMs: 50, maxBadFrames: 3 } })
    cleanup.push(() => server.close())
    server.transport.connect({ peerId: 'hub' })
    const closeCode = (socket: WebSocket): Promise<number> => new Promise((resolve) => socket.on('close', (code) => resolve(code)))
    const silent = new WebSocket(server.url, ['cabildo.v1'])
    expect(await closeCode(silent)).toBe(4408)
    const noisy = new WebSocket(server.url, ['cabildo.v1'])
    noisy.on('open', () => {
      noisy.send(new Uint8Array([1, 1, 0])) // data before hello
      noisy.send('text')
      noisy.send(new Uint8Array([9, 9]))
    })
    expect(await closeCode(noisy)).toBe(1008)
    await until(() => closed.length === 2, 'both closes counted')
    expect(closed).toEqual(['handshake-timeout', 'bad-frames'])
    expect(refused).toEqual(['early', 'text', 'version'])
  })

  it('keeps its messages within the limit the server announced in its hello', async () => {
    const server = await listenWebSocketTransport({ limits: { maxMessageBytes: 1_000 } })
    cleanup.push(() => server.close())
    server.transport.connect({ peerId: 'hub' })
    const received: number[] = []
    server.transport.on('message', ({ bytes }) => received.push(bytes.length))
    const client = createWebSocketTransport({ url: server.url, WebSocket })
    cleanup.push(() => client.close())
    expect(client.maxMessageBytes).toBe(16 * 1024 * 1024)
    client.connect({ peerId: 'north' })
    await until(() => client.status === 'open', 'the handshake')
    expect(client.maxMessageBytes).toBe(1_000)
    client.send('hub', new Uint8Array(1_001)) // dropped here, not sent to be refused there
    client.send('hub', new Uint8Array(1_000))
    await until(() => received.length === 1, 'the message within the limit')
    expect(received).toEqual([1_000])
    expect(client.stats().oversize).toBe(1)
    expect(client.status).toBe('open')
  })

  it('throws E_ARGUMENT for a URL that is not ws: or wss:', () => {
    expect(() => createWebSocketTransport({ url: 'http://127.0.0.1:1', WebSocket })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    expect(() => createWebSocketTransport({ url: 'not a url', WebSocket })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
  })
})
