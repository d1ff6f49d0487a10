/**
 * `cabildo/testing`: acceptance suites that certify your own adapters and policies against the
 * same contracts the built-in ones pass. Needs `vitest` and `fast-check` (optional peer
 * dependencies).
 *
 * ```ts
 * import { runPolicyTests } from 'cabildo/testing'
 * ```
 * @module
 */
export * from './policy-tests'
export * from './storage-tests'
export * from './transport-tests'
export { attackSession, craftUpdate, sealEnvelope, type Attack, type EnvelopeAttack, type MessageAttack, type AttackName, type AttackAnswer, type AttackTarget, type SealOptions } from './byzantine/attack'
export { forgedClient, censorshipRange, anonymousDelete, equivocation } from './byzantine/authorship-attacks'
export { truncatedEnvelope, bitFlippedEnvelope, replayedEnvelope, oversizedEnvelope, v2BombUpdate, v2Bomb, signedV2Bomb, garbageMessage } from './byzantine/damage-attacks'
export { ByzantinePeer, type ByzantinePeerOptions, type SeenSession } from './byzantine/byzantine-peer'
export * from './simulator/index'
export * from './malformed/index'
