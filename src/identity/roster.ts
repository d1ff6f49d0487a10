/**
 * Rosters: who holds which role in a district. The district's root key grants and revokes roles
 * (`staff`, `moderator`, `agency:<code>`, `voter:<budgetId>`, any role string) to other keys by
 * signed records; {@link resolveRoster} folds those records into a {@link Roster}, identically on
 * every replica.
 *
 * ```ts
 * import { grantRole, revokeRole, filterVerified, resolveRoster } from 'cabildo'
 * const g = await grantRole(root, { doc: 'roster/north', clock: 1, subject: alice.did, role: 'staff' })
 * const r = await revokeRole(root, { doc: 'roster/north', clock: 9, subject: alice.did, role: 'staff' })
 * const { verified } = await filterVerified([g, r], { doc: 'roster/north' })
 * const roster = resolveRoster(root.did, verified)
 * roster.hasRole(alice.did, 'staff', 5) // true: granted at 1, revoked at 9
 * roster.hasRole(alice.did, 'staff', 9) // false: the revoke counts from its own clock on
 * ```
 *
 * "Later" is the total order of `record-order.ts` (Lamport clock, author, hash). A revoke at clock
 * c makes the subject's records with clock >= c stop counting for that role; a grant at a higher
 * clock restores it. Revocation is not retroactive: records with lower clocks keep counting. See
 * `docs/identity.md` for what this can and cannot guarantee.
 * @module
 */
import { z } from 'zod'
import { CabildoError } from '../errors'
import { isDidKey } from './did-key'
import { compareRecords } from './record-order'
import { signRecord, type RecordSigner, type SignedRecord, type VerifiedRecord } from './signed-record'

/** The record type that grants a role. */
export const ROSTER_GRANT = 'roster.grant'
/** The record type that revokes a role. */
export const ROSTER_REVOKE = 'roster.revoke'

/** The payload of a grant or revoke record. */
export const rosterPayloadSchema = z.strictObject({
  /** The did:key receiving or losing the role. */
  subject: z.string().refine(isDidKey, 'expected an Ed25519 did:key'),
  /** The role: `staff`, `moderator`, `agency:<code>`, `voter:<budgetId>`, or any other string. */
  role: z.string().min(1).max(200),
})

/** The payload of a grant or revoke record. */
export type RosterPayload = z.infer<typeof rosterPayloadSchema>

/** Role names cabildo's civic modules use. Any other non-empty string is a role too. */
export const Roles = {
  staff: 'staff',
  moderator: 'moderator',
  /** The agency handling a service (Open311 `agency_responsible`). */
  agency: (code: string): string => `agency:${code}`,
  /** Eligible to vote in one participatory budget. */
  voter: (budgetId: string): string => `voter:${budgetId}`,
} as const

/** One stretch of clocks during which a subject held a role: `from <= clock < until`. */
export interface RoleSpan {
  readonly subject: string
  readonly role: string
  /** The clock of the grant. */
  readonly from: number
  /** The clock of the revoke that ended the span; absent while the role is held. */
  readonly until?: number
  /** The hash of the grant record. */
  readonly grant: string
  /** The hash of the revoke record. */
  readonly revoke?: string
}

/** A roster record that does not count, and why. */
export interface RosterRejection {
  readonly record: SignedRecord
  readonly hash: string
  /** `E_FORBIDDEN`: not signed by the root; `E_INVALID`: malformed payload. */
  readonly code: 'E_FORBIDDEN' | 'E_INVALID'
  readonly reason: string
}

/** The resolved roster of one district root. */
export interface Roster {
  /** The root did the roster was resolved for. */
  readonly root: string
  /**
   * Every span of every role, in the order of their grants. Spans can be empty (`from === until`)
   * when a grant and a revoke share a clock and the revoke sorts later.
   */
  readonly grants: readonly RoleSpan[]
  /** Roster records that were not counted. Records of other types are ignored, not rejected. */
  readonly rejected: readonly RosterRejection[]
  /**
   * Whether `did` held `role` at Lamport clock `atClock`: true when a span has
   * `from <= atClock < until`. The root holds no role unless it granted it to itself.
   */
  hasRole(did: string, role: string, atClock: number): boolean
  /** The roles `did` holds at `atClock` (default: after every record), sorted. */
  rolesOf(did: string, atClock?: number): string[]
  /** The dids holding `role` at `atClock` (default: after every record), sorted. */
  holdersOf(role: string, atClock?: number): string[]
}

function covers(span: RoleSpan, clock: number): boolean {
  return span.from <= clock && (span.until === undefined || clock < span.until)
}

