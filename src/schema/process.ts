/**
 * Participatory processes, as Decidim and Consul Democracy run them: a calendar of phases
 * (proposing, supports, evaluation, results) and the support threshold proposals must reach.
 *
 * ```ts
 * processPhaseIssues([
 *   { phase: 'proposing', start: '2026-03-01T00:00:00Z', end: '2026-04-01T00:00:00Z' },
 *   { phase: 'supports', start: '2026-03-20T00:00:00Z', end: '2026-05-01T00:00:00Z' },
 * ]) // [{ path: [1, 'start'], code: 'phase_overlap', message: ... }]
 * ```
 *
 * The dates are a plan shown to people: they decide nothing (no wall clock decides anything in
 * cabildo). The phase that counts is the one district staff signed (`src/civic/process-phases.ts`).
 * @module
 */
import { z } from 'zod'
import { districtCode, isoDateTime } from './common'
import { defineRecordType, type RecordOf } from './record-type'

/** The phases of a participatory process, in their order. */
export const ProcessPhase = {
  proposing: 'proposing',
  supports: 'supports',
  evaluation: 'evaluation',
  results: 'results',
} as const
/** A phase of a participatory process. */
export type ProcessPhase = (typeof ProcessPhase)[keyof typeof ProcessPhase]

/** The phases in their order. */
export const processPhaseOrder: readonly ProcessPhase[] = ['proposing', 'supports', 'evaluation', 'results']

/** The key of a participatory process (`pb2026`): letters, digits, `_` and `-`. Proposals name their process by it. */
export const processKey = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a process key of letters, digits, _ and -')

/** One planned phase: from `start` (included) to `end` (excluded), ISO 8601 date-times. */
export const processPhaseEntry = z.object({
  phase: z.enum(['proposing', 'supports', 'evaluation', 'results']),
  start: isoDateTime,
  end: isoDateTime,
})
/** One planned phase. */
export type ProcessPhaseEntry = z.infer<typeof processPhaseEntry>

/** A problem in a phase plan, with its path inside the plan (`[index, field]`). */
export interface PhasePlanIssue {
  /** Where, from the plan's root: the phase's index, then `phase`, `start` or `end`. */
  readonly path: readonly [number, 'phase' | 'start' | 'end']
  /** `phase_duplicate`, `phase_order`, `phase_dates` (ends before it starts) or `phase_overlap`. */
  readonly code: 'phase_duplicate' | 'phase_order' | 'phase_dates' | 'phase_overlap'
  /** A sentence for people. */
  readonly message: string
}

/**
 * The problems of a phase plan: each phase at most once, in the order proposing → supports →
 * evaluation → results (phases may be left out), each ending no earlier than it starts, and none
 * starting before the previous one ends (a phase may start at the instant the previous ends).
 * Pure; dates are compared as instants, so offsets (`+02:00`, `Z`) may differ. An empty list means the plan is valid.
 */
export function processPhaseIssues(phases: readonly ProcessPhaseEntry[]): PhasePlanIssue[] {
  const issues: PhasePlanIssue[] = []
  const seen = new Set<ProcessPhase>()
  let previous: { readonly rank: number; readonly end: number; readonly phase: ProcessPhase } | undefined
  phases.forEach((entry, i) => {
    const rank = processPhaseOrder.indexOf(entry.phase)
    const start = Date.parse(entry.start)
    const end = Date.parse(entry.end)
    if (seen.has(entry.phase)) {
      issues.push({ path: [i, 'phase'], code: 'phase_duplicate', message: `the phase '${entry.phase}' is planned twice` })
    } else if (previous && rank < previous.rank) {
      issues.push({ path: [i, 'phase'], code: 'phase_order', message: `'${entry.phase}' comes before '${previous.phase}' in a process` })
    }
    seen.add(entry.phase)
    if (end < start) issues.push({ path: [i, 'end'], code: 'phase_dates', message: `'${entry.phase}' ends (${entry.end}) before it starts (${entry.start})` })
    if (previous && start < previous.end) {
      issues.push({ path: [i, 'start'], code: 'phase_overlap', message: `'${entry.phase}' starts (${entry.start}) before '${previous.phase}' ends` })
    }
    previous = { rank: Math.max(rank, previous?.rank ?? -1), end: Math.max(end, previous?.end ?? -Infinity), phase: entry.phase }
  })
  return issues
}

/**
 * The planned phase at instant `at` (an ISO date-time passed in, e.g. from the app's clock), for
 * display beside the signed phase; `undefined` outside every planned phase. Pure: it decides nothing.
 */
export function plannedPhaseAt(planned: readonly ProcessPhaseEntry[], at: string): ProcessPhase | undefined {
  const t = Date.parse(at)
  return planned.find((p) => Date.parse(p.start) <= t && t < Date.parse(p.end))?.phase
}

/** A phase plan, checked with {@link processPhaseIssues} on every local write and every read. */
export const processPhasePlan = z
  .array(processPhaseEntry)
  .max(4)
  .superRefine((phases, ctx) => {
    for (const issue of processPhaseIssues(phases)) ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message, params: { code: issue.code } })
  })

/**
 * A participatory process. It lives in the shard `process.<key>`, beside its proposals. Its
 * description is collaborative text; its phase plan is one value (replaced whole, so concurrent
 * edits cannot interleave two plans into an invalid one).
 */
export const Process = defineRecordType({
  name: 'process',
  version: 1,
  shape: {
    title: z.string().min(1).max(300),
    description: z.string().max(20_000).default(''),
    /** The district whose staff runs the process. */
    district: districtCode,
    /** The key proposals name in their `process` field; also chooses the shard. */
    key: processKey,
    /** The planned phases with their dates, shown to people. */
    phases: processPhasePlan.default([]),
    /** Supporters a proposal needs to qualify; signed when staff opens the supports phase. */
    supportThreshold: z.number().int().min(1).max(1_000_000_000),
  },
  fields: { description: 'text' },
})
/** A participatory process as stored. */
export type Process = RecordOf<typeof Process>
