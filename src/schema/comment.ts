/**
 * Comments on proposals, projects and tickets. Moderation hides, never deletes: see
 * `src/civic/comment-moderation.ts` for the signed `comment.hide` acts.
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
    // No `hidden` field: anyone who can write the document could set or clear it. Whether a
    // comment is hidden, by whom and why, comes from moderators' signed acts (`comment.hide`).
  },
})
/** A comment as stored. */
export type Comment = RecordOf<typeof Comment>
