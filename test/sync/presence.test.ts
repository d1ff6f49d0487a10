import { afterEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { createMemoryNetwork, createSpace, encodeSyncMessage, MANIFEST_DOC, type MemoryNetwork, type Space, type SyncEngine } from '../../src/index'
import { checkAwarenessUpdate, defaultAwarenessLimits } from '../../src/sync/awareness-check'
import { settle } from './sync-fixtures'

const open: Space[] = []
afterEach(async () => {
  for (const space of open.splice(0)) await space.close()
})

function space(): Space {
  const created = createSpace({ id: 'city' })
  open.push(created)
  return created
}

function names(awareness: Awareness): string[] {
  return [...awareness.getStates().values()].map((state) => String((state['user'] as { name?: string } | undefined)?.name)).sort()
}

async function pair(network: MemoryNetwork): Promise<{ a: Space; b: Space; engines: SyncEngine[] }> {
  const a = space()
  const b = space()
  const engines = [a.sync(network.transport(), { peerId: 'a', resyncEvery: 0 }), b.sync(network.transport(), { peerId: 'b', resyncEvery: 0 })]
  await settle(network, engines)
  return { a, b, engines }
}

describe('presence', () => {
  it('shares each replica\'s state with the peers of the document, whichever started first', async () => {
    const network = createMemoryNetwork({ seed: 1 })
    const { a, b, engines } = await pair(network)
    const atA = await a.presence(MANIFEST_DOC)
    atA.setLocalStateField('user', { name: 'Ana' })
    await settle(network, engines)
    // B starts looking only now: it still learns of Ana, and Ana of B.
    const atB = await b.presence(MANIFEST_DOC)
    atB.setLocalStateField('user', { name: 'Bruno' })
    await settle(network, engines)
    expect(names(atA)).toEqual(['Ana', 'Bruno'])
    expect(names(atB)).toEqual(['Ana', 'Bruno'])
    atA.setLocalStateField('user', { name: 'Ana (typing)' })
    await settle(network, engines)
    expect(names(atB)).toEqual(['Ana (typing)', 'Bruno'])
  })

  it('forgets a peer\'s states when it leaves', async () => {
    const network = createMemoryNetwork({ seed: 2 })
    const { a, b, engines } = await pair(network)
    const atA = await a.presence(MANIFEST_DOC)
    const atB = await b.presence(MANIFEST_DOC)
    atA.setLocalStateField('user', { name: 'Ana' })
    atB.setLocalStateField('user', { name: 'Bruno' })
    await settle(network, engines)
    expect(names(atB)).toEqual(['Ana', 'Bruno'])
    engines[0]?.close()
    await settle(network, engines.slice(1))
    expect(names(atB)).toEqual(['Bruno'])
  })

  it('is forwarded by a relay between peers that do not reach each other', async () => {
    const left = createMemoryNetwork({ seed: 3 })
    const right = createMemoryNetwork({ seed: 4 })
    const a = space()
    const hub = space()
    const b = space()
    const engines = [
      a.sync(left.transport(), { peerId: 'a', resyncEvery: 0 }),
      hub.sync(left.transport(), { peerId: 'hub', resyncEvery: 0, relay: true }),
      hub.sync(right.transport(), { peerId: 'hub', resyncEvery: 0, relay: true }),
      b.sync(right.transport(), { peerId: 'b', resyncEvery: 0 }),
    ]
    await hub.presence(MANIFEST_DOC)
    const atA = await a.presence(MANIFEST_DOC)
    const atB = await b.presence(MANIFEST_DOC)
    atA.setLocalStateField('user', { name: 'Ana' })
    atB.setLocalStateField('user', { name: 'Bruno' })
    for (let i = 0; i < 3; i++) {
      await settle(left, engines)
      await settle(right, engines)
    }
    expect(names(atA)).toEqual(['Ana', 'Bruno'])
    expect(names(atB)).toEqual(['Ana', 'Bruno'])
    engines[0]?.close() // Ana leaves: Bruno sees it through the relay
    for (let i = 0; i < 3; i++) {
      await settle(left, engines.slice(1))
      await settle(right, engines.slice(1))
    }
    expect(names(atB)).toEqual(['Bruno'])
  })

  it('refuses undecodable, oversized and too frequent presence without changing anything', async () => {
    const network = createMemoryNetwork({ seed: 5 })
    const { b, engines } = await pair(network)
    const atB = await b.presence(MANIFEST_DOC)
    atB.setLocalStateField('user', { name: 'Bruno' })
    await settle(network, engines)
    const attacker = new Awareness(new Y.Doc())
    attacker.setLocalStateField('user', { name: 'Mallory' })
    const valid = encodeAwarenessUpdate(attacker, [attacker.clientID])
    attacker.setLocalStateField('blob', 'x'.repeat(defaultAwarenessLimits.maxStateChars + 1))
    const oversized = encodeAwarenessUpdate(attacker, [attacker.clientID])
    attacker.destroy()
    const send = (update: Uint8Array): void => void network.inject('a', 'b', encodeSyncMessage({ type: 'awareness', doc: MANIFEST_DOC, update }))
    send(valid.slice(0, valid.length - 3)) // truncated
    send(new Uint8Array([200, 1, 2])) // a count the bytes cannot hold
    send(oversized)
    await settle(network, engines)
    expect(names(atB)).toEqual(['Bruno'])
    expect(engines[1]?.stats().presenceRefused).toBe(3)
    for (let i = 0; i < 150; i++) send(valid) // a burst above the rate limit (100 at once)
    await settle(network, engines)
    expect(names(atB)).toEqual(['Bruno', 'Mallory'])
    expect(engines[1]?.stats().presenceRefused).toBeGreaterThanOrEqual(3 + 40)
  })
})

describe('checkAwarenessUpdate', () => {
  it('accepts a real update and refuses every truncation of it', () => {
    const awareness = new Awareness(new Y.Doc())
    awareness.setLocalState({ user: { name: 'Ana', color: '#c33' }, cursor: { anchor: 3 } })
    const update = encodeAwarenessUpdate(awareness, [awareness.clientID])
    awareness.destroy()
    const checked = checkAwarenessUpdate(update)
    expect(checked.ok && checked.entries[0]?.state).toEqual({ user: { name: 'Ana', color: '#c33' }, cursor: { anchor: 3 } })
    for (let n = 0; n < update.length; n++) expect(checkAwarenessUpdate(update.slice(0, n)).ok, `cut at ${n}`).toBe(false)
  })

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const checked = checkAwarenessUpdate(bytes)
        expect(typeof checked.ok).toBe('boolean')
      }),
      { numRuns: 5000 },
    )
  })
})
