/**
 * Merge policies: pure, deterministic folds from records to `{ view, conflicts, rejected }`.
 *
 * ```ts
 * import { onePerVoter } from 'cabildo'
 * const vote = onePerVoter({ authorize, eligibilityRole: 'voter', closeRole: 'staff' })
 * const { view, conflicts, rejected } = vote.resolve(records)
 * ```
 * @module
 */
export * from './policy-record'
export * from './merge-policy'
export * from './record-intake'
export * from './refold-policy'
export * from './decimal'
export * from './registers'
export * from './multi-value'
export * from './union'
export * from './counter'
export * from './state-machine'
export * from './capped-allocation'
export * from './one-per-voter'
export * from './unique-supporters'
export * from './keyed'
export * from './sorted-snapshot'
