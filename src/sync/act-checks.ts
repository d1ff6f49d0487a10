/**
 * Pieces every signed-act behaviour of a Space shares: creating a record under a key bound to its
 * creator with a signed creation act, and refusing an act that would not count before it is
 * stored.
 *
 * ```ts
 * const record = await acts.sign(shard, 'proposal.transition', payload)
 * const refused = preview(asPolicyRecord(record)).rejected.find((r) => r.hash === recordHash(record))
 * if (refused) throw refusalError(refused, 'Cannot publish', record.author, 'proposal.published')
 * ```
 * @module
 */
import { CabildoError } from '../errors'
import type { CreatePlan } from '../doc/collection'
import { boundKey } from '../civic/bound-key'
import type { Rejected } from '../policy/merge-policy'
import type { PolicyRecord } from '../policy/policy-record'
import { recordHash, type SignedRecord } from '../identity/signed-record'
import type { SpaceActs } from './space-acts'

/** What a collection's `planCreate` receives. */
export interface CreateContext {
  readonly shard: string
  readonly fields: Readonly<Record<string, unknown>>
}

/**
 * A `planCreate` that gives the record a key bound to the Space's identity and writes, in the
 * same transaction, a signed creation act of type `type` whose payload `payloadOf` builds from
 * the record's id, the nonce and its validated fields. Without an identity the record gets a
 * random key and no creation act (it has no signed creator).
 */
export function boundCreatePlan<P>(
  acts: SpaceActs,
  type: string,
  payloadOf: (id: string, nonce: string, fields: Readonly<Record<string, unknown>>) => P,
): (context: CreateContext) => Promise<CreatePlan> {
  return async ({ shard, fields }) => {
    if (!acts.hasIdentity()) return {}
    const identity = acts.identity(type)
    const nonce = acts.randomKey()
    const key = boundKey(identity.did, nonce)
    const record = await acts.sign(shard, type, payloadOf(`${shard}/${key}`, nonce, fields))
    return { key, alsoWrite: (doc) => acts.append(doc, record) }
  }
}

/** A signed record as a policy sees it once verified (for previews of one's own fresh act). */
export function asPolicyRecord(record: SignedRecord): PolicyRecord {
  const entry: PolicyRecord = { hash: recordHash(record), author: record.author, clock: record.clock, type: record.type, payload: record.payload }
  return record.at === undefined ? entry : { ...entry, at: record.at }
}

/**
 * The error thrown for an act refused before it was stored: `E_FORBIDDEN` when its author lacks
 * the role, `E_LATE` when it comes after the act that closed what it belongs to, `E_INVALID`
 * otherwise (the refusal's code and rule are in `details`; `over_cap` becomes `E_INVALID` with
 * rule `over_cap`).
 */
export function refusalError(refused: Rejected, message: string, actor: string, action: string): CabildoError {
  const text = `${message}: ${refused.reason}`
  if (refused.code === 'E_FORBIDDEN') return new CabildoError('E_FORBIDDEN', text, { actor, action, reason: refused.reason })
  if (refused.code === 'E_LATE') return new CabildoError('E_LATE', text, { reason: refused.reason })
  const rule = refused.code === 'over_cap' ? 'over_cap' : refused.rule
  return new CabildoError('E_INVALID', text, { reason: refused.reason, ...(rule === undefined ? {} : { rule }) })
}
