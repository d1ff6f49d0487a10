/**
 * The civic collections of a Space and the natural boundaries that shard them: one document per
 * participatory process (with its process record), one per budget (with its projects and
 * ballots), one per month of tickets. Comments live in the shard of what they comment on.
 * @module
 */
import { CabildoError } from '../errors'
import type { CollectionOptions, ShardRule } from '../doc/collection'
import { shardOfId } from '../doc/record-ids'
import { Ballot, Budget, BudgetProject } from '../schema/budget'
import { Comment } from '../schema/comment'
import { Process } from '../schema/process'
import { Proposal } from '../schema/proposal'
import { ServiceTicket } from '../schema/ticket'
import type { RecordOf } from '../schema/record-type'

type Fields<T> = Omit<T, 'id' | 'schemaVersion' | 'archived'>

/** Shard rules of the civic collections; each may be replaced through `createSpace({ shards })`. */
export interface CivicShardRules {
  /** Default: `process.<process>`. */
  readonly proposals: ShardRule<Fields<RecordOf<typeof Proposal>>>
  /** Default: a new `budget.<random>` shard per budget. */
  readonly budgets: ShardRule<Fields<RecordOf<typeof Budget>>>
  /** Default: `tickets.<YYYY-MM>` of `requested_datetime` (in UTC). */
  readonly tickets: ShardRule<Fields<RecordOf<typeof ServiceTicket>>>
}

/** The shard holding a referenced record, for records that live beside what they refer to. */
export function shardOfReference(id: string, field: string): string {
  const shard = shardOfId(id)
  if (!shard) {
    throw new CabildoError('E_SCHEMA', `${field} is not a record id: "${id}"`, {
      issues: [{ path: [field], code: 'invalid_reference', message: 'expected a record id such as "budget.x7k2/ab12"' }],
    }, { path: [field] })
  }
  return shard
}

/**
 * The shard of participatory process `key`: `process.<key>`, where the default rule also puts
 * its proposals. Not configurable: proposals find their process's signed acts there, wherever
 * their own shard rule puts them.
 */
export function processShard(key: string): string {
  return `process.${key}`
}

/** The default shard rules. */
export const defaultShardRules: CivicShardRules = {
  proposals: (p) => `process.${p.process}`,
  budgets: (_b, ctx) => `budget.${ctx.randomKey()}`,
  tickets: (t) => `tickets.${new Date(t.requested_datetime).toISOString().slice(0, 7)}`,
}

/** Collection options of each civic collection, given the shard rules. */
export function civicCollectionOptions(rules: CivicShardRules): {
  proposals: CollectionOptions<typeof Proposal, 'createdAt'>
  processes: CollectionOptions<typeof Process>
  budgets: CollectionOptions<typeof Budget>
  projects: CollectionOptions<typeof BudgetProject>
  ballots: CollectionOptions<typeof Ballot>
  tickets: CollectionOptions<typeof ServiceTicket, 'requested_datetime'>
  comments: CollectionOptions<typeof Comment, 'createdAt'>
} {
  return {
    proposals: {
      type: Proposal,
      mapName: 'proposals',
      scopes: ['process'],
      shardOf: rules.proposals,
      defaults: ({ now }) => ({ createdAt: now }),
      touch: 'updatedAt',
    },
    processes: { type: Process, mapName: 'processes', scopes: ['process'], shardOf: (p) => processShard(p.key) },
    budgets: { type: Budget, mapName: 'budgets', scopes: ['budget'], shardOf: rules.budgets },
    projects: { type: BudgetProject, mapName: 'projects', scopes: ['budget'], shardOf: (p) => shardOfReference(p.budget, 'budget') },
    ballots: { type: Ballot, mapName: 'ballots', scopes: ['budget'], shardOf: (b) => shardOfReference(b.budget, 'budget') },
    tickets: {
      type: ServiceTicket,
      mapName: 'tickets',
      scopes: ['tickets'],
      shardOf: rules.tickets,
      defaults: ({ now }) => ({ requested_datetime: now }),
      touch: 'updated_datetime',
    },
    comments: {
      type: Comment,
      mapName: 'comments',
      scopes: ['process', 'budget', 'tickets'],
      shardOf: (c) => shardOfReference(c.target, 'target'),
      defaults: ({ now }) => ({ createdAt: now }),
    },
  }
}
