/**
 * Which deletions an envelope may carry. A Yjs delete set names only the ids of what it deletes;
 * nothing says who deleted it. The ingress guard therefore asks a per-document rule about every
 * deleted item, with where the item sits, before the update is applied.
 * @module
 */
import { ACT_LOG } from '../civic/act-log'

/** Where a deleted item sits in the document. */
export interface DeleteTarget {
  /** The root type's name (`tickets`, `acts`, `shards`, ...). */
  readonly root: string
  /** Nesting depth below the root: 0 for an entry of the root type itself. */
  readonly depth: number
  /** The map key of the item, when it is a map entry. */
  readonly key: string | undefined
  /** Whether the item was written by the deleting author itself (in this update or earlier). */
  readonly ownItem: boolean
}

/** Decides whether `author` may delete `target`. Must be pure. */
export type DeleteRule = (target: DeleteTarget, author: string) => boolean

/**
 * cabildo's rule for civic documents:
 * - act logs (`acts`) are append-only: no act is ever deleted or replaced;
 * - records are never hard-deleted or replaced: entries of a collection map (depth 0 under a
 *   root other than the act log) stay; so do the manifest's shard entries;
 * - inside a record (depth ≥ 1), edits are collaborative: overwriting a field, editing text,
 *   lists and sets delete items, and anyone allowed to write the document may do so.
 */
export const civicDeleteRule: DeleteRule = (target) => target.root !== ACT_LOG && target.depth >= 1

/** A rule that allows every deletion: plain Yjs behaviour, for documents with no civic records. */
export const allowAllDeletes: DeleteRule = () => true
