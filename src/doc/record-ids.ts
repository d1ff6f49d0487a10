/**
 * Record ids and shard names.
 *
 * A shard is one Y.Doc named `<scope>.<key>` (`tickets.2026-11`, `process.pb2026`,
 * `budget.k3xq9`). A record id is `<shard>/<key>` (`tickets.2026-11/8fj2kq`), so any replica
 * can tell from an id alone which shard holds the record and open just that one.
 * @module
 */
import { CabildoError } from '../errors'

const shardPattern = /^[a-z][a-z0-9-]{0,31}\.[A-Za-z0-9_-]{1,64}$/
const keyPattern = /^[A-Za-z0-9_-]{1,64}$/

/** True when `name` is a valid shard name (`<scope>.<key>`). */
export function isShardName(name: string): boolean {
  return shardPattern.test(name)
}

/**
 * Checks a shard name.
 * @throws CabildoError `E_ARGUMENT` when it is not `<scope>.<key>` of letters, digits, `_` and `-`.
 */
export function assertShardName(name: string): void {
  if (!shardPattern.test(name)) {
    throw new CabildoError('E_ARGUMENT', `Invalid shard name "${name}": expected <scope>.<key>, e.g. "tickets.2026-11"`, {
      argument: 'shard',
      reason: 'expected <scope>.<key> of letters, digits, _ and -',
    })
  }
}

/**
 * The record id for a key in a shard.
 * @throws CabildoError `E_ARGUMENT` for an invalid shard name or key.
 */
export function recordId(shard: string, key: string): string {
  assertShardName(shard)
  if (!keyPattern.test(key)) {
    throw new CabildoError('E_ARGUMENT', `Invalid record key "${key}"`, { argument: 'key', reason: 'expected 1-64 letters, digits, _ and -' })
  }
  return `${shard}/${key}`
}

/** The shard holding a record id, or `undefined` when the id is not a cabildo record id. */
export function shardOfId(id: string): string | undefined {
  const slash = id.indexOf('/')
  if (slash < 0) return undefined
  const shard = id.slice(0, slash)
  return shardPattern.test(shard) && keyPattern.test(id.slice(slash + 1)) ? shard : undefined
}

/** A fresh random record key (16 characters of base-62), from the platform's CSPRNG. */
export function randomKey(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
  const bytes = new Uint8Array(32)
  let key = ''
  while (key.length < 16) {
    globalThis.crypto.getRandomValues(bytes)
    // Bytes >= 248 (= 4 * 62) are skipped so that every character is equally likely.
    for (const b of bytes) if (b < 248 && key.length < 16) key += alphabet[b % 62]
  }
  return key
}
