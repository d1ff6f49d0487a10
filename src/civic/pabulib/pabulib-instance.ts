/**
 * A Pabulib `.pb` file as plain typed data: every META entry in order, every project and vote
 * with all its columns in order, all values as the file's text. Nothing is interpreted or
 * dropped, so serializing gives the same file back.
 *
 * Format: Stolicki, Szufa, Talmon, "Pabulib: A Participatory Budgeting Library"
 * (arXiv:2012.06539); pabulib.org/format.
 * @module
 */

/** One `key;value` line of the META section. */
export interface PabulibMetaEntry {
  /** The key, e.g. `budget`, `vote_type`, `rule`. */
  readonly key: string
  /** The value as written. */
  readonly value: string
}

/** One row of the PROJECTS or VOTES section: column name → field text. */
export type PabulibRow = Readonly<Record<string, string>>

/** A table section: its columns in file order, and its rows. */
export interface PabulibTable {
  /** Column names in file order (PROJECTS starts with `project_id`, VOTES with `voter_id`). */
  readonly columns: readonly string[]
  /** Rows in file order; each has exactly the `columns` as keys. */
  readonly rows: readonly PabulibRow[]
}

/** The vote types Pabulib defines. `choose-1` is an approval ballot of at most one project. */
export const PABULIB_VOTE_TYPES = ['approval', 'choose-1', 'cumulative', 'scoring', 'ordinal'] as const
/** A Pabulib vote type. */
export type PabulibVoteType = (typeof PABULIB_VOTE_TYPES)[number]

/** A whole `.pb` file. */
export interface PabulibInstance {
  /** META entries in file order. */
  readonly meta: readonly PabulibMetaEntry[]
  /** The PROJECTS section. */
  readonly projects: PabulibTable
  /** The VOTES section. */
  readonly votes: PabulibTable
}

/** The value of the first META entry with `key`, trimmed, or `undefined`. */
export function metaValue(instance: Pick<PabulibInstance, 'meta'>, key: string): string | undefined {
  return instance.meta.find((e) => e.key.trim() === key)?.value.trim()
}
