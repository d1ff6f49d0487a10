import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CabildoError } from '../../src/errors'
import { decodeBase58btc, encodeBase58btc } from '../../src/identity/base58btc'
import { base58Reference, didKeyVectors } from './fixtures'

describe('base58btc', () => {
  it('decodes the W3C did:key vectors as an independent big-integer decoder does', () => {
    for (const v of didKeyVectors) {
      expect(decodeBase58btc(v.publicKeyBase58)).toEqual(base58Reference(v.publicKeyBase58))
      expect(decodeBase58btc(v.did.slice('did:key:z'.length))).toEqual(base58Reference(v.did.slice('did:key:z'.length)))
    }
  })

  it('encodes leading zero bytes as leading 1s and the empty input as the empty string', () => {
    expect(encodeBase58btc(new Uint8Array([]))).toBe('')
    expect(encodeBase58btc(new Uint8Array([0, 0]))).toBe('11')
    expect(encodeBase58btc(new Uint8Array([0, 0, 0x39]))).toBe('11z') // 57 is the last digit
    expect(encodeBase58btc(new Uint8Array([0x3a]))).toBe('21') // 58 = "10" in base 58
  })

  it('round-trips any bytes, and decoding agrees with the reference decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = encodeBase58btc(bytes)
        expect(decodeBase58btc(text)).toEqual(bytes)
        expect(decodeBase58btc(text)).toEqual(base58Reference(text))
      }),
      { seed: 42, numRuns: 300 },
    )
  })

  it('rejects characters outside the alphabet (0, O, I, l) with E_ARGUMENT', () => {
    for (const bad of ['0', 'O', 'I', 'l', 'abc+']) {
      expect(() => decodeBase58btc(bad)).toThrow(CabildoError)
      try {
        decodeBase58btc(bad)
      } catch (err) {
        expect(CabildoError.is(err, 'E_ARGUMENT')).toBe(true)
      }
    }
  })

  it('decodes any text over the alphabet as the reference decoder does, leading 1s included', () => {
    const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet, '1', '1'), maxLength: 90 }), (text) => {
        expect(decodeBase58btc(text)).toEqual(base58Reference(text))
      }),
      { seed: 42, numRuns: 500 },
    )
  })
})
