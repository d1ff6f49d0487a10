/**
 * Signed acts on comments: with an identity, a comment is created under a key bound to its
 * author with a `comment.create` act that pins its target; a district `moderator` hides it with a
 * reason (`hide()`) or shows it again (`unhide()`); `resolve()` gives the authoritative view.
 *
 * ```ts
 * const comment = await space.comments.create({ target: proposal.id, author: me.did, body: 'Call 555-0100' })
 * await atModerator.hide({ reason: 'Personal data' }) // the comment stays, hidden
 * const { hidden, author } = await comment.resolve() // hidden: { by, reason }
 * ```
 * The moderators are those of the district of the comment's target (see `comment-targets.ts`).
 * Every act is refused, before anything is stored, when it would not count.
 * @module
 */
import { CabildoError } from '../errors'
import type { CreatePlan } from '../doc/collection'
import type { Entity } from '../doc/entity'
import { commentOrigin, CommentAct, isCommentAct, resolveComment, type CommentView } from '../civic/comment-moderation'
import type { Authorize, PolicyRecord } from '../policy/policy-record'
import type { Comment } from '../schema/comment'
import { asPolicyRecord, boundCreatePlan, refusalError, type CreateContext } from './act-checks'
import type { SpaceActs } from './space-acts'

/** Options of {@link CommentActions.hide}. */
export interface HideCommentOptions {
  /** Why the comment is hidden; signed, and shown to people in place of the comment. */
  readonly reason: string
}

/** The signed moderation acts of a comment entity. */
export interface CommentActions {
  /**
   * Hides the comment (a `moderator` of its target's district). It stays in the document.
   * @throws CabildoError `E_FORBIDDEN` without the role, `E_INVALID` when it is already hidden or the reason is empty.
   */
  hide(options: HideCommentOptions): Promise<CommentView>
  /** Shows a hidden comment again (a `moderator` of its target's district). @throws CabildoError `E_FORBIDDEN`, `E_INVALID` when it is not hidden. */
  unhide(options?: { readonly note?: string }): Promise<CommentView>
  /** The authoritative view: signed author and target, `hidden` from the verified acts, history, conflicts and rejected acts. */
  resolve(): Promise<CommentView>
}

/** The district whose moderators moderate comments on `target` (`undefined`: nobody may). */
export type TargetDistrict = (target: string) => Promise<string | undefined>

const nobody: Authorize = () => false

/** The comment-related services a Space gives its comments collection. */
export function commentBehaviour(acts: SpaceActs, districtOf: TargetDistrict): {
  planCreate: (context: CreateContext) => Promise<CreatePlan>
  extend: (entity: Entity<typeof Comment>) => CommentActions
} {
  const resolveEntity = async (entity: Entity<typeof Comment>, extra?: PolicyRecord): Promise<CommentView> => {
    const read = await acts.read(entity.shard, isCommentAct(entity.id))
    const entries = extra ? [...read, extra] : read
    // The signed target decides whose moderators may hide it; the plain one only without a signed creation.
    const target = commentOrigin(entity.id, entries)?.target ?? entity.get().value.target
    const district = target === undefined ? undefined : await districtOf(target)
    return resolveComment({ id: entity.id }, entries, district === undefined ? nobody : await acts.authorizer(district))
  }

  const moderate = async (entity: Entity<typeof Comment>, type: string, payload: Record<string, unknown>): Promise<CommentView> => {
    const record = await acts.sign(entity.shard, type, payload)
    const preview = asPolicyRecord(record)
    const after = await resolveEntity(entity, preview)
    const refused = after.rejected.find((r) => r.hash === preview.hash)
    if (refused) throw refusalError(refused, `Cannot ${type.slice('comment.'.length)} comment ${entity.id}`, record.author, type)
    const lost = after.conflicts.find((c) => c.hashes.includes(preview.hash))
    if (lost) throw new CabildoError('E_INVALID', `Comment ${entity.id} is already ${type === CommentAct.hide ? 'hidden' : 'visible'}`, { reason: lost.reason, rule: 'state' })
    acts.append(await acts.docOf(entity.shard), record)
    return after
  }

  return {
    planCreate: boundCreatePlan(acts, CommentAct.create, (comment, nonce, fields) => ({ comment, nonce, target: fields['target'] })),
    extend: (entity) => ({
      hide: ({ reason }) => moderate(entity, CommentAct.hide, { comment: entity.id, reason }),
      unhide: (o = {}) => moderate(entity, CommentAct.unhide, { comment: entity.id, ...(o.note === undefined ? {} : { note: o.note }) }),
      resolve: () => resolveEntity(entity),
    }),
  }
}
