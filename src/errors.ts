/**
 * One error class for the whole library: {@link CabildoError}, with a stable string `code`
 * and per-code typed `details`.
 *
 * ```ts
 * import { CabildoError } from 'cabildo'
 * try {
 *   await space.tickets.create({ service_code: '' } as never)
 * } catch (err) {
 *   if (CabildoError.is(err, 'E_SCHEMA')) console.log(err.details.issues)
 * }
 * ```
 * @module
 */

/** A path to the field at fault, as zod reports it (object keys and array indexes). */
export type ErrorPath = ReadonlyArray<string | number>

/** One schema problem found in a record or a write. */
export interface SchemaIssue {
  /** Where the problem is, from the record's root. */
  readonly path: ErrorPath
  /** zod's issue code (`invalid_type`, `too_small`, ...) or `unknown_field`. */
  readonly code: string
  /** A human-readable explanation. */
  readonly message: string
}

/**
 * The details carried by each error code. Adding a code means adding a key here: the
 * compiler then knows the shape of `err.details` after `CabildoError.is(err, code)`.
 */
export interface CabildoErrorDetails {
  /** A local write or an input failed its schema. Nothing was written. */
  E_SCHEMA: { readonly issues: readonly SchemaIssue[]; readonly recordType?: string }
  /** An argument to an API call is unusable (not a schema failure: e.g. a malformed id). */
  E_ARGUMENT: { readonly argument: string; readonly reason: string }
  /** A record, shard or key that was asked for does not exist. */
  E_NOT_FOUND: { readonly kind: string; readonly id: string }
  /** The object was closed (a Space, a store, a transport) and cannot be used any more. */
  E_CLOSED: { readonly what: string }
  /** A signature does not verify for the claimed author. */
  E_SIGNATURE: { readonly author?: string; readonly hash?: string; readonly reason?: string }
  /** A key could not be created, imported or decoded. */
  E_KEY: { readonly reason: string }
  /** The author is not allowed to make this act. */
  E_FORBIDDEN: { readonly actor: string; readonly action: string; readonly reason?: string }
  /** A record is well-formed but breaks a domain rule (e.g. a ballot with too many projects). */
  E_INVALID: { readonly reason: string; readonly rule?: string }
  /** A record arrived after the act that closed what it belongs to (e.g. a ballot after the vote closed). */
  E_LATE: { readonly reason: string }
  /** Update bytes could not be decoded safely. */
  E_UPDATE_MALFORMED: { readonly reason: string }
  /** Update bytes exceed the configured limit. */
  E_UPDATE_TOO_LARGE: { readonly size: number; readonly limit: number }
  /** An update contains structs under a Yjs client id that is not bound to its signer. */
  E_FORGED_CLIENT: { readonly client: number; readonly author?: string }
  /** An update's clocks do not continue its author's sequence. */
  E_CLOCK: { readonly client: number; readonly expected: number; readonly got: number }
  /** An update deletes content its author may not delete. */
  E_FORBIDDEN_DELETE: { readonly client: number; readonly clock: number }
  /** Text in an outside format (Pabulib, Open311, a bundle) could not be parsed. */
  E_PARSE: { readonly format: string; readonly reason: string; readonly line?: number; readonly field?: string }
  /** A storage operation failed (disk full, permission denied, quota exceeded, ...). */
  E_STORAGE: { readonly operation: string; readonly key?: string; readonly cause?: string }
  /** Something did not finish within its limit (e.g. a simulated network still busy after `limit` steps). */
  E_TIMEOUT: { readonly what: string; readonly limit: number }
  /** A network operation failed (an address in use, a server that cannot listen). */
  E_NETWORK: { readonly operation: string; readonly address?: string; readonly cause?: string }
}

/** Every error code the library uses. */
export type CabildoErrorCode = keyof CabildoErrorDetails

/**
 * The only error type cabildo throws at its API edges.
 *
 * `code` is stable and meant for programs; `message` is for people; `details` is typed per code;
 * `path` names the field at fault when there is one.
 */
export class CabildoError<C extends CabildoErrorCode = CabildoErrorCode> extends Error {
  /** The stable error code. */
  readonly code: C
  /** Structured details, typed by {@link CabildoErrorDetails}. */
  readonly details: CabildoErrorDetails[C]
  /** The field at fault, when there is one. */
  readonly path: ErrorPath | undefined

  /**
   * @param code - the stable code
   * @param message - a sentence for people
   * @param details - the code's typed details
   * @param options - `path` of the field at fault, `cause` of the failure
   */
  constructor(
    code: C,
    message: string,
    details: CabildoErrorDetails[C],
    options: { path?: ErrorPath; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CabildoError'
    this.code = code
    this.details = details
    this.path = options.path
  }

  /**
   * Narrows an unknown value to a `CabildoError`, optionally of one code.
   * @example `if (CabildoError.is(err, 'E_SCHEMA')) err.details.issues`
   */
  static is<K extends CabildoErrorCode>(value: unknown, code?: K): value is CabildoError<K> {
    return value instanceof CabildoError && (code === undefined || value.code === code)
  }
}
