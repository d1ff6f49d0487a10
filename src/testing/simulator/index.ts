/**
 * The multi-district simulator: seeded schedules of civic operations, faults, attacks and
 * crashes over the in-memory network, checked for convergence at the end.
 *
 * ```ts
 * import { runSimulation } from 'cabildo/testing'
 * const report = await runSimulation({ seed: 7 })
 * console.log(report.ok, report.reproduce)
 * ```
 * @module
 */
export { runSimulation, reproduceCommand, type CrashMode, type SimulationOptions, type ResolvedSimulationOptions, type SimulationCounts, type SimulationReport } from './simulation'
export { finalChecks, resolvedView, type FinalFigures, type SimulationFailure } from './final-checks'
export { createMemoryDisk, type SimulatedDisk, type SimulatedDiskFactory } from './simulated-disk'
export { WriteLedger, type LedgerWrite, type WriteStatus } from './write-ledger'
export { SimDistrict, simulatedIdentity, seededRecordKeys, type DistrictSetup } from './sim-district'
export { SimByzantine, attackKey, simulatedAttacks, type SimulatedAttack, type AttackVerdict, type SentAttackEnvelope } from './sim-byzantine'
export { civicOperations, drawOperation, SimTicketV2, simTicketV2Options, type Actor, type CivicWorld, type Operation } from './civic-operations'
