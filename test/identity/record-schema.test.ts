import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson, contentHash } from '../../src/encoding/canonical'
import { CabildoError } from '../../src/errors'
import { recordBody, recordBytes, recordHash, recordSigningBytes, type RecordBody } from '../../src/identity/record-schema'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Strings that stress the encoder: quotes, escapes, controls, non-ASCII, surrogate pairs and lone halves. */
const tricky = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
  fc.constantFrom('"', '\\', '\n', '\u0000', '\u2028', 'ñ', '✓', '😀', '\uD83D', '\uDE00', 'a\uDE00b', '</script>'),
)

const bodies = fc.record(
  {
    v: fc.oneof(fc.constant(1 as const), fc.constant(1 as const), fc.constantFrom(2, '1')),
    type: tricky,
    doc: tricky,
    author: tricky,
    clock: fc.oneof(fc.integer({ min: 1 }), fc.constantFrom(-0, 1.5, Number.MAX_SAFE_INTEGER + 2, Number.NaN)),
    payload: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom<unknown>([1, undefined], { a: undefined, b: 1 }, { d: new Date(0) }, { x: '\uD800' }, -0, 1e21)),
    at: fc.option(tricky, { nil: undefined }),
    extra: fc.option(fc.string(), { nil: undefined }),
  },
  { requiredKeys: ['v', 'type', 'doc', 'author', 'clock', 'payload'] },
) as fc.Arbitrary<RecordBody>

/** The definition: the domain tag, then canonicalJson of the body (or its error). */
function reference(body: RecordBody): { bytes: Uint8Array } | { error: string } {
  try {
    return { bytes: utf8('cabildo/record/v1\n' + canonicalJson(recordBody(body))) }
  } catch (err) {
    return { error: CabildoError.is(err, 'E_ARGUMENT') ? err.message : `not a CabildoError: ${String(err)}` }
  }
}

describe('record bytes', () => {
  it('are the domain tag and canonicalJson of the body, byte for byte, with the same errors', () => {
    let encoded = 0
    fc.assert(
      fc.property(bodies, (body) => {
        const expected = reference(body)
        let actual: { bytes: Uint8Array } | { error: string }
        try {
          actual = { bytes: recordBytes(body).signed }
        } catch (err) {
          actual = { error: CabildoError.is(err, 'E_ARGUMENT') ? err.message : `not a CabildoError: ${String(err)}` }
        }
        expect(actual).toEqual(expected)
        if ('bytes' in expected) encoded++
      }),
      { seed: 42, numRuns: 2000 },
    )
    expect(encoded).toBeGreaterThan(500)
  })

  it('share one buffer: the hashed body is the signed bytes after the tag, and the helpers agree with it', () => {
    const body: RecordBody = { v: 1, type: 'ballot', doc: 'budget/2026', author: 'did:key:z6Mk…', clock: 7, payload: { approve: ['p1'] }, at: '2026-03-04T10:00:00Z' }
    const { signed, body: bodyBytes } = recordBytes(body)
    expect(bodyBytes.buffer).toBe(signed.buffer)
    expect(new TextDecoder().decode(bodyBytes)).toBe(canonicalJson(body))
    expect(recordSigningBytes(body)).toEqual(signed)
    expect(recordHash(body)).toBe(contentHash(body))
    expect(recordHash({ ...body, sig: 'ignored' } as RecordBody)).toBe(contentHash(body))
  })
})
