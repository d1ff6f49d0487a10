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
