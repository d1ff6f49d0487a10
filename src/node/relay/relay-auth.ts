/**
 * Who may connect to a relay: an auth hook runs on every WebSocket upgrade, before the upgrade,
 * and admits the connection as an identity with an access level, or refuses it (HTTP 401). The
 * token file is the built-in hook.
 *
 * ```ts
 * const authenticate = tokenAuthenticator(await readTokenFile('./tokens.json'))
 * // tokens.json: { "s3cret-north": "north", "s3cret-press": { "identity": "press", "access": "read" } }
 * ```
 *
 * A client gives its token as the `token` query parameter (browsers cannot set headers on a
 * WebSocket) or as an `Authorization: Bearer` header.
 * @module
 */
import { readFile } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { z } from 'zod'
import { CabildoError } from '../../errors'
import type { AccessLevel } from './connection-limits'

/** What a connection asks for: the route of its upgrade. */
export interface RelayTarget {
  /** The Space id (first path segment). */
  readonly spaceId: string
  /** The shard, for plain y-websocket connections (second path segment). */
  readonly shard: string | undefined
  /** `cabildo` for the subprotocol `cabildo.v1`, `plain` for plain y-websocket. */
  readonly protocol: 'cabildo' | 'plain'
}

/** Whom the auth hook admitted. */
export interface RelayAdmission {
  /** A name for the connection's owner (for the plain handler and for logs; never an author: envelopes prove authorship). */
  readonly identity: string
  /** `read`: the connection receives, but what it sends is not accepted; `read-write`: both. */
  readonly access: AccessLevel
}

/**
 * The auth hook: resolves with an admission, or `null` to refuse the upgrade with 401. A hook
 * that throws or rejects refuses it with 500. Runs before the upgrade, once per connection.
 */
export type RelayAuthenticate = (request: IncomingMessage, target: RelayTarget) => Promise<RelayAdmission | null>

const TokenGrant = z.union([z.string().min(1), z.object({ identity: z.string().min(1), access: z.enum(['read', 'read-write']).default('read-write') }).strict()])

/** The token file: a JSON object from token to identity name, or to `{ identity, access }`. */
export const TokenFile = z.record(z.string().min(1), TokenGrant)

/** A token file's content. */
export type TokenFile = z.input<typeof TokenFile>

/**
 * Reads and checks a token file.
 * @throws CabildoError `E_STORAGE` when it cannot be read; `E_PARSE` (format `cabildo-token-file`) when it is not a valid token file.
 */
export async function readTokenFile(path: string): Promise<TokenFile> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined
    throw new CabildoError('E_STORAGE', `cannot read the token file ${path}`, { operation: 'read', key: path, ...(code ? { cause: code } : {}) }, { cause: error })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new CabildoError('E_PARSE', `the token file ${path} is not JSON`, { format: 'cabildo-token-file', reason: 'not JSON' })
  }
  const parsed = TokenFile.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const field = issue?.path.join('.') ?? ''
    throw new CabildoError('E_PARSE', `the token file ${path} is invalid at ${field || 'its root'}: ${issue?.message ?? 'invalid'}`, { format: 'cabildo-token-file', reason: issue?.message ?? 'invalid', field })
  }
  return parsed.data
}

/** The token a request carries: the `token` query parameter, else an `Authorization: Bearer` header. */
export function requestToken(request: IncomingMessage): string | undefined {
  const query = new URL(request.url ?? '/', 'http://relay').searchParams.get('token')
  if (query !== null && query !== '') return query
  const header = request.headers.authorization
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null
  return match?.[1]
}

/**
 * The auth hook of a token table: a request with a known token is admitted as its identity
 * (read-write unless the table says `read`); any other is refused.
 * @throws CabildoError `E_PARSE` when the table is not a valid token file.
 */
export function tokenAuthenticator(tokens: TokenFile): RelayAuthenticate {
  const parsed = TokenFile.safeParse(tokens)
  if (!parsed.success) throw new CabildoError('E_PARSE', 'invalid token table', { format: 'cabildo-token-file', reason: parsed.error.issues[0]?.message ?? 'invalid' })
  const admissions = new Map<string, RelayAdmission>()
  for (const [token, grant] of Object.entries(parsed.data)) {
    admissions.set(token, typeof grant === 'string' ? { identity: grant, access: 'read-write' } : { identity: grant.identity, access: grant.access })
  }
  return async (request) => {
    const token = requestToken(request)
    return (token === undefined ? undefined : admissions.get(token)) ?? null
  }
}