/**
 * Folds verified records into the roster of `rootDid`. Pure and deterministic: the same records,
 * in any order, with duplicates or not, give the same roster. Only `roster.grant` and
 * `roster.revoke` records signed by the root count; the caller verifies signatures (and the
 * document) first, e.g. with `filterVerified`.
 * @throws CabildoError `E_ARGUMENT` when `rootDid` is not an Ed25519 did:key.
 */
export function resolveRoster(rootDid: string, records: readonly VerifiedRecord[]): Roster {
  if (!isDidKey(rootDid)) {
    throw new CabildoError('E_ARGUMENT', 'The roster root must be an Ed25519 did:key', { argument: 'rootDid', reason: `got ${String(rootDid)}` })
  }
  const unique = new Map<string, VerifiedRecord>()
  for (const v of records) {
    if (v.record.type === ROSTER_GRANT || v.record.type === ROSTER_REVOKE) unique.set(v.hash, v)
  }
  const events = [...unique.values()].sort(compareRecords)

  const rejected: RosterRejection[] = []
  const spans: Array<{ -readonly [K in keyof RoleSpan]: RoleSpan[K] }> = []
  const open = new Map<string, (typeof spans)[number]>()
  for (const { record, hash } of events) {
    if (record.author !== rootDid) {
      rejected.push({ record, hash, code: 'E_FORBIDDEN', reason: `${record.type} is signed by ${record.author}, not by the roster root` })
      continue
    }
    const payload = rosterPayloadSchema.safeParse(record.payload)
    if (!payload.success) {
      const issue = payload.error.issues[0]
      rejected.push({ record, hash, code: 'E_INVALID', reason: `payload.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` })
      continue
    }
    const { subject, role } = payload.data
    // A newline cannot occur in a did:key, so the pair key is unambiguous.
    const key = `${subject}\n${role}`
    const current = open.get(key)
    if (record.type === ROSTER_GRANT) {
      if (current !== undefined) continue // already held: the earlier grant's span goes on
      const span = { subject, role, from: record.clock, grant: hash }
      spans.push(span)
      open.set(key, span)
    } else if (current !== undefined) {
      current.until = record.clock
      current.revoke = hash
      open.delete(key)
    }
  }
  const grants: readonly RoleSpan[] = Object.freeze(spans.map((s) => Object.freeze({ ...s })))
  const bySubjectRole = new Map<string, RoleSpan[]>()
  for (const span of grants) {
    const key = `${span.subject}\n${span.role}`
    const list = bySubjectRole.get(key)
    if (list) list.push(span)
    else bySubjectRole.set(key, [span])
  }

  return {
    root: rootDid,
    grants,
    rejected: Object.freeze(rejected),
    hasRole: (did, role, atClock) => (bySubjectRole.get(`${did}\n${role}`) ?? []).some((s) => covers(s, atClock)),
    rolesOf: (did, atClock = Infinity) =>
      [...new Set(grants.filter((s) => s.subject === did && covers(s, atClock)).map((s) => s.role))].sort(),
    holdersOf: (role, atClock = Infinity) =>
      [...new Set(grants.filter((s) => s.role === role && covers(s, atClock)).map((s) => s.subject))].sort(),
  }
}

/** What a grant or a revoke says, besides who signs it. */
export interface RoleChange {
  /** The roster document. */
  readonly doc: string
  /** The signer's Lamport clock (see `nextClock`). */
  readonly clock: number
  readonly subject: string
  readonly role: string
  /** Optional wall-clock time, shown to people. */
  readonly at?: string
}

async function roleRecord(type: string, signer: RecordSigner, change: RoleChange): Promise<SignedRecord<RosterPayload>> {
  const payload = rosterPayloadSchema.safeParse({ subject: change.subject, role: change.role })
  if (!payload.success) {
    throw new CabildoError('E_SCHEMA', `A ${type} needs a did:key subject and a non-empty role`, {
      issues: payload.error.issues.map((i) => ({ path: ['payload', ...i.path.map(String)], code: i.code, message: i.message })),
      recordType: type,
    })
  }
  const body = { type, doc: change.doc, clock: change.clock, payload: payload.data }
  return signRecord(signer, change.at === undefined ? body : { ...body, at: change.at })
}

/**
 * Signs a `roster.grant` record. Only the roster root's grants count.
 * @throws CabildoError `E_SCHEMA` for a bad subject, role, doc or clock; see `signRecord`.
 */
export function grantRole(root: RecordSigner, change: RoleChange): Promise<SignedRecord<RosterPayload>> {
  return roleRecord(ROSTER_GRANT, root, change)
}

/**
 * Signs a `roster.revoke` record. Only the roster root's revokes count.
 * @throws CabildoError `E_SCHEMA` for a bad subject, role, doc or clock; see `signRecord`.
 */
export function revokeRole(root: RecordSigner, change: RoleChange): Promise<SignedRecord<RosterPayload>> {
  return roleRecord(ROSTER_REVOKE, root, change)
}
