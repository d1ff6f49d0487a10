/**
 * cabildo: local-first civic collaboration over Yjs. Typed proposals, participatory budgets and
 * service tickets that districts share and converge on, with no coordinating server.
 *
 * ```ts
 * import { createSpace, syncSpaces } from 'cabildo'
 * const north = createSpace({ id: 'city' })
 * const south = createSpace({ id: 'city' })
 * const ticket = await north.tickets.create({ service_code: 'pothole', district: 'north' })
 * await syncSpaces(north, south)
 * console.log((await south.tickets.get(ticket.id))?.get().value)
 * ```
 * @module
 */
export * from './errors'
export * from './encoding/canonical'
export * from './schema/index'
export { readRecord, type ReadResult } from './doc/read-record'
export { Entity, type EntityChange, type ChangeOrigin } from './doc/entity'
export { Collection, type CollectionOptions, type CreateInput, type ListOptions, type CollectionChange, type ShardRule, type ShardContext } from './doc/collection'
export type { RecordChange } from './doc/change-router'
export type { ShardSource } from './doc/shard-source'
export { isShardName, recordId, shardOfId, randomKey } from './doc/record-ids'
export * from './identity/base58btc'
export * from './identity/did-key'
export * from './identity/ed25519-backend'
export { conformanceProbes, publicKeyProblem } from './identity/ed25519-rules'
export * from './identity/keys'
export * from './identity/signed-record'
export * from './identity/record-order'
export * from './identity/identity'
export * from './identity/identity-store'
export * from './identity/memory-identity-store'
export * from './identity/indexeddb-identity-store'
export * from './identity/roster'
export * from './policy/index'
export * from './civic/open311/index'
export * from './storage/storage'
export * from './storage/storage-errors'
export * from './storage/operation-queue'
export * from './storage/memory-storage'
export * from './storage/attach-store'
export * from './storage/indexeddb-storage'
export { parseRational, formatRational, toFixed, type Rational } from './civic/budgeting/rational'
export { compareProjectIds, tieBreakByOrder, type TieBreak } from './civic/budgeting/tie-break'
export { validateBallot, type BallotCheck, type BallotContext } from './civic/budgeting/ballot-rules'
export type { BudgetElection, BallotFamily } from './civic/budgeting/election'
export { OUTCOME_RULES, COMPLETIONS, type Outcome, type OutcomeRule, type Completion, type MesUtility, type PaymentGroup, type ProjectResult } from './civic/budgeting/outcome'
export { greedyOutcome, type GreedyOptions } from './civic/budgeting/greedy'
export { equalSharesOutcome, type EqualSharesOptions } from './civic/budgeting/equal-shares'
export * from './civic/pabulib/pabulib-instance'
export { parsePabulib } from './civic/pabulib/parse-pabulib'
export { serializePabulib } from './civic/pabulib/serialize-pabulib'
export { pabulibToElection, pabulibSelection, pabulibRule, type PabulibElection, type PabulibLines } from './civic/pabulib/pabulib-election'
export { ACT_LOG, actLogOf, appendAct, readActs } from './civic/act-log'
export { boundKey, isBoundTo } from './civic/bound-key'
export * from './civic/ticket-lifecycle'
export type { TicketActions, TicketActOptions } from './sync/ticket-actions'
export type { CreatePlan } from './doc/collection'
export { defaultShardRules, type CivicShardRules } from './civic/civic-collections'
export { createSpace, Space, type SpaceOptions } from './sync/space'
export { MANIFEST_DOC } from './sync/shard-set'
export { syncSpaces, applyDocUpdate, encodeDocState, encodeDocStateVector, manualSyncOrigin, DEFAULT_MAX_UPDATE_BYTES } from './sync/manual-sync'
export { inspectUpdate, defaultInspectLimits, type InspectedUpdate, type InspectedStruct, type InspectLimits, type InspectFailure, type DeleteRange, type StructId, type ContentKind } from './sync/update-inspector'
