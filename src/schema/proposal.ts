/**
 * Citizen proposals in a participatory process.
 * @module
 */
import { z } from 'zod'
import { actorId, districtCode, geoPoint, isoDateTime, label } from './common'
import { processKey } from './process'
import { defineRecordType, type RecordOf } from './record-type'

/** The lifecycle states of a proposal (as Decidim and Consul Democracy run them). */
export const ProposalStatus = {
  draft: 'draft',
  published: 'published',
  under_review: 'under_review',
  accepted: 'accepted',
  rejected: 'rejected',
  withdrawn: 'withdrawn',
} as const
/** A lifecycle state of a proposal. */
export type ProposalStatus = (typeof ProposalStatus)[keyof typeof ProposalStatus]

/** A proposal. Its body is collaborative text; its authors and tags are sets. */
export const Proposal = defineRecordType({
  name: 'proposal',
  version: 1,
  shape: {
    title: z.string().min(1).max(300),
    body: z.string().max(100_000).default(''),
    authors: z.array(actorId).max(100).default([]),
    district: districtCode,
    /** The participatory process the proposal belongs to; also its shard. */
    process: processKey,
    tags: z.array(label).max(50).default([]),
    location: geoPoint.optional(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime.optional(),
    status: z.enum(['draft', 'published', 'under_review', 'accepted', 'rejected', 'withdrawn']).default('draft'),
    /** The proposal this one amends, when it is an amendment. */
    amends: z.string().min(1).max(200).optional(),
  },
  fields: { body: 'text', authors: 'set', tags: 'set' },
})
/** A proposal as stored. */
export type Proposal = RecordOf<typeof Proposal>
