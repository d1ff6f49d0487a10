/**
 * A sorted list edited in place and read as snapshots: the structure behind incremental views
 * whose result arrays must stay valid after later edits.
 *
 * ```ts
 * import { compareStrings, createSortedSnapshot } from 'cabildo'
 * type Row = { readonly id: string; readonly n: number }
 * const rows = createSortedSnapshot<Row>((a, b) => compareStrings(a.id, b.id))
 * rows.set({ id: 'b', n: 2 })
 * rows.set({ id: 'a', n: 1 })
 * const first = rows.snapshot() // [{ id: 'a', n: 1 }, { id: 'b', n: 2 }]
 * rows.delete({ id: 'a', n: 0 }) // by key: `compare` says which entry
 * rows.snapshot()               // [{ id: 'b', n: 2 }]; `first` is unchanged
 * ```
 *
 * Edits are queued and applied when the next snapshot is taken: k edits cost k binary searches,
 * an in-place write for each replaced entry, and, for insertions and removals, either one splice
 * each (a native memory move) or, above `spliceLimit` of them, one merge pass. So k edits never
 * cost more than O(k log n + n). A snapshot copies the entries (a native `slice`, or a map when
 * the list shows its entries through `present`) only when they changed since the previous
 * snapshot; otherwise the previous snapshot is returned again, so unchanged results are shared
 * between successive views.
 *
 * Snapshots are plain arrays that this module never touches again, not frozen ones: V8 reads,
 * slices and filters frozen arrays several times slower (a frozen 100k-element array slices about
 * 8 times slower), which every reader of a view would pay. Their `readonly` type is the contract.
 * @module
 */

/** Options of {@link createSortedSnapshot}. */
export interface SortedSnapshotOptions {
  /**
   * Up to this many insertions and removals, a snapshot splices them one by one; above it, one
   * merge pass rebuilds the array. Default 128: with 100k entries a splice moves memory for
   * about 5 µs and a merge pass costs about 1 ms.
   */
  readonly spliceLimit?: number
}

/**
 * Entries sorted by a key, each key at most once, with copy-on-read snapshots; see the module
 * notes. `E` is the entry kept, `V` what a snapshot shows of it.
 */
export interface SortedSnapshot<E, V = E> {
  /** Inserts the entry, or replaces the entry with the same key. Applied at the next snapshot. */
  set(entry: E): void
  /** Removes the entry with the same key as `entry`, if there is one. Applied at the next snapshot. */
  delete(entry: E): void
  /**
   * Applies pending edits and returns the entries in order (through `present`, when given): the
   * previous snapshot, the same array, when nothing changed, else a new array. A returned array
   * is never modified afterwards.
   */
  snapshot(): readonly V[]
}

/** A queued removal. A queued insertion or replacement is the entry itself: a batch allocates nothing per entry. */
class Removal<E> {
  constructor(readonly entry: E) {}
}

/** A queued edit. */
type Edit<E> = E | Removal<E>

/** The entry whose key an edit names. */
function keyOf<E>(edit: Edit<E>): E {
  return edit instanceof Removal ? (edit as Removal<E>).entry : edit
}

/** The first index in `entries[from..]` whose key is not below `entry`'s. */
function lowerBound<E>(entries: readonly E[], entry: E, from: number, compare: (a: E, b: E) => number): number {
  let lo = from
  let hi = entries.length
  // New keys are often the greatest (a new voter, a new record): check the end before searching.
  if (hi > lo && compare(entries[hi - 1] as E, entry) < 0) return hi
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compare(entries[mid] as E, entry) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Creates an empty {@link SortedSnapshot}.
 * @param compare - a total order of the entries' keys: 0 means the same key
 * @param present - what a snapshot shows of an entry; default: the entry itself (then a snapshot is a `slice`)
 */
export function createSortedSnapshot<E, V = E>(
  compare: (a: E, b: E) => number,
  present?: (entry: E) => V,
  options: SortedSnapshotOptions = {},
): SortedSnapshot<E, V> {
  const spliceLimit = options.spliceLimit ?? 128
  let entries: E[] = []
  let edits: Edit<E>[] = []
  /** How many of `edits` are removals: without any, edits sort with `compare` itself. */
  let removals = 0
  let shot: readonly V[] = []
  let changed = false
  const compareEdits = (a: Edit<E>, b: Edit<E>): number => compare(keyOf(a), keyOf(b))

  /** Rebuilds the array with the structural edits (sorted, located at `where`) in one pass. */
  const merge = (moved: readonly Edit<E>[], where: readonly number[], length: number): void => {
    // Preallocated: filling a sized array is about twice as fast as pushing.
    const next = new Array<E>(length)
    let o = 0
    let i = 0
    for (let k = 0; k < moved.length; k++) {
      const edit = moved[k] as Edit<E>
      for (const at = where[k] as number; i < at; i++) next[o++] = entries[i] as E
      if (edit instanceof Removal) i++
      else next[o++] = edit
    }
    for (; i < entries.length; i++) next[o++] = entries[i] as E
    entries = next
  }

  const flush = (): void => {
    if (edits.length === 0) return
    const pending = edits
    edits = []
    // A stable sort keeps the edits of one key in the order they were made: the last one wins.
    if (pending.length > 1) pending.sort(removals > 0 ? compareEdits : (compare as (a: Edit<E>, b: Edit<E>) => number))
    removals = 0
    /** Whether the edit at k is overridden by a later edit of the same key. */
    const overridden = (k: number): boolean => {
      const next = pending[k + 1]
      return next !== undefined && compareEdits(pending[k] as Edit<E>, next) === 0
    }
    if (entries.length === 0) {
      // The first fill (a batch): the last edit of each key, in order, is the list.
      for (let k = 0; k < pending.length; k++) {
        const edit = pending[k] as Edit<E>
        if (!(edit instanceof Removal) && !overridden(k)) entries.push(edit)
      }
      if (entries.length > 0) changed = true
      return
    }
    // Locate each edit; the edits are sorted, so each search starts where the previous one ended.
    const moved: Edit<E>[] = []
    const where: number[] = []
    let from = 0
    let inserted = 0
    for (let k = 0; k < pending.length; k++) {
      if (overridden(k)) continue
      const edit = pending[k] as Edit<E>
      const key = keyOf(edit)
      const at = lowerBound(entries, key, from, compare)
      const found = at < entries.length && compare(entries[at] as E, key) === 0
      from = at
      if (edit instanceof Removal) {
        if (!found) continue
      } else if (found) {
        if (entries[at] !== edit) {
          entries[at] = edit
          changed = true
        }
        continue
      } else {
        inserted += 1
      }
      moved.push(edit)
      where.push(at)
    }
    if (moved.length === 0) return
    changed = true
    if (moved.length > spliceLimit) {
      merge(moved, where, entries.length + 2 * inserted - moved.length)
      return
    }
    // From the last to the first, so that the located indices stay valid; two insertions at one
    // index land in key order, since the greater one is inserted first.
    for (let k = moved.length - 1; k >= 0; k--) {
      const edit = moved[k] as Edit<E>
      if (edit instanceof Removal) entries.splice(where[k] as number, 1)
      else entries.splice(where[k] as number, 0, edit)
    }
  }

  return {
    set(entry) {
      edits.push(entry)
    },
    delete(entry) {
      edits.push(new Removal(entry))
      removals += 1
    },
    snapshot() {
      flush()
      if (changed) {
        shot = present === undefined ? (entries.slice() as unknown as V[]) : entries.map(present)
        changed = false
      }
      return shot
    },
  }
}
