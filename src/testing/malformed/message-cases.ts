/**
 * Malformed sync-protocol messages and file bundles, built from genuine ones: what a peer can
 * send to a sync engine's transport listener, and what a file handed over between districts
 * can hold.
 *
 * ```ts
 * import { malformedBundles, malformedSyncMessages } from 'cabildo/testing'
 * for (const c of malformedSyncMessages({ random, genuine })) network.inject('mallory', 'north', c.input)
 * for (const c of malformedBundles({ random, genuine: bundle, spaceId: 'city', envelopes })) await importBundle(space, c.input).catch(check)
 * ```
 * @module
 */
import * as encoding from 'lib0/encoding'
import { digest } from 'lib0/hash/sha256'
import { encodeBundle, BUNDLE_MAGIC } from '../../sync/bundle'
import { MANIFEST_DOC } from '../../sync/shard-set'
import { SYNC_PROTOCOL_VERSION, SyncMessageType } from '../../sync/sync-protocol'
import type { SeededRandom } from '../../transports/seeded-random'
import { bitFlips, byteEdits, concat, randomBytes, truncations, type MalformedCase } from './byte-mutations'

/** Options of {@link malformedSyncMessages}. */
export interface MalformedMessageOptions {
  readonly random: SeededRandom
  /** Genuine messages (hello, heads, want, envelopes). */
  readonly genuine: readonly Uint8Array[]
  /** Bit flips and byte edits per genuine message (default 100). */
  readonly flips?: number
}

function message(type: number, write: (encoder: encoding.Encoder) => void, version = SYNC_PROTOCOL_VERSION): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, version)
  encoding.writeVarUint(encoder, type)
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/**
 * Malformed protocol messages: truncations, bit flips and byte edits of genuine ones, random
 * bytes, and crafted ones (unknown type or version, counts of a billion entries, an author index
 * out of range, a sequence number 0, invalid UTF-8, a document name over its limit, trailing
 * bytes). A bit flip may also give another well-formed message (a different hash in `heads`):
 * the engine must then answer it like any message, without harm.
 */
export function malformedSyncMessages(options: MalformedMessageOptions): Array<MalformedCase<Uint8Array>> {
  const { random, genuine, flips = 100 } = options
  const cases: Array<MalformedCase<Uint8Array>> = []
  genuine.forEach((bytes, i) => {
    const label = `message ${i}`
    cases.push(...truncations(bytes, 128, label), ...bitFlips(bytes, random, flips, label), ...byteEdits(bytes, random, flips / 2, label))
    cases.push({ family: 'trailing', name: `${label} and a trailing byte`, input: concat(bytes, Uint8Array.of(0)) })
  })
  cases.push(...randomBytes(random, 300, 80))
  const doc = (encoder: encoding.Encoder): void => encoding.writeVarString(encoder, MANIFEST_DOC)
  const crafted: Array<[string, Uint8Array]> = [
    ['an unknown message type', message(9, doc)],
    ['protocol version 2', message(SyncMessageType.hello, (e) => encoding.writeVarString(e, 'city'), 2)],
    ['a hello with an empty space id', message(SyncMessageType.hello, (e) => { encoding.writeVarString(e, ''); encoding.writeVarUint(e, 0) })],
    ['a hello with flags 7', message(SyncMessageType.hello, (e) => { encoding.writeVarString(e, 'city'); encoding.writeVarUint(e, 7) })],
    ['envelopes announcing a billion entries', message(SyncMessageType.envelopes, (e) => { doc(e); encoding.writeVarUint(e, 1_000_000_000) })],
    ['heads announcing a billion authors', message(SyncMessageType.heads, (e) => { doc(e); encoding.writeVarUint(e, 0); encoding.writeVarUint(e, 1_000_000_000) })],
    ['wants announcing 2^53 entries', message(SyncMessageType.want, (e) => { doc(e); encoding.writeVarUint(e, Number.MAX_SAFE_INTEGER) })],
    ['an envelope whose length runs past the end', message(SyncMessageType.envelopes, (e) => { doc(e); encoding.writeVarUint(e, 1); encoding.writeVarUint(e, 1 << 30) })],
    ['heads with an author index out of range', message(SyncMessageType.heads, (e) => {
      doc(e); encoding.writeVarUint(e, 0); encoding.writeVarUint(e, 0); encoding.writeVarUint(e, 1); encoding.writeVarUint(e, 5)
      encoding.writeVarUint8Array(e, new Uint8Array(16)); encoding.writeVarUint(e, 1); encoding.writeVarUint8Array(e, new Uint8Array(32))
    })],
    ['heads with sequence number 0', message(SyncMessageType.heads, (e) => {
      doc(e); encoding.writeVarUint(e, 0); encoding.writeVarUint(e, 1); encoding.writeVarString(e, 'did:key:z6Mk'); encoding.writeVarUint(e, 1); encoding.writeVarUint(e, 0)
      encoding.writeVarUint8Array(e, new Uint8Array(16)); encoding.writeVarUint(e, 0); encoding.writeVarUint8Array(e, new Uint8Array(32))
    })],
    ['a doc name of invalid UTF-8', message(SyncMessageType.want, (e) => { encoding.writeVarUint8Array(e, Uint8Array.of(0xc3, 0x28, 0xff)); encoding.writeVarUint(e, 0) })],
    ['a doc name of 10,000 characters', message(SyncMessageType.want, (e) => { encoding.writeVarString(e, 'x'.repeat(10_000)); encoding.writeVarUint(e, 0) })],
    ['a session of 15 bytes in a want', message(SyncMessageType.want, (e) => { doc(e); encoding.writeVarUint(e, 1); encoding.writeVarString(e, 'did:key:z6Mk'); encoding.writeVarUint8Array(e, new Uint8Array(15)); encoding.writeVarUint(e, 0) })],
  ]
  for (const [name, input] of crafted) cases.push({ family: 'crafted', name, input })
  return cases
}

