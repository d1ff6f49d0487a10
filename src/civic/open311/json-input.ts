/**
 * Small helpers for reading untrusted JSON from Open311 servers: parsing text, recognising plain
 * objects, copying keys without prototype surprises, and building the library's typed errors.
 * @module
 */
import { CabildoError, type SchemaIssue } from '../../errors'

/** The format name carried by every `E_PARSE` this folder throws. */
export const OPEN311_FORMAT = 'open311'

/** A JSON object as read from the wire: string keys, unknown values. */
export type JsonObject = Record<string, unknown>

/**
 * Accepts either JSON text or an already parsed JSON value and returns the value.
 * @throws CabildoError `E_PARSE` (format `open311`) when text is not valid JSON.
 */
export function parseJsonInput(input: unknown): unknown {
  if (typeof input !== 'string') return input
  try {
    return JSON.parse(input) as unknown
  } catch (cause) {
    const reason = cause instanceof SyntaxError ? cause.message : 'invalid JSON text'
    throw new CabildoError('E_PARSE', `Open311 input is not valid JSON: ${reason}`, { format: OPEN311_FORMAT, reason }, { cause })
  }
}

/** True for a JSON object (not `null`, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A JSON type name for messages: `null`, `array`, `object`, `string`, ... */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/**
 * Sets an own, enumerable property. JSON.parse creates an own key named `__proto__` when the text
 * has one; a plain assignment would change the target's prototype instead of copying the field.
 */
export function setOwn(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

/** Reads an own property only, never one inherited through the prototype chain. */
export function getOwn(source: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(source, key) ? source[key] : undefined
}

/**
 * Builds the `E_SCHEMA` error for a list of issues; the error's `path` is the first issue's.
 */
export function schemaError(message: string, issues: readonly SchemaIssue[], recordType: string): CabildoError<'E_SCHEMA'> {
  return new CabildoError('E_SCHEMA', message, { issues, recordType }, { path: issues[0]?.path ?? [] })
}

/**
 * Throws `E_PARSE` when a list was expected and something else arrived.
 * @throws CabildoError `E_PARSE`
 */
export function requireJsonArray(value: unknown, what: string): readonly unknown[] {
  if (Array.isArray(value)) return value
  const reason = `expected a JSON array of ${what}, got ${jsonTypeOf(value)}`
  throw new CabildoError('E_PARSE', `Open311 input: ${reason}`, { format: OPEN311_FORMAT, reason })
}
