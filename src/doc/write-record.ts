/**
 * Validated writes of records into their Y.Maps.
 *
 * Every local write is checked against the schema before anything touches the document: an
 * invalid write throws `E_SCHEMA` and changes nothing.
 * @module
 */
import * as Y from 'yjs'
import { z } from 'zod'
import { CabildoError, type SchemaIssue } from '../errors'
import { contentHash } from '../encoding/canonical'
import { baseRecordShape, fieldKind, type RecordType } from '../schema/record-type'
import { toSchemaIssues } from './schema-issues'

const baseFields = new Set(Object.keys(baseRecordShape))

function schemaError(type: RecordType, issues: SchemaIssue[]): CabildoError<'E_SCHEMA'> {
  const first = issues[0]
  const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : ''
  return new CabildoError(
    'E_SCHEMA',
    `Invalid ${type.name}${where}: ${first?.message ?? 'schema violation'}${issues.length > 1 ? ` (+${issues.length - 1} more)` : ''}`,
    { issues, recordType: type.name },
    first ? { path: first.path } : {},
  )
}

function checkObject(type: RecordType, input: unknown, what: string): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw schemaError(type, [{ path: [], code: 'invalid_type', message: `expected ${what} object` }])
  }
  return input as Record<string, unknown>
}

/** Each type's create schema, made once: zod compiles a schema on first use, so a fresh `omit()` per create would compile every time. */
const createSchemas = new WeakMap<RecordType, z.ZodType>()

function createSchema(type: RecordType): z.ZodType {
  let schema = createSchemas.get(type)
  if (!schema) createSchemas.set(type, (schema = type.schema.omit({ id: true, schemaVersion: true, archived: true })))
  return schema
}

/**
 * Validates the input of a create: every field of the schema except the managed base fields.
 * Unknown fields are refused (a typo must not be stored silently).
 * @returns the parsed fields, defaults applied.
 * @throws CabildoError `E_SCHEMA` with every issue found.
 */
export function validateCreate(type: RecordType, input: unknown): Record<string, unknown> {
  const fields = checkObject(type, input, 'an input')
  const issues: SchemaIssue[] = []
  for (const key of Object.keys(fields)) {
    if (baseFields.has(key)) issues.push({ path: [key], code: 'managed_field', message: `"${key}" is managed by cabildo` })
    else if (!(key in type.schema.shape)) issues.push({ path: [key], code: 'unknown_field', message: `unknown field "${key}"` })
  }
  const parsed = z.safeParse(createSchema(type), fields)
  if (!parsed.success) issues.push(...toSchemaIssues(parsed.error.issues))
  if (issues.length > 0) throw schemaError(type, issues)
  return parsed.data as Record<string, unknown>
}

/**
 * Validates a patch: each present field against its own schema. `undefined` clears an optional field.
 * @throws CabildoError `E_SCHEMA` with every issue found.
 */
export function validatePatch(type: RecordType, patch: unknown): Record<string, unknown> {
  const fields = checkObject(type, patch, 'a patch')
  const issues: SchemaIssue[] = []
  const out: Record<string, unknown> = {}
  const shape = type.schema.shape as Record<string, z.core.$ZodType>
  for (const [key, value] of Object.entries(fields)) {
    const fieldSchema = shape[key]
    if (baseFields.has(key)) {
      issues.push({ path: [key], code: 'managed_field', message: `"${key}" is managed by cabildo` })
    } else if (!fieldSchema) {
      issues.push({ path: [key], code: 'unknown_field', message: `unknown field "${key}"` })
    } else {
      const parsed = z.safeParse(fieldSchema, value)
      if (parsed.success) out[key] = parsed.data
      else issues.push(...toSchemaIssues(parsed.error.issues, [key]))
    }
  }
  if (issues.length > 0) throw schemaError(type, issues)
  return out
}

/** Writes one validated field into a record map, as its declared kind. Call inside a transaction. */
export function writeField(type: RecordType, map: Y.Map<unknown>, key: string, value: unknown): void {
  if (value === undefined) {
    map.delete(key)
    return
  }
  switch (fieldKind(type, key)) {
    case 'text': {
      const current = map.get(key)
      const next = String(value)
      if (current instanceof Y.Text) {
        if (current.toString() !== next) {
          current.delete(0, current.length)
          current.insert(0, next)
        }
      } else {
        map.set(key, new Y.Text(next))
      }
      return
    }
    case 'list': {
      const current = map.get(key)
      const items = value as unknown[]
      if (current instanceof Y.Array) {
        current.delete(0, current.length)
        current.push(items)
      } else {
        const list = new Y.Array<unknown>()
        list.push(items)
        map.set(key, list)
      }
      return
    }
    case 'set': {
      const members = new Set((value as unknown[]).map(String))
      let current = map.get(key)
      if (!(current instanceof Y.Map)) {
        current = new Y.Map<true>()
        map.set(key, current)
      }
      const set = current as Y.Map<unknown>
      for (const member of [...set.keys()]) if (!members.has(member)) set.delete(member)
      for (const member of members) if (!set.has(member)) set.set(member, true)
      return
    }
    case 'log': {
      let current = map.get(key)
      if (!(current instanceof Y.Map)) {
        current = new Y.Map<unknown>()
        map.set(key, current)
      }
      // A log only grows: a patch adds the entries it lists; existing entries are never removed.
      for (const entry of value as unknown[]) appendLogEntry(current as Y.Map<unknown>, entry)
      return
    }
    default:
      map.set(key, value)
  }
}

/**
 * Adds an entry to a log map under its content hash. Idempotent: the same entry twice is one entry.
 * @returns the entry's hash.
 */
export function appendLogEntry(log: Y.Map<unknown>, entry: unknown): string {
  const hash = contentHash(entry)
  if (!log.has(hash)) log.set(hash, entry)
  return hash
}
