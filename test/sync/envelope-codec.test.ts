import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { decodeEnvelope, encodeEnvelope, envelopeHash, sessionClientId, type Envelope } from '../../src/sync/envelope-codec'

const author = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'

function sampleEnvelope(seq = 2): Envelope {
  const doc = new Y.Doc()
  const session = new Uint8Array(16).map((_, i) => i + 1)
  doc.clientID = sessionClientId(author, session)
  doc.getMap('tickets').set('t1', 'open')
  return {
    doc: 'city/tickets.2026-11',
    author,
    session,
    seq,
    prev: seq === 1 ? new Uint8Array(0) : new Uint8Array(32).fill(7),
    update: Y.encodeStateAsUpdate(doc),
    sig: new Uint8Array(64).fill(9),
  }
}

describe('envelope codec', () => {
  it('round-trips an envelope and hashes its body', () => {
    const envelope = sampleEnvelope()
    const decoded = decodeEnvelope(encodeEnvelope(envelope))
    if (!decoded.ok) throw new Error(decoded.code)
    expect(decoded.envelope).toEqual(envelope)
    expect(decoded.hash).toBe(envelopeHash(envelope))
    // The signature is not part of the hash: the same body signed again has the same address.
    expect(envelopeHash({ ...envelope, update: envelope.update })).toBe(decoded.hash)
    expect(envelopeHash({ ...envelope, seq: 3 })).not.toBe(decoded.hash)
  })

  it('refuses every truncation and any trailing byte', () => {
    const bytes = encodeEnvelope(sampleEnvelope())
    for (let n = 0; n < bytes.length; n++) expect(decodeEnvelope(bytes.slice(0, n)).ok, `cut at ${n}`).toBe(false)
    const longer = new Uint8Array(bytes.length + 1)
    longer.set(bytes)
    expect(decodeEnvelope(longer)).toMatchObject({ ok: false, code: 'E_UPDATE_MALFORMED', reason: 'trailing bytes' })
  })

  it('refuses non-canonical encodings of the same fields', () => {
    const bytes = encodeEnvelope(sampleEnvelope())
    // The version 1 written as a two-byte varint (0x81 0x00) decodes to the same number.
    const padded = new Uint8Array(bytes.length + 1)
    padded.set([0x81, 0x00])
    padded.set(bytes.subarray(1), 2)
    expect(decodeEnvelope(padded)).toMatchObject({ ok: false, reason: 'not the canonical encoding' })
  })

  it('checks field shapes: session length, prev at seq 1, signature length, author', () => {
    const good = sampleEnvelope()
    expect(decodeEnvelope(encodeEnvelope({ ...good, session: new Uint8Array(8) })).ok).toBe(false)
    expect(decodeEnvelope(encodeEnvelope({ ...sampleEnvelope(1), prev: new Uint8Array(32) })).ok).toBe(false)
    expect(decodeEnvelope(encodeEnvelope({ ...good, prev: new Uint8Array(0) })).ok).toBe(false)
    expect(decodeEnvelope(encodeEnvelope({ ...good, sig: new Uint8Array(63) })).ok).toBe(false)
    expect(decodeEnvelope(encodeEnvelope({ ...good, author: 'mallory' })).ok).toBe(false)
    expect(decodeEnvelope(encodeEnvelope(sampleEnvelope(1))).ok).toBe(true)
  })

  it('refuses oversized input before reading it', () => {
    const bytes = encodeEnvelope(sampleEnvelope())
    expect(decodeEnvelope(bytes, { maxBytes: 16 })).toEqual({ ok: false, code: 'E_UPDATE_TOO_LARGE', size: bytes.length, limit: 16 })
  })

  it('never throws on random or bit-flipped bytes (property)', () => {
    const original = sampleEnvelope()
    const bytes = encodeEnvelope(original)
    const originalHash = envelopeHash(original)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (random) => {
        const result = decodeEnvelope(random)
        return result.ok || result.code === 'E_UPDATE_MALFORMED'
      }),
      { seed: 3, numRuns: 10_000 },
    )
    fc.assert(
      fc.property(fc.nat(bytes.length * 8 - 1), (bit) => {
        const flipped = bytes.slice()
        flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7))
        const result = decodeEnvelope(flipped)
        // A flip either breaks the encoding, or yields a different envelope (whose signature then
        // fails): never the same envelope from different bytes.
        if (!result.ok) return true
        const sameSig = result.envelope.sig.every((b, i) => b === original.sig[i])
        return result.hash !== originalHash || !sameSig
      }),
      { seed: 4, numRuns: 5_000 },
    )
  })
})

