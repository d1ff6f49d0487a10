import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeFrame, encodeDataFrame, encodeHelloFrame, HELLO_LIMITS } from '../../../src/transports/websocket-frames'

const seed = Number(process.env.SEED ?? 1)

describe(`websocket frames (rerun: SEED=${seed} npx vitest run test/node/relay/websocket-frames.test.ts)`, () => {
  it('reads back every hello and data frame it writes', () => {
    const peer = fc.record({
      peerId: fc.string({ minLength: 1, maxLength: 40 }),
      metadata: fc.option(fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 50 }), { maxKeys: 5 }), { nil: undefined }),
    })
    fc.assert(
      fc.property(peer, fc.uint8Array({ maxLength: 300 }), ({ peerId, metadata }, bytes) => {
        const info = metadata === undefined || Object.keys(metadata).length === 0 ? { peerId } : { peerId, metadata }
        expect(decodeFrame(encodeHelloFrame(info))).toEqual({ ok: true, frame: { type: 'hello', peer: info, maxMessageBytes: undefined } })
        expect(decodeFrame(encodeHelloFrame(info, 4096))).toEqual({ ok: true, frame: { type: 'hello', peer: info, maxMessageBytes: 4096 } })
        const data = decodeFrame(encodeDataFrame(bytes))
        expect(data.ok && data.frame.type === 'data' ? Array.from(data.frame.bytes) : undefined).toEqual(Array.from(bytes))
      }),
      { seed, numRuns: 300 },
    )
  })

  it('never throws on arbitrary or truncated bytes, and refuses every truncation of a hello', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const decoded = decodeFrame(bytes)
        expect(typeof decoded.ok).toBe('boolean')
      }),
      { seed, numRuns: 2_000 },
    )
    const hello = encodeHelloFrame({ peerId: 'north', metadata: { app: 'tickets', version: '2' } }, 1 << 20)
    for (let length = 0; length < hello.length; length++) expect(decodeFrame(hello.slice(0, length)).ok, `${length} bytes`).toBe(false)
    expect(decodeFrame(Uint8Array.from([...hello, 0])).ok).toBe(false) // trailing bytes
  })

  it('refuses frames of another version, of an unknown type, and hellos beyond the limits or not UTF-8', () => {
    expect(decodeFrame(new Uint8Array([2, 1, 5]))).toMatchObject({ ok: false, refusal: 'version' })
    expect(decodeFrame(new Uint8Array([1, 9]))).toMatchObject({ ok: false, refusal: 'type' })
    expect(decodeFrame(new Uint8Array([1]))).toMatchObject({ ok: false, refusal: 'malformed' })
    expect(decodeFrame(encodeHelloFrame({ peerId: 'x'.repeat(HELLO_LIMITS.maxPeerIdChars + 1) }))).toMatchObject({ ok: false, refusal: 'hello' })
    const many = Object.fromEntries(Array.from({ length: HELLO_LIMITS.maxMetadataEntries + 1 }, (_, i) => [`k${i}`, 'v']))
    expect(decodeFrame(encodeHelloFrame({ peerId: 'north', metadata: many }))).toMatchObject({ ok: false, refusal: 'hello' })
    expect(decodeFrame(new Uint8Array([1, 0, 2, 0xc3, 0x28, 0]))).toMatchObject({ ok: false, refusal: 'hello', reason: 'peer id: not UTF-8' })
    expect(decodeFrame(new Uint8Array([1, 0, 0, 0]))).toMatchObject({ ok: false, refusal: 'hello', reason: 'peer id: empty' })
  })
})
