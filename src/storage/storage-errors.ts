/**
 * The errors storage adapters throw, built one way so every adapter reports the same shapes:
 * `E_STORAGE` with the operation, the key and the underlying cause code (`ENOSPC`, `EACCES`,
 * `EIO`, `QuotaExceededError`, ...), and `E_CLOSED` after `close()`.
 *
 * ```ts
 * import { storageError } from 'cabildo'
 * try { await write() } catch (err) { throw storageError('append', key, err) }
 * ```
 * @module
 */
import { CabildoError } from '../errors'

/** The storage operations named in `E_STORAGE` details. */
export type StorageOperation = 'open' | 'load' | 'append' | 'compact' | 'close' | 'flush'

/**
 * The short code of a failure: an errno code (`ENOSPC`), a DOMException name
 * (`QuotaExceededError`), the cause of a wrapped `E_STORAGE`, or `EUNKNOWN`.
 */
export function causeCode(error: unknown): string {
  if (CabildoError.is(error, 'E_STORAGE')) return error.details.cause ?? 'EUNKNOWN'
  if (typeof error === 'object' && error !== null) {
    const { code, name } = error as { code?: unknown; name?: unknown }
    if (typeof code === 'string' && code !== '') return code
    if (typeof name === 'string' && name !== '' && name !== 'Error') return name
  }
  return 'EUNKNOWN'
}

/**
 * Wraps a failure of a storage operation as `E_STORAGE`. An `E_STORAGE` or `E_CLOSED` error is
 * returned unchanged, so wrapping twice is harmless.
 */
export function storageError(
  operation: StorageOperation,
  key: string | undefined,
  error: unknown,
): CabildoError<'E_STORAGE'> | CabildoError<'E_CLOSED'> {
  if (CabildoError.is(error, 'E_STORAGE') || CabildoError.is(error, 'E_CLOSED')) return error
  const cause = causeCode(error)
  const reason = error instanceof Error ? error.message : String(error)
  const where = key === undefined ? '' : ` of "${key}"`
  return new CabildoError('E_STORAGE', `Storage ${operation}${where} failed (${cause}): ${reason}`, {
    operation,
    ...(key === undefined ? {} : { key }),
    cause,
  }, { cause: error })
}

/** The error of any call on a store after its `close()`. */
export function closedStoreError(key: string): CabildoError<'E_CLOSED'> {
  return new CabildoError('E_CLOSED', `The store of "${key}" is closed`, { what: `store ${key}` })
}

/** The error of opening a key that is already open (here or in another process). */
export function lockedError(key: string, holder: string): CabildoError<'E_STORAGE'> {
  return new CabildoError('E_STORAGE', `The store of "${key}" is already open (${holder})`, {
    operation: 'open',
    key,
    cause: 'ELOCKED',
  })
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Checks that a document key is usable: a non-empty string without lone surrogates (which have
 * no UTF-8 form, so no adapter could name them faithfully).
 * @throws `E_ARGUMENT` otherwise.
 */
export function assertStorageKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new CabildoError('E_ARGUMENT', 'A storage key must be a non-empty string', {
      argument: 'key',
      reason: 'empty or not a string',
    })
  }
  if (loneSurrogate.test(key)) {
    throw new CabildoError('E_ARGUMENT', 'A storage key must not contain lone surrogates', {
      argument: 'key',
      reason: 'lone surrogate',
    })
  }
}