describe('sessionClientId', () => {
  it('is a stable 53-bit Yjs client id, different per session and per author', () => {
    const s1 = new Uint8Array(16).fill(1)
    const s2 = new Uint8Array(16).fill(2)
    const id = sessionClientId(author, s1)
    expect(Number.isSafeInteger(id) && id > 0).toBe(true)
    expect(sessionClientId(author, s1)).toBe(id)
    expect(sessionClientId(author, s2)).not.toBe(id)
    expect(sessionClientId(`${author}x`, s1)).not.toBe(id)
    const ids = new Set(Array.from({ length: 2000 }, (_, i) => sessionClientId(author, new Uint8Array(16).fill(0).map((_, j) => (i >> (j % 16)) & 0xff ^ j))))
    expect(ids.size).toBe(2000)
  })

  it('is a client id Yjs writes and reads back', () => {
    const id = sessionClientId(author, new Uint8Array(16).fill(5))
    const doc = new Y.Doc()
    doc.clientID = id
    doc.getText('body').insert(0, 'hi')
    const other = new Y.Doc()
    Y.applyUpdate(other, Y.encodeStateAsUpdate(doc))
    expect([...Y.decodeStateVector(Y.encodeStateVector(other)).keys()]).toEqual([id])
    expect(other.getText('body').toString()).toBe('hi')
  })
})

describe('envelope extensions (version 2)', () => {
  const checkpoint = { from: 1, last: new Uint8Array(32).fill(3) }
  const vouched = [
    { client: 17, identity: 'alice' },
    { client: 4_000_000_000_123, identity: 'bob' },
  ]

  it('writes version 1 without extensions and version 2 with them, and round-trips both sections', () => {
    expect(encodeEnvelope(sampleEnvelope())[0]).toBe(1)
    const extended: Envelope = { ...sampleEnvelope(5), prev: new Uint8Array(0), checkpoint, vouched }
    const bytes = encodeEnvelope(extended)
    expect(bytes[0]).toBe(2)
    const decoded = decodeEnvelope(bytes)
    if (!decoded.ok) throw new Error(decoded.code)
    expect(decoded.envelope).toEqual(extended)
    // The extensions are signed: they change the hash.
    expect(decoded.hash).not.toBe(envelopeHash({ ...extended, vouched: [vouched[0]!] }))
  })

  it('refuses extensions that break their rules', () => {
    const base = sampleEnvelope(5)
    const bad: Array<[string, Envelope]> = [
      ['checkpoint from after seq', { ...base, checkpoint: { from: 6, last: checkpoint.last } }],
      ['checkpoint from 0', { ...base, checkpoint: { from: 0, last: checkpoint.last } }],
      ['short last hash', { ...base, checkpoint: { from: 2, last: new Uint8Array(31) } }],
      ['prev not empty when the checkpoint starts at 1', { ...base, checkpoint }],
      ['vouched clients out of order', { ...base, vouched: [vouched[1]!, vouched[0]!] }],
      ['duplicate vouched client', { ...base, vouched: [vouched[0]!, vouched[0]!] }],
      ['empty vouched identity', { ...base, vouched: [{ client: 3, identity: '' }] }],
      ['empty vouched list', { ...base, vouched: [] }],
    ]
    for (const [what, envelope] of bad) expect(decodeEnvelope(encodeEnvelope(envelope)).ok, what).toBe(false)
  })

  it('refuses unknown flags and a version 2 envelope without any extension', () => {
    const v1 = encodeEnvelope(sampleEnvelope(5))
    const extended = encodeEnvelope({ ...sampleEnvelope(5), checkpoint: { from: 2, last: checkpoint.last } })
    const sigStart = extended.length - 65
    // Flags byte sits right after the update, before the checkpoint section (from = 2, last = 32 bytes).
    const flagsAt = sigStart - 34 - 1
    expect(extended[flagsAt]).toBe(1)
    for (const flags of [0, 4, 8]) {
      const copy = extended.slice()
      copy[flagsAt] = flags
      expect(decodeEnvelope(copy).ok, `flags ${flags}`).toBe(false)
    }
    const relabelled = v1.slice()
    relabelled[0] = 2
    expect(decodeEnvelope(relabelled).ok).toBe(false)
  })
})
