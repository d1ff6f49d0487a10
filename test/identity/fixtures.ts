/**
 * External test vectors for the identity layer, copied from their specifications (never computed
 * by cabildo's code).
 */

/** RFC 8032, section 7.1, TEST 1–3: seed, public key, message, signature (hex). */
export const rfc8032 = [
  {
    name: 'TEST 1',
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
] as const

/** RFC 8037, appendix A.1/A.2: the RFC 8032 TEST 1 key as a JWK. */
export const rfc8037Jwk = {
  kty: 'OKP',
  crv: 'Ed25519',
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
} as const

/**
 * W3C CCG did:key test vectors (repository w3c-ccg/did-method-key, test-vectors/ed25519-x25519.json):
 * seed → did and the public key in base58btc (`publicKeyBase58`).
 */
export const didKeyVectors = [
  {
    seed: '0000000000000000000000000000000000000000000000000000000000000000',
    did: 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp',
    publicKeyBase58: '4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS',
  },
  {
    seed: '0000000000000000000000000000000000000000000000000000000000000001',
    did: 'did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG',
    publicKeyBase58: '6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt',
  },
  {
    seed: '0000000000000000000000000000000000000000000000000000000000000002',
    did: 'did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf',
    publicKeyBase58: '8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH',
  },
  {
    seed: '0000000000000000000000000000000000000000000000000000000000000003',
    did: 'did:key:z6MkvqoYXQfDDJRv8L4wKzxYeuKyVZBfi9Qo6Ro8MiLH3kDQ',
    publicKeyBase58: 'HPYVwAQmskwT1qEEeRzhoomyfyupJGASQQtCXSNG8XS2',
  },
  {
    seed: '0000000000000000000000000000000000000000000000000000000000000004',
    did: 'did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL',
    publicKeyBase58: 'J3qYF7YJMKCqQke47UQwiHizgFUXapHxRxKmxbkar89x',
  },
] as const

/** The did:key specification's example: the did and the JWK `x` of its key. */
export const didKeySpecExample = {
  did: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
  x: 'Lm_M42cB3HkUiODQsXRcweM6TByfzEHGO9ND274JcOY',
} as const

/** Hex to bytes (Node's own decoder, independent of cabildo). */
export function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'))
}

/**
 * Base58btc decoding by big-integer arithmetic: a second, independent implementation to check
 * the library's codec against the vectors.
 */
export function base58Reference(text: string): Uint8Array {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  let n = 0n
  for (const c of text) {
    const d = alphabet.indexOf(c)
    if (d < 0) throw new Error(`bad base58 character ${c}`)
    n = n * 58n + BigInt(d)
  }
  const bytes: number[] = []
  while (n > 0n) {
    bytes.unshift(Number(n & 255n))
    n >>= 8n
  }
  let zeros = 0
  while (text[zeros] === '1') zeros++
  return new Uint8Array([...new Array<number>(zeros).fill(0), ...bytes])
}

/**
 * A signature valid only under the cofactored Ed25519 equation: `R = rB + T` with `T` of order 8,
 * `S = r + k·a`. The key's owner can make one for any message; cabildo must reject it everywhere.
 * Built with node:crypto SHA-512 and noble point arithmetic, independently of cabildo's code.
 */
export async function forgeCofactoredOnlySignature(seedHex: string, message: Uint8Array): Promise<Uint8Array> {
  const { ed25519 } = await import('@noble/curves/ed25519.js')
  const { createHash } = await import('node:crypto')
  const P = ed25519.Point
  const L = P.Fn.ORDER
  const le = (b: Uint8Array): bigint => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n)
  const le32 = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 255n))
  const sha512 = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(createHash('sha512').update(Buffer.concat(parts)).digest())
  const h = sha512(hex(seedHex)).slice(0, 32)
  h[0] = (h[0] as number) & 248
  h[31] = ((h[31] as number) & 127) | 64
  const a = le(h) % L
  const A = P.BASE.multiply(a).toBytes()
  const T = P.fromBytes(hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'))
  const r = le(sha512(message, new Uint8Array([1]))) % L
  const R = P.BASE.multiply(r).add(T).toBytes()
  const k = le(sha512(R, A, message)) % L
  return new Uint8Array([...R, ...le32((r + k * a) % L)])
}