/** Options of {@link malformedBundles}. */
export interface MalformedBundleOptions {
  readonly random: SeededRandom
  /** A genuine bundle. */
  readonly genuine: Uint8Array
  /** The Space id the receiver has. */
  readonly spaceId: string
  /** Genuine envelopes of one of the Space's shards, and that shard's name. */
  readonly envelopes: readonly Uint8Array[]
  readonly shard: string
  /** Bit flips of the genuine bundle (default 200). */
  readonly flips?: number
}

/**
 * Malformed bundles: truncations and bit flips of a genuine one (its checksum catches them),
 * other magic bytes and format versions, a bundle of another Space, and well-formed bundles
 * (valid checksum) whose contents are hostile: damaged envelopes, envelopes filed under the
 * wrong document, invalid document names, a billion documents announced.
 */
export function malformedBundles(options: MalformedBundleOptions): Array<MalformedCase<Uint8Array>> {
  const { random, genuine, spaceId, envelopes, shard, flips = 200 } = options
  const cases: Array<MalformedCase<Uint8Array>> = [...truncations(genuine, 256, 'bundle'), ...bitFlips(genuine, random, flips, 'bundle'), ...randomBytes(random, 50, 64)]
  const wrap = (docs: ReadonlyArray<{ name: string; envelopes: readonly Uint8Array[] }>, space = spaceId): Uint8Array => encodeBundle({ spaceId: space, createdAt: '2026-11-30T12:00:00Z', docs })
  const damaged = envelopes.map((bytes) => {
    const copy = bytes.slice()
    const at = random.int(0, copy.length - 1)
    copy[at] = (copy[at] as number) ^ 0x40
    return copy
  })
  const crafted: Array<[string, string, Uint8Array]> = [
    ['magic', 'other magic bytes', concat(new TextEncoder().encode('CABUNDLX'), genuine.subarray(BUNDLE_MAGIC.length))],
    ['version', 'format version 2', concat(genuine.subarray(0, BUNDLE_MAGIC.length), Uint8Array.of(2), genuine.subarray(BUNDLE_MAGIC.length + 1))],
    ['other-space', 'a bundle of another Space', wrap([{ name: shard, envelopes }], `${spaceId}-elsewhere`)],
    ['hostile-contents', 'damaged envelopes under a valid checksum', wrap([{ name: shard, envelopes: damaged }])],
    ['hostile-contents', 'envelopes filed under the manifest', wrap([{ name: MANIFEST_DOC, envelopes }])],
    ['hostile-contents', 'envelopes filed under another shard', wrap([{ name: 'tickets.1999-01', envelopes }])],
    ['hostile-contents', 'an invalid document name', wrap([{ name: '../../etc/passwd', envelopes }])],
    ['hostile-contents', 'random bytes as envelopes', wrap([{ name: shard, envelopes: randomBytes(random, 20, 40).map((c) => c.input) }])],
    ['hostile-contents', 'genuine envelopes in reverse order', wrap([{ name: shard, envelopes: [...envelopes].reverse() }])],
  ]
  // A billion documents announced, under a valid checksum.
  const encoder = encoding.createEncoder()
  encoding.writeUint8Array(encoder, BUNDLE_MAGIC)
  encoding.writeVarUint(encoder, 1)
  for (const text of [spaceId, '2026-11-30T12:00:00Z', '']) encoding.writeVarString(encoder, text)
  encoding.writeVarUint(encoder, 1_000_000_000)
  const body = encoding.toUint8Array(encoder)
  crafted.push(['huge-count', 'a billion documents announced', concat(body, digest(body))])
  for (const [family, name, input] of crafted) cases.push({ family, name, input })
  return cases
}
