/**
 * A record type: one zod schema plus the Yjs field kind of each field, declared once, next to
 * the schema. The binding layer (`src/doc/`) reads the kinds; nothing else re-states them.
 *
 * ```ts
 * const Note = defineRecordType({
 *   name: 'note',
 *   version: 1,
 *   schema: z.object({ title: z.string(), body: z.string(), tags: z.array(z.string()) }),
 *   fields: { body: 'text', tags: 'set' },
 * })
 * ```
 * @module
 */
import { z } from 'zod'

/**
 * How a field is stored in Yjs. Fields not named in `fields` are `scalar`.
 * - `scalar`: one entry of the record's Y.Map; concurrent writes resolve last-writer-wins.
 * - `text`: a Y.Text; concurrent edits merge character by character.
 * - `list`: a Y.Array; concurrent appends are all kept.
 * - `set`: a Y.Map whose keys are the members; concurrent adds and removes merge per member.
 * - `log`: a Y.Map of records keyed by their content hash: append-only, idempotent, order-free.
 */
export type FieldKind = 'scalar' | 'text' | 'list' | 'set' | 'log'

/** The fields every stored record carries, whatever its type. */
export const baseRecordShape = {
  /** The record's id: `<shard>/<key>`, assigned at creation, never changed. */
  id: z.string().min(1).max(200),
  /** The schema version the record was last written with. */
  schemaVersion: z.number().int().min(1),
  /** Archived records are hidden from lists by default; civic records are never hard-deleted. */
  archived: z.boolean().optional(),
}

/** Names of the base fields, which the binding manages itself. */
export type BaseField = keyof typeof baseRecordShape

/** A migration turns the raw fields of a record written at version `n` into fields of version `n + 1`. */
export type Migration = (raw: Record<string, unknown>) => Record<string, unknown>

/** A record schema: any zod object whose shape includes the base fields. */
export type RecordSchema = z.ZodObject<typeof baseRecordShape & z.ZodRawShape>

/** The declared kinds of a record type's non-scalar fields. */
export type FieldKinds = { readonly [field: string]: FieldKind | undefined }

/** The declaration of a record type. */
export interface RecordType<S extends RecordSchema = RecordSchema, F extends FieldKinds = FieldKinds> {
  /** A short stable name (`ticket`, `proposal`), used in errors and as the default collection map name. */
  readonly name: string
  /** The current schema version written by this app. */
  readonly version: number
  /** The full record schema (base fields included). */
  readonly schema: S
  /** The Yjs kind of each non-scalar field. */
  readonly fields: F
  /** `migrations[n]` upgrades a record read at version `n` to `n + 1`. */
  readonly migrations: Readonly<Record<number, Migration>>
}

/** The stored value of a record type. */
export type RecordOf<R extends RecordType> = z.infer<R['schema']>

/** The names of a record type's fields of one kind (e.g. its `text` fields). */
export type FieldsOfKind<R extends RecordType, K extends FieldKind> = {
  [P in keyof R['fields']]: R['fields'][P] extends K ? P : never
}[keyof R['fields']] &
  string

/** What a caller passes to create a record: the schema's input without the managed base fields. */
export type RecordInput<R extends RecordType> = Omit<z.input<R['schema']>, BaseField>

/** A patch for an update: any subset of the non-base fields. */
export type RecordPatch<R extends RecordType> = Partial<Omit<z.input<R['schema']>, BaseField>>

/**
 * Declares a record type. The `shape` is extended with the base fields (`id`, `schemaVersion`,
 * `archived`), so schemas never repeat them.
 */
export function defineRecordType<
  Shape extends z.ZodRawShape,
  const F extends { readonly [K in keyof Shape]?: FieldKind } = { readonly [K in never]: FieldKind },
>(definition: {
  name: string
  version: number
  shape: Shape
  fields?: F
  migrations?: Record<number, Migration>
}): RecordType<z.ZodObject<typeof baseRecordShape & Shape>, F> {
  const schema = z.object({ ...baseRecordShape, ...definition.shape }) as z.ZodObject<typeof baseRecordShape & Shape>
  return {
    name: definition.name,
    version: definition.version,
    schema,
    fields: (definition.fields ?? {}) as F,
    migrations: definition.migrations ?? {},
  }
}

/** The kind of one field of a record type (`scalar` when undeclared). */
export function fieldKind(type: RecordType, field: string): FieldKind {
  return (type.fields as Record<string, FieldKind | undefined>)[field] ?? 'scalar'
}

/**
 * The JSON Schema (draft 2020-12) of a record type, from the same zod object that validates it.
 */
export function recordJsonSchema(type: RecordType): Record<string, unknown> {
  return z.toJSONSchema(type.schema, { unrepresentable: 'any' }) as Record<string, unknown>
}
