/**
 * One relay process of the cluster tests: a relay serving the Space `city` from its start, with plain y-websocket rooms (`city/*`),
 * joined to a cluster through Redis, its Spaces in PostgreSQL, its key shared with the other
 * members. Prints `listening <url> <peer id>` once it serves, `storage <code> <cause>` on stderr
 * for each storage failure, and stops on SIGTERM. The parent kills it with SIGKILL to crash it.
 *
 * Usage: node cluster-member.mjs '<json of MemberConfig>'
 */
import { loadOrCreateIdentity } from '../../src/identity/identity'
import { fileIdentityStore } from '../../src/node/file-identity-store'
import { createPlainRooms } from '../../src/node/relay/plain-rooms'
import { startRelay } from '../../src/node/relay/relay'
import { CabildoError } from '../../src/errors'

/** What the parent passes. */
export interface MemberConfig {
  readonly redis: string
  readonly postgres: string
  readonly keyFile: string
  readonly tokens: Record<string, string>
  readonly member: string
  /** The relay's `resyncEvery` (default 2,000 ms: quick recovery in tests). */
  readonly resyncEvery?: number
  /** Heartbeats on Redis (default 200 ms, members gone after 2,000 ms without one). */
  readonly heartbeatMs?: number
  readonly timeoutMs?: number
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as MemberConfig
  const identity = await loadOrCreateIdentity(fileIdentityStore(config.keyFile))
  const relay = await startRelay({
    identity,
    tokens: config.tokens,
    redis: { url: config.redis, member: config.member, heartbeatMs: config.heartbeatMs ?? 200, timeoutMs: config.timeoutMs ?? 2_000 },
    postgres: { connectionString: config.postgres, poolSize: 4, retry: { attempts: 2, initialDelayMs: 50, maxDelayMs: 100 } },
    spaces: ['city'],
    plain: ({ identity: key }) => {
      const rooms = createPlainRooms({ identity: key, accept: ['city/*'], pingEvery: 0 })
      rooms.on('refused', ({ room, identity: who, code, reason }) => process.stderr.write(`plain refused ${room} ${who ?? '-'} ${code}: ${reason}\n`))
      return rooms
    },
    resyncEvery: config.resyncEvery ?? 2_000,
    onStorageError: (failure) => {
      process.stderr.write(`storage ${failure.code} ${CabildoError.is(failure, 'E_STORAGE') ? (failure.details.cause ?? '') : ''}\n`)
    },
  })
  process.stdout.write(`listening ${relay.url} ${relay.peerId}\n`)
  process.once('SIGTERM', () => {
    void relay.close().then(() => process.exit(0))
  })
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
