/**
 * cabildo: local-first civic collaboration over Yjs.
 * @module
 */
export * from './errors'
export * from './encoding/canonical'
