import { describe, expect, it } from 'vitest'
import { CabildoError } from '../../src/errors'
import {
  generateKeyPair,
  keyPairFromJwk,
  keyPairFromSeed,
  publicKeyFromJwk,
  publicKeyToJwk,
} from '../../src/identity/keys'
import { hex, rfc8032, rfc8037Jwk } from './fixtures'

const backends = ['noble', 'webcrypto'] as const

async function expectKeyError(promise: Promise<unknown> | (() => unknown)): Promise<CabildoError<'E_KEY'>> {
  let caught: unknown
  try {
    await (typeof promise === 'function' ? promise() : promise)
  } catch (err) {
    caught = err
  }
  expect(CabildoError.is(caught, 'E_KEY')).toBe(true)
  return caught as CabildoError<'E_KEY'>
}

describe('key pairs', () => {
  for (const backend of backends) {
    it(`${backend}: JWK and raw-seed exports round-trip to the same key, did and signatures`, async () => {
      const key = await generateKeyPair({ backend })
      expect(key.backend).toBe(backend)
      const fromJwk = await keyPairFromJwk(key.exportJwk(), { backend })
      const fromSeed = await keyPairFromSeed(key.exportSeed(), { backend })
      const message = new TextEncoder().encode('hola')
      const sig = await key.sign(message)
      for (const copy of [fromJwk, fromSeed]) {
        expect(copy.did).toBe(key.did)
        expect(copy.publicKey).toEqual(key.publicKey)
        expect(await copy.sign(message)).toEqual(sig)
      }
      expect(publicKeyFromJwk(key.publicJwk())).toEqual(key.publicKey)
      expect(publicKeyFromJwk(key.exportJwk())).toEqual(key.publicKey)
    })

    it(`${backend}: imports the RFC 8037 example JWK as the RFC 8032 TEST 1 key`, async () => {
      const key = await keyPairFromJwk({ ...rfc8037Jwk, kid: 'ignored', use: 'sig' }, { backend })
      expect(Buffer.from(key.publicKey).toString('hex')).toBe(rfc8032[0].publicKey)
      expect(key.exportJwk()).toEqual(rfc8037Jwk)
      expect(Buffer.from(await key.sign(new Uint8Array())).toString('hex')).toBe(rfc8032[0].signature)
    })
  }

  it('keys made on either backend are the same key', async () => {
    const seed = hex(rfc8032[2].seed)
    const [a, b] = await Promise.all(backends.map((backend) => keyPairFromSeed(seed, { backend })))
    expect(a?.did).toBe(b?.did)
    expect(a?.exportJwk()).toEqual(b?.exportJwk())
  })

  it('never shows the seed in JSON, and hands out copies of its bytes', async () => {
    const key = await keyPairFromJwk(rfc8037Jwk)
    expect(JSON.stringify(key)).toBe(JSON.stringify({ did: key.did }))
    key.publicKey.fill(0)
    key.exportSeed().fill(0)
    expect(key.exportJwk()).toEqual(rfc8037Jwk)
  })

  it('rejects seeds that are not 32 bytes with E_KEY', async () => {
    await expectKeyError(keyPairFromSeed(new Uint8Array(31)))
    await expectKeyError(keyPairFromSeed(new Uint8Array(33)))
    await expectKeyError(keyPairFromSeed([...new Uint8Array(32)] as unknown as Uint8Array))
  })

  it('rejects malformed or inconsistent JWKs with E_KEY, naming the member at fault', async () => {
    const { d, x } = rfc8037Jwk
    const otherX = publicKeyToJwk(hex(rfc8032[1].publicKey)).x
    const cases: Array<[unknown, string]> = [
      [null, ''],
      ['{"kty":"OKP"}', ''],
      [{ ...rfc8037Jwk, kty: 'EC' }, 'kty'],
      [{ ...rfc8037Jwk, crv: 'X25519' }, 'crv'],
      [{ kty: 'OKP', crv: 'Ed25519', d }, 'x'],
      [{ kty: 'OKP', crv: 'Ed25519', x }, 'd'], // a public key cannot sign
      [{ ...rfc8037Jwk, d: d + '=' }, 'd'], // padding
      [{ ...rfc8037Jwk, d: d.slice(0, -1) + 'B' }, 'd'], // non-zero trailing bits
      [{ ...rfc8037Jwk, d: d.slice(0, -2) }, 'd'], // 31 bytes
      [{ ...rfc8037Jwk, d: d.replace('_', '/') }, 'd'], // base64, not base64url
      [{ ...rfc8037Jwk, x: otherX }, 'x'], // x is another key's
    ]
    for (const [jwk, member] of cases) {
      const err = await expectKeyError(keyPairFromJwk(jwk))
      if (member) expect(err.path).toEqual([member])
    }
  })

  it('rejects a public JWK whose x is not a usable key (small order) with E_KEY', async () => {
    const smallOrder = publicKeyToJwk(hex('0100000000000000000000000000000000000000000000000000000000000000'))
    await expectKeyError(() => publicKeyFromJwk(smallOrder))
    await expectKeyError(() => publicKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }))
  })
})
