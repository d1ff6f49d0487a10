/**
 * The one table of the PostgreSQL store and the statements run on it. Every record of every
 * document is a row; a snapshot is a row marked `is_snapshot`; `writer` names the store (one
 * open of one key, a random UUID) that wrote the row, so a compaction can delete exactly what its
 * snapshot covers and nothing another process appended meanwhile.
 *
 * ```ts
 * const table = recordsTable({ schema: 'cabildo', tablePrefix: 'city_' })
 * table.name          // "cabildo"."city_records"
 * table.ddl()         // CREATE TABLE IF NOT EXISTS ...
 * ```
 * @internal
 * @module
 */
import { CabildoError } from '../../errors'

/** Identifiers we accept for a schema or a table prefix: plain lowercase SQL names, never quoted oddly. */
const identifier = /^[a-z_][a-z0-9_]*$/

/** The longest table prefix accepted (PostgreSQL names hold 63 bytes; `records` takes 7). */
export const MAX_TABLE_PREFIX = 56

/** Where the table lives. */
export interface RecordsTableOptions {
  /** A schema to put the table in (created if missing); the connection's `search_path` otherwise. */
  readonly schema?: string
  /** Prepended to the table name (default `cabildo_`). */
  readonly tablePrefix?: string
}

/** The table's qualified name and the SQL run on it. */
export interface RecordsTable {
  /** The quoted, qualified table name. */
  readonly name: string
  /** The schema, if one was given. */
  readonly schema: string | undefined
  /** The statements creating the table (idempotent). */
  ddl(): string
  /** `$1` key: the rows of a document, snapshots first, then records in the order they were written. */
  readonly load: string
  /** `$1` key, `$2` writer, `$3` bytea[]: appends records in array order. */
  readonly append: string
  /** `$1` key, `$2` writer, `$3` bigint[]: deletes the writer's rows and the listed rows. */
  readonly deleteCovered: string
  /** `$1` key, `$2` writer, `$3` bytea: inserts a snapshot. */
  readonly insertSnapshot: string
  /** The document keys that have rows, sorted by their bytes. */
  readonly keys: string
}

function checkIdentifier(argument: string, value: string, maxLength: number): void {
  if (!identifier.test(value) || value.length > maxLength) {
    throw new CabildoError('E_ARGUMENT', `The ${argument} must be a lowercase SQL name of at most ${maxLength} characters: "${value}"`, {
      argument,
      reason: `not /^[a-z_][a-z0-9_]*$/ or longer than ${maxLength}`,
    })
  }
}

/**
 * The table for `options`.
 * @throws `E_ARGUMENT` if the schema or the prefix is not a plain lowercase SQL name.
 */
export function recordsTable(options: RecordsTableOptions = {}): RecordsTable {
  const prefix = options.tablePrefix ?? 'cabildo_'
  if (prefix !== '') checkIdentifier('tablePrefix', prefix, MAX_TABLE_PREFIX)
  if (options.schema !== undefined) checkIdentifier('schema', options.schema, 63)
  const table = `${prefix}records`
  const name = options.schema === undefined ? `"${table}"` : `"${options.schema}"."${table}"`
  return {
    name,
    schema: options.schema,
    ddl: () => `
      CREATE TABLE IF NOT EXISTS ${name} (
        doc_key     text COLLATE "C" NOT NULL,
        seq         bigint GENERATED ALWAYS AS IDENTITY,
        is_snapshot boolean NOT NULL DEFAULT false,
        writer      uuid NOT NULL,
        data        bytea NOT NULL,
        PRIMARY KEY (doc_key, seq)
      )`,
    load: `SELECT seq, data FROM ${name} WHERE doc_key = $1 ORDER BY is_snapshot DESC, seq`,
    // WITH ORDINALITY ... ORDER BY: rows get their identity values in array order, so `seq`
    // follows call order within a store.
    append: `INSERT INTO ${name} (doc_key, writer, data)
      SELECT $1, $2, record FROM unnest($3::bytea[]) WITH ORDINALITY AS batch(record, n) ORDER BY n`,
    deleteCovered: `DELETE FROM ${name} WHERE doc_key = $1 AND (writer = $2 OR seq = ANY($3::bigint[]))`,
    insertSnapshot: `INSERT INTO ${name} (doc_key, writer, is_snapshot, data) VALUES ($1, $2, true, $3)`,
    keys: `SELECT DISTINCT doc_key FROM ${name} ORDER BY doc_key`,
  }
}
