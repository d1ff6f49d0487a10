/**
 * Comments as signed acts: who wrote a comment, on what, and whether a moderator hid it.
 * Moderation hides, never deletes: a hidden comment stays in the document, with who hid it and why.
 *
 * ```ts
 * const view = resolveComment({ id }, entries, roster.authorize)
 * view.hidden // { by: moderator did, reason: 'Personal data' } | undefined
 * ```
 *
 * | act | who | payload |
 * | --- | --- | --- |
 * | `comment.create` | anyone; binds the comment's key to its author and pins its target | `{ comment, nonce, target }` |
 * | `comment.hide` (visible → hidden) | a `moderator` of the target's district | `{ comment, reason }` |
 * | `comment.unhide` (hidden → visible) | a `moderator` of the target's district | `{ comment, note? }` |
 *
 * Visibility is a state machine over the two acts: the first hide in the total order (clock,
 * author, hash) hides; a concurrent second hide is a `lost` conflict; an unhide only undoes a
 * hide it saw. The plain `author` and `target` fields of the record are shown to people, but the
 * signed creation is what names the author, and what decides whose moderators may hide it.
 * @module
 */
import { z } from 'zod'
import type { Conflict, Rejected } from '../policy/merge-policy'
import { isFailedRecord, type Authorize, type PolicyEntry, type PolicyRecord } from '../policy/policy-record'
import { refuse } from '../policy/record-intake'
import { stateMachine, type AcceptedTransition } from '../policy/state-machine'
import { boundCreation } from './bound-key'
import { screenEntries } from './screen-entries'

/** Record types of comment acts. */
export const CommentAct = {
  /** Creation: binds the comment to its author, pins its target. Payload `{ comment, nonce, target }`. */
  create: 'comment.create',
  /** A moderator hides the comment. Payload `{ comment, reason }`. */
  hide: 'comment.hide',
  /** A moderator shows a hidden comment again. Payload `{ comment, note? }`. */
  unhide: 'comment.unhide',
} as const

/** Whether a comment is shown. */
export const CommentVisibility = { visible: 'visible', hidden: 'hidden' } as const
/** Whether a comment is shown. */
export type CommentVisibility = (typeof CommentVisibility)[keyof typeof CommentVisibility]

const recordRef = z.string().min(1).max(200)

/** The payload of a `comment.create` act. */
export const commentCreatePayload = z.strictObject({ comment: recordRef, nonce: z.string().min(1).max(64), target: recordRef })
/** The payload of a `comment.hide` act: the reason is required and shown to people. */
export const commentHidePayload = z.strictObject({ comment: recordRef, reason: z.string().min(1).max(1_000) })
/** The payload of a `comment.unhide` act. */
export const commentUnhidePayload = z.strictObject({ comment: recordRef, note: z.string().max(1_000).optional() })

/** Who hid a comment, and why. */
export interface CommentHiding {
  /** The moderator (a did). */
  readonly by: string
  /** The reason they signed. */
  readonly reason: string
}

/** The resolved state of a comment. */
export interface CommentView {
  /** The author: the signer of the comment's creation act (`undefined` without one). */
  readonly author: string | undefined
  /** The target its creation act pinned (`undefined` without one). */
  readonly target: string | undefined
  /** Set while a moderator's hide counts: the comment stays, shown as hidden. */
  readonly hidden: CommentHiding | undefined
  /** The accepted hides and unhides, oldest first. */
  readonly history: readonly AcceptedTransition<CommentVisibility>[]
  /** Hides and unhides that lost a race. */
  readonly conflicts: readonly Conflict[]
  /** Acts that do not count, with their codes. */
  readonly rejected: readonly Rejected[]
}

const isAct = new Set<string>(Object.values(CommentAct))

/** Whether a raw act-log value is an act about the comment `id` (checked again after verification). */
export function isCommentAct(id: string): (value: unknown) => boolean {
  return (value) => {
    const v = value as { type?: unknown; payload?: { comment?: unknown } } | null
    return typeof v?.type === 'string' && isAct.has(v.type) && v.payload?.comment === id
  }
}

/** The author and target of comment `id`, from its bound creation act. */
export function commentOrigin(id: string, entries: readonly PolicyEntry[]): { readonly author: string; readonly target: string } | undefined {
  const creation = boundCreation(id, entries, CommentAct.create, (p) => commentCreatePayload.safeParse(p).data, (p) => p.comment)
  return creation && { author: creation.author, target: creation.payload.target }
}

const edges = {
  [CommentAct.hide]: { from: 'visible', to: 'hidden', payload: commentHidePayload },
  [CommentAct.unhide]: { from: 'hidden', to: 'visible', payload: commentUnhidePayload },
} as const

/**
 * Resolves a comment from its verified acts. Pure: the same acts give the same view everywhere.
 * @param comment - the comment's id
 * @param entries - the comment's acts, verified (failed ones included, to be reported)
 * @param authorize - the role check of the roster of the target's district
 */
export function resolveComment(comment: { readonly id: string }, entries: readonly PolicyEntry[], authorize: Authorize): CommentView {
  const origin = commentOrigin(comment.id, entries)
  const moderation = entries.filter((e) => isFailedRecord(e) || e.type === CommentAct.hide || e.type === CommentAct.unhide)
  const { passed, refused } = screenEntries(moderation, (record) => {
    const edge = edges[record.type as keyof typeof edges]
    return edge.payload.safeParse(record.payload).success ? undefined : refuse(record, 'E_INVALID', `malformed ${record.type} payload`, 'payload')
  })
  // The acts name no states; each is the transition its type stands for, so the state machine
  // decides races and authorization the same way as for every other lifecycle.
  const transitions = passed.map((entry): PolicyEntry => {
    if (isFailedRecord(entry)) return entry
    const edge = edges[entry.type as keyof typeof edges]
    return { ...entry, payload: { ...(entry.payload as object), from: edge.from, to: edge.to } } satisfies PolicyRecord
  })
  const machine = stateMachine<CommentVisibility>({
    states: ['visible', 'hidden'],
    initial: 'visible',
    authorize,
    transitions: [
      { from: 'visible', to: 'hidden', role: 'moderator' },
      { from: 'hidden', to: 'visible', role: 'moderator' },
    ],
  })
  const { view, conflicts, rejected } = machine.resolve(transitions)
  const last = view.history[view.history.length - 1]
  const hidden = view.state === 'hidden' && last ? { by: last.author, reason: (last.payload as { reason: string }).reason } : undefined
  return { author: origin?.author, target: origin?.target, hidden, history: view.history, conflicts, rejected: [...refused, ...rejected] }
}
