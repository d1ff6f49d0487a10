/**
 * Comments on proposals, projects and tickets. Moderation hides, never deletes.
 * @module
 */
import { z } from 'zod'
import { actorId, isoDateTime } from './common'
import { defineRecordType, type RecordOf } from './record-type'

/** A comment on another record, kept in that record's shard. */
export const Comment = defineRecordType({
  name: 'comment',
  version: 1,
  shape: {
    /** The id of the commented record. */
    target: z.string().min(1).max(200),
    author: actorId,
    body: z.string().min(1).max(10_000),
    createdAt: isoDateTime,
    /** The comment this one answers. */
    inReplyTo: z.string().min(1).max(200).optional(),
    /** Set by a moderator: the comment stays, hidden, with the reason. */
    hidden: z.object({ by: actorId, reason: z.string().min(1).max(1_000) }).optional(),
  },
})
/** A comment as stored. */
export type Comment = RecordOf<typeof Comment>
