/**
 * Participatory budgets, their projects and ballots.
 * @module
 */
import { z } from 'zod'
import { actorId, districtCode, isoDateTime, label, money } from './common'
import { defineRecordType, type RecordOf } from './record-type'

/**
 * How citizens vote in a budget, with the limits of each method.
 * - `approval`: approve between `minProjects` and `maxProjects` projects.
 * - `knapsack`: approve projects whose total cost stays within `limit` (the budget's total when absent).
 * - `cumulative`: spread at most `maxPoints` points, at most `maxPointsPerProject` on one project.
 * - `ordinal`: rank between `minLength` and `maxLength` projects, best first.
 * - `scoring`: give projects scores between `minScore` and `maxScore`.
 */
export const votingMethod = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('approval'),
    minProjects: z.number().int().min(0).optional(),
    maxProjects: z.number().int().min(1).optional(),
  }),
  z.object({ kind: z.literal('knapsack'), limit: money.optional() }),
  z.object({
    kind: z.literal('cumulative'),
    maxPoints: z.number().int().min(1),
    maxPointsPerProject: z.number().int().min(1).optional(),
    minProjects: z.number().int().min(0).optional(),
  }),
  z.object({
    kind: z.literal('ordinal'),
    minLength: z.number().int().min(0).optional(),
    maxLength: z.number().int().min(1).optional(),
  }),
  z.object({
    kind: z.literal('scoring'),
    minScore: z.number().int(),
    maxScore: z.number().int(),
  }),
])
/** How citizens vote in a budget. */
export type VotingMethod = z.infer<typeof votingMethod>

/** The phases of a participatory budget, in order. */
export const BudgetPhase = {
  proposing: 'proposing',
  voting: 'voting',
  closed: 'closed',
} as const
/** A phase of a participatory budget. */
export type BudgetPhase = (typeof BudgetPhase)[keyof typeof BudgetPhase]

/** One phase with its planned dates. */
export const budgetPhaseEntry = z.object({
  phase: z.enum(['proposing', 'voting', 'closed']),
  start: isoDateTime.optional(),
  end: isoDateTime.optional(),
})

/** A participatory budget. */
export const Budget = defineRecordType({
  name: 'budget',
  version: 1,
  shape: {
    title: z.string().min(1).max(300),
    description: z.string().max(20_000).optional(),
    total: money,
    currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as "EUR"'),
    district: districtCode,
    owner: actorId.optional(),
    votingMethod,
    phases: z.array(budgetPhaseEntry).max(20).default([]),
    phase: z.enum(['proposing', 'voting', 'closed']).default('proposing'),
  },
  fields: { phases: 'list' },
})
/** A participatory budget as stored. */
export type Budget = RecordOf<typeof Budget>

/** A project competing for a budget's money. */
export const BudgetProject = defineRecordType({
  name: 'budget-project',
  version: 1,
  shape: {
    budget: z.string().min(1).max(200),
    title: z.string().min(1).max(300),
    description: z.string().max(20_000).optional(),
    cost: money,
    category: label.optional(),
    district: districtCode,
  },
})
/** A budget project as stored. */
export type BudgetProject = RecordOf<typeof BudgetProject>

/** What a voter chose, in the shape of the budget's voting method. */
export const ballotChoice = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('approval'), approved: z.array(z.string().min(1)).max(10_000) }),
  z.object({ kind: z.literal('knapsack'), approved: z.array(z.string().min(1)).max(10_000) }),
  z.object({ kind: z.literal('cumulative'), points: z.record(z.string().min(1), z.number().int().min(0)) }),
  z.object({ kind: z.literal('ordinal'), ranking: z.array(z.string().min(1)).max(10_000) }),
  z.object({ kind: z.literal('scoring'), scores: z.record(z.string().min(1), z.number().int()) }),
])
/** What a voter chose. */
export type BallotChoice = z.infer<typeof ballotChoice>

/** A voter's ballot in a budget. */
export const Ballot = defineRecordType({
  name: 'ballot',
  version: 1,
  shape: {
    budget: z.string().min(1).max(200),
    voter: actorId,
    choice: ballotChoice,
    castAt: isoDateTime.optional(),
  },
})
/** A ballot as stored. */
export type Ballot = RecordOf<typeof Ballot>
