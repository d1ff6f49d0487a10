import { describe, expect, it } from 'vitest'
import { createListenerSet } from '../../src/transports/listener-set'

interface Events {
  ping: number
  pong: string
}

describe('createListenerSet', () => {
  it('calls listeners in subscription order, and treats a function subscribed twice as two subscriptions', () => {
    const listeners = createListenerSet<Events>()
    const calls: string[] = []
    const listener = (n: number): void => void calls.push(`x${n}`)
    listeners.on('ping', listener)
    listeners.on('ping', (n) => calls.push(`y${n}`))
    const off = listeners.on('ping', listener)
    listeners.emit('ping', 1)
    off()
    listeners.emit('ping', 2)
    listeners.emit('pong', 'ignored by ping listeners')
    expect(calls).toEqual(['x1', 'y1', 'x1', 'x2', 'y2'])
    expect(listeners.count('ping')).toBe(2)
  })

  it('does not call a listener removed during an emit, nor one added during it', () => {
    const listeners = createListenerSet<Events>()
    const calls: string[] = []
    let offSecond = (): void => {}
    listeners.on('ping', () => {
      calls.push('first')
      offSecond()
      listeners.on('ping', () => calls.push('added'))
    })
    offSecond = listeners.on('ping', () => calls.push('second'))
    listeners.emit('ping', 0)
    expect(calls).toEqual(['first'])
  })

  it('reports a throwing listener through reportError and keeps calling the others', () => {
    const listeners = createListenerSet<Events>()
    const reported: unknown[] = []
    const original = globalThis.reportError
    globalThis.reportError = (error: unknown) => reported.push(error)
    try {
      const failure = new Error('bug')
      const calls: number[] = []
      listeners.on('ping', () => {
        throw failure
      })
      listeners.on('ping', (n) => calls.push(n))
      expect(() => listeners.emit('ping', 3)).not.toThrow()
      expect(calls).toEqual([3])
      expect(reported).toEqual([failure])
    } finally {
      if (original === undefined) Reflect.deleteProperty(globalThis, 'reportError')
      else globalThis.reportError = original
    }
  })

  it('clear() removes every listener, even for an emit in progress', () => {
    const listeners = createListenerSet<Events>()
    const calls: string[] = []
    listeners.on('ping', () => {
      calls.push('first')
      listeners.clear()
    })
    listeners.on('ping', () => calls.push('second'))
    listeners.emit('ping', 0)
    listeners.emit('ping', 0)
    expect(calls).toEqual(['first'])
    expect(listeners.count('ping')).toBe(0)
  })
})
