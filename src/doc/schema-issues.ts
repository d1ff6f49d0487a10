/**
 * Conversion of zod issues into cabildo's {@link SchemaIssue}s.
 * @module
 */
import type { z } from 'zod'
import type { SchemaIssue } from '../errors'

/** zod issues as {@link SchemaIssue}s, with `prefix` prepended to each path. */
export function toSchemaIssues(issues: readonly z.core.$ZodIssue[], prefix: ReadonlyArray<string | number> = []): SchemaIssue[] {
  return issues.map((issue) => ({
    path: [...prefix, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))],
    code: issue.code,
    message: issue.message,
  }))
}
