/**
 * Signing and verifying update envelopes. The signature covers the envelope's canonical body
 * bytes behind a domain tag, so an envelope signature can never be mistaken for a record
 * signature (or the other way round) even over the same bytes.
 * @module
 */
import { encodeUtf8 } from 'lib0/string'
import { encodeEnvelopeBody, type Envelope, type EnvelopeBody } from './envelope-codec'

/** The domain tag in front of every signed envelope body. */
export const ENVELOPE_SIGNATURE_DOMAIN = 'cabildo/envelope/v1\n'

const domainBytes = encodeUtf8(ENVELOPE_SIGNATURE_DOMAIN)

/** Who signs envelopes: a `did:key` and its signing function (a `KeyPair` or an `Identity.keyPair`). */
export interface EnvelopeSigner {
  readonly did: string
  /** Signs `message` with the private key of `did`, giving a 64-byte Ed25519 signature. */
  sign(message: Uint8Array): Promise<Uint8Array>
}

/** Checks an Ed25519 signature of `message` by the key of `did`; must be pure and never throw for bad input. */
export type SignatureCheck = (did: string, message: Uint8Array, signature: Uint8Array) => Promise<boolean>

/** The bytes an envelope's signature covers: the domain tag, then the canonical body. */
export function envelopeSigningBytes(body: EnvelopeBody): Uint8Array {
  const bodyBytes = encodeEnvelopeBody(body)
  const out = new Uint8Array(domainBytes.length + bodyBytes.length)
  out.set(domainBytes)
  out.set(bodyBytes, domainBytes.length)
  return out
}

/** Signs an envelope body as `signer` (whose did must be the body's author). */
export async function signEnvelope(signer: EnvelopeSigner, body: Omit<EnvelopeBody, 'author'>): Promise<Envelope> {
  const full: EnvelopeBody = { ...body, author: signer.did }
  return { ...full, sig: await signer.sign(envelopeSigningBytes(full)) }
}

/** Whether an envelope's signature is its author's. */
export function verifyEnvelopeSignature(envelope: Envelope, check: SignatureCheck): Promise<boolean> {
  return check(envelope.author, envelopeSigningBytes(envelope), envelope.sig)
}
