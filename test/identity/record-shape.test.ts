import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { didFromPublicKey } from '../../src/identity/did-key'
import { keyPairFromJwk } from '../../src/identity/keys'
import { signedRecordSchema, type SignedRecord } from '../../src/identity/record-schema'
import { readSignedRecord } from '../../src/identity/record-shape'
import { signRecord } from '../../src/identity/signed-record'
import { rfc8037Jwk } from './fixtures'

let record: SignedRecord

beforeAll(async () => {
  const key = await keyPairFromJwk(rfc8037Jwk, { backend: 'noble' })
  record = await signRecord(key, {
    type: 'ballot',
    doc: 'budget/2026',
    clock: 3,
    payload: { approve: ['p1', 'p4'] },
    at: '2026-03-04T10:00:00Z',
  })
})

/** Values that sit on or near the schema's boundaries, for every member. */
const edgeList: readonly unknown[] = [
  undefined, null, 0, -0, 1, 1.5, -1, 2, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1, '1', '', 'a', 'x'.repeat(100), 'x'.repeat(101), 'x'.repeat(200), 'x'.repeat(201),
  true, [], {}, new Date(0), 1n,
  '2026-03-04T10:00:00Z', '2026-03-04T10:00:00.123+02:00', '2026-03-04T10:00:00', '2026-03-04', '2026-13-04T10:00:00Z',
  'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2do',
  // The did:key pattern, but values that are not 0xed01 followed by 32 bytes.
  'did:key:z6Mk' + 'z'.repeat(44), 'did:key:z6Mk' + '1'.repeat(44),
  didFromPublicKey(new Uint8Array(32).fill(9)),
  'A'.repeat(86), 'A'.repeat(85) + 'B', 'A'.repeat(85) + 'w', 'A'.repeat(87), '+'.repeat(86),
]
const edgeValues = fc.oneof(
  fc.constantFrom(...edgeList),
  fc.string({ maxLength: 3 }),
  fc.integer(),
  fc.double(),
)

const members = ['v', 'type', 'doc', 'author', 'clock', 'payload', 'at', 'sig', 'extra', '__proto__', 'toString'] as const

/** A valid record with a few members replaced, deleted or added. */
const mutated = fc
  .array(fc.tuple(fc.constantFrom(...members), fc.oneof(edgeValues, fc.constant('<delete>'))), { maxLength: 3 })
  .map((changes) => {
    const copy: Record<string, unknown> = { ...record }
    for (const [member, value] of changes) {
      if (value === '<delete>') delete copy[member]
      else Object.defineProperty(copy, member, { value, enumerable: true, configurable: true, writable: true })
    }
    return copy
  })

describe('readSignedRecord (the fast twin of signedRecordSchema)', () => {
  it('accepts exactly what the zod schema accepts when any one member is replaced by any edge value, or deleted', () => {
    for (const member of members) {
      for (const value of [...edgeList, '<delete>']) {
        const copy: Record<string, unknown> = { ...record }
        if (value === '<delete>') delete copy[member]
        else Object.defineProperty(copy, member, { value, enumerable: true, configurable: true, writable: true })
        expect([member, value, readSignedRecord(copy) !== undefined]).toEqual([member, value, signedRecordSchema.safeParse(copy).success])
      }
    }
  })

  it('accepts exactly what the zod schema accepts, on mutated records and arbitrary values', () => {
    let accepted = 0
    fc.assert(
      fc.property(fc.oneof(mutated, mutated, fc.anything()), (value) => {
        const fast = readSignedRecord(value)
        const zod = signedRecordSchema.safeParse(value)
        expect(fast !== undefined).toBe(zod.success)
        if (fast !== undefined && zod.success) {
          accepted++
          expect(fast).toEqual(zod.data) // the same fields, read once into a fresh object
          expect(fast).not.toBe(value)
        }
      }),
      { seed: 42, numRuns: 3000 },
    )
    expect(accepted).toBeGreaterThan(100) // both answers were exercised
  })

  it('treats objects as zod does: class instances and null prototypes count, inherited enumerable members do too', () => {
    class Holder {
      constructor(source: SignedRecord) {
        Object.assign(this, source)
      }
    }
    const nullProto = Object.assign(Object.create(null) as object, record)
    const inherited = Object.create({ extra: 1 }) as Record<string, unknown>
    Object.assign(inherited, record)
    const inheritedField = Object.create({ payload: { approve: [] } }) as Record<string, unknown>
    Object.assign(inheritedField, { ...record, payload: undefined })
    delete inheritedField.payload
    for (const value of [new Holder(record), nullProto, inherited, inheritedField, [record], Object.assign([], record)]) {
      expect(readSignedRecord(value) !== undefined).toBe(signedRecordSchema.safeParse(value).success)
    }
  })

  it('asks the author test it is given, so a verifier can answer it from its cache', () => {
    expect(readSignedRecord(record, () => false)).toBeUndefined()
    expect(readSignedRecord({ ...record, author: 'anything' }, () => true)).toBeDefined()
  })
})
