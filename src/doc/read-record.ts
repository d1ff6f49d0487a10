/**
 * Tolerant reading of a record from its Y.Map.
 *
 * Remote replicas may run other app versions, or misbehave: a reader must never throw on what
 * they wrote. Each field is checked against its own schema; a field that fails is left out of
 * the value and reported as an issue, and fields this schema does not know are returned apart
 * (`extra`) so nothing is hidden.
 * @module
 */
import * as Y from 'yjs'
import { z } from 'zod'
import type { SchemaIssue } from '../errors'
import { toSchemaIssues } from './schema-issues'
import { fieldKind, type RecordOf, type RecordType } from '../schema/record-type'

/** The result of reading a record: its typed value when every field is valid, or what could be read and the issues. */
export type ReadResult<T> =
  | {
      /** Every field passed the schema. */
      readonly valid: true
      readonly value: T
      readonly issues: readonly []
      /** Fields this app's schema does not know (written by a newer app), kept untouched. */
      readonly extra: Readonly<Record<string, unknown>>
    }
  | {
      readonly valid: false
      /** The fields that passed the schema; failing fields are absent. */
      readonly value: Partial<T>
      /** One issue per failing field, with its path from the record's root. */
      readonly issues: readonly SchemaIssue[]
      readonly extra: Readonly<Record<string, unknown>>
    }

/** Converts a stored value of any Yjs type into plain data, following the field's declared kind. */
function plainField(kind: string, stored: unknown): unknown {
  switch (kind) {
    case 'text':
      return stored instanceof Y.Text ? stored.toString() : plain(stored)
    case 'set':
      return stored instanceof Y.Map ? [...stored.keys()].sort() : plain(stored)
    case 'log':
      return stored instanceof Y.Map
        ? [...stored.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => plain(v))
        : plain(stored)
    default:
      return plain(stored)
  }
}

function plain(stored: unknown): unknown {
  if (stored instanceof Y.AbstractType) return stored.toJSON() as unknown
  return stored
}

/** The raw fields of a record map as plain data, before validation or migration. */
export function rawFields(type: RecordType, map: Y.Map<unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {}
  for (const [key, stored] of map.entries()) raw[key] = plainField(fieldKind(type, key), stored)
  return raw
}

/**
 * Upgrades raw fields written at an older schema version with the type's migrations.
 * A migration that throws is treated as bad remote data: the raw fields are kept and an issue is reported.
 */
export function migrateRaw(
  type: RecordType,
  raw: Record<string, unknown>,
): { raw: Record<string, unknown>; issues: SchemaIssue[] } {
  const stored = raw['schemaVersion']
  if (typeof stored !== 'number' || !Number.isInteger(stored) || stored >= type.version) return { raw, issues: [] }
  let current = raw
  for (let v = stored; v < type.version; v++) {
    const migrate = type.migrations[v]
    if (!migrate) continue
    try {
      current = migrate({ ...current })
    } catch (err) {
      return {
        raw,
        issues: [{ path: ['schemaVersion'], code: 'migration_failed', message: `migration from version ${v} failed: ${String(err)}` }],
      }
    }
  }
  return { raw: current, issues: [] }
}

/**
 * Reads a record map tolerantly: never throws, whatever the map holds.
 * Absent optional fields get their schema defaults; invalid fields are reported, not thrown.
 */
export function readRecord<R extends RecordType>(type: R, map: Y.Map<unknown>): ReadResult<RecordOf<R>> {
  const migrated = migrateRaw(type, rawFields(type, map))
  const raw = migrated.raw
  const issues: SchemaIssue[] = [...migrated.issues]
  const value: Record<string, unknown> = {}
  const shape = type.schema.shape
  for (const [key, fieldSchema] of Object.entries(shape)) {
    const parsed = z.safeParse(fieldSchema, raw[key])
    if (parsed.success) {
      if (parsed.data !== undefined) value[key] = parsed.data
    } else {
      issues.push(...toSchemaIssues(parsed.error.issues, [key]))
    }
  }
  const extra: Record<string, unknown> = {}
  for (const key of Object.keys(raw)) if (!(key in shape)) extra[key] = raw[key]
  if (issues.length === 0) return { valid: true, value: value as RecordOf<R>, issues: [], extra }
  return { valid: false, value: value as Partial<RecordOf<R>>, issues, extra }
}
