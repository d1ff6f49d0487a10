/**
 * The malformed-input corpus: seeded generators of damaged and hostile inputs for every entry
 * point that takes outside bytes or objects (Yjs updates, envelopes, signed records, sync
 * messages, file bundles, Open311 JSON, Pabulib text), each case with what was done to it.
 *
 * ```ts
 * import { malformedSyncMessages } from 'cabildo/testing'
 * const cases = malformedSyncMessages({ random: createSeededRandom(1), genuine: [hello, heads] })
 * ```
 * @module
 */
export { bitFlips, byteEdits, concat, randomBytes, truncations, type MalformedCase } from './byte-mutations'
export { malformedEnvelopes, malformedUpdates, updateChain, type EnvelopeCase, type EnvelopeVerdict, type MalformedEnvelopeOptions, type MalformedUpdateOptions } from './update-cases'
export { malformedRecords, type MalformedRecordOptions, type RecordCase, type RecordVerdict } from './record-cases'
export { malformedBundles, malformedSyncMessages, type MalformedBundleOptions, type MalformedMessageOptions } from './message-cases'
export { malformedOpen311, malformedPabulib, type MalformedOpen311Options, type MalformedPabulibOptions } from './import-cases'
