/**
 * The schema layer: zod schemas of civic records, their inferred types and field kinds.
 * @module
 */
export * from './record-type'
export * from './common'
export * from './proposal'
export * from './budget'
export * from './ticket'
export * from './comment'
