/**
 * Signed acts on proposals: `publish()`, `review()`, `accept()`, `reject()`, `withdraw()`,
 * `support()`, `unsupport()`, the amendment methods (`amendment-actions.ts`), and `resolve()`
 * for the authoritative view, which applies the phase and threshold of a governing process.
 *
 * ```ts
 * const proposal = await space.proposals.create({ title: 'Shade for the playground', district: 'north', process: 'pb-2027' })
 * proposal.text('body').insert(0, 'Plant ten trees around the playground.')
 * await proposal.publish() // signs the title and the body's SHA-256: the official revision
 * const { status, supporters, qualified, bodyMatchesOfficial } = await proposal.resolve()
 * ```
 * Every act is signed with the Space's identity and refused, before anything is stored, when
 * it would not count (`E_FORBIDDEN`, `E_INVALID`, `E_LATE`).
 * @module
 */
import { CabildoError } from '../errors'
import type { Collection, CreatePlan } from '../doc/collection'
import type { Entity } from '../doc/entity'
import {
  isProposalAct,
  proposalBodyHash,
  proposalOrigin,
  ProposalAct,
  resolveProposal,
  type ProposalLifecycleOptions,
  type ProposalView,
} from '../civic/proposal-lifecycle'
import type { ProcessGovernance } from '../civic/process-phases'
import type { PolicyRecord } from '../policy/policy-record'
import type { Proposal, ProposalStatus } from '../schema/proposal'
import { asPolicyRecord, boundCreatePlan, refusalError, type CreateContext } from './act-checks'
import { amendmentActions, type AmendmentActions } from './amendment-actions'
import type { SpaceActs } from './space-acts'

/** Options of a lifecycle act. */
export interface ProposalActOptions {
  /** A note shown with the new status (e.g. a moderator's answer). */
  readonly note?: string
}

/** The signed acts of a proposal entity. */
export interface ProposalActions extends AmendmentActions<ProposalActions> {
  /**
   * Publishes the draft: signs its current title and the SHA-256 of its current body (the
   * official revision). Only its author may.
   * @throws CabildoError `E_FORBIDDEN`, `E_INVALID` when the act would not count.
   */
  publish(options?: ProposalActOptions): Promise<ProposalView>
  /** Puts a published proposal under review (a district moderator). @throws CabildoError `E_FORBIDDEN`, `E_INVALID`. */
  review(options?: ProposalActOptions): Promise<ProposalView>
  /** Accepts a proposal under review (a district moderator). @throws CabildoError `E_FORBIDDEN`, `E_INVALID`. */
  accept(options?: ProposalActOptions): Promise<ProposalView>
  /** Rejects a proposal under review (a district moderator). @throws CabildoError `E_FORBIDDEN`, `E_INVALID`. */
  reject(options?: ProposalActOptions): Promise<ProposalView>
  /** Withdraws the proposal (its author, before evaluation). @throws CabildoError `E_FORBIDDEN`, `E_INVALID`. */
  withdraw(options?: ProposalActOptions): Promise<ProposalView>
  /**
   * Supports the proposal with the Space's key (once: supporting again changes nothing).
   * @throws CabildoError `E_INVALID` before publication, `E_LATE` after evaluation or withdrawal,
   * `E_FORBIDDEN` without the configured support role or without an identity.
   */
  support(): Promise<ProposalView>
  /** Withdraws this key's support. @throws CabildoError `E_INVALID` when the key does not support it. */
  unsupport(): Promise<ProposalView>
  /** The authoritative view: status, official revision, supporters, amendments, history, conflicts and rejected acts. */
  resolve(): Promise<ProposalView>
}

/** What the proposal behaviour needs from the rest of the Space. */
export interface ProposalContext {
  /** The process governing a process key, if any (supports and threshold then follow its signed phases). */
  readonly governance?: (key: string) => Promise<ProcessGovernance | undefined>
  /** The proposals collection, where amendments are created. */
  readonly proposals?: () => Collection<typeof Proposal, 'createdAt', ProposalActions>
}

/** The proposal-related services a Space gives its proposals collection. */
export function proposalBehaviour(acts: SpaceActs, options: ProposalLifecycleOptions = {}, context: ProposalContext = {}): {
  planCreate: (context: CreateContext) => Promise<CreatePlan>
  extend: (entity: Entity<typeof Proposal>) => ProposalActions
} {
  const resolveEntity = async (entity: Entity<typeof Proposal>, extra?: PolicyRecord): Promise<ProposalView> => {
    const value = entity.get().value
    const read = await acts.read(entity.shard, isProposalAct(entity.id))
    const entries = extra ? [...read, extra] : read
    const origin = proposalOrigin(entity.id, entries)
    const district = origin?.district ?? value.district ?? ''
    const key = origin?.process ?? value.process
    const process = key === undefined ? undefined : await context.governance?.(key)
    const fields = { id: entity.id, title: value.title, body: value.body, process: value.process }
    return resolveProposal(fields, entries, await acts.authorizer(district), options, process)
  }

  /** Signs an act, resolves with it before storing it, and stores it only if it counts. */
  const commit = async (
    entity: Entity<typeof Proposal>,
    type: string,
    payload: Record<string, unknown>,
    action: string,
    refusal: string,
    mirror?: Partial<Pick<Proposal, 'status'>>,
  ): Promise<ProposalView> => {
    const record = await acts.sign(entity.shard, type, payload)
    const preview = asPolicyRecord(record)
    const after = await resolveEntity(entity, preview)
    const refused = after.rejected.find((r) => r.hash === preview.hash)
    if (refused) throw refusalError(refused, refusal, record.author, action)
    const doc = await acts.docOf(entity.shard)
    doc.transact(() => {
      acts.append(doc, record)
      // The plain status mirrors the signed one for plain readers; the signed acts stay authoritative.
      if (mirror) entity.update(mirror)
    }, acts.localOrigin)
    return after
  }

  const transition = async (entity: Entity<typeof Proposal>, to: ProposalStatus, opts: ProposalActOptions = {}): Promise<ProposalView> => {
    const before = await resolveEntity(entity)
    const value = entity.get().value
    const revision = to === 'published' ? { ...(value.title === undefined ? {} : { title: value.title }), bodyHash: proposalBodyHash(value.body ?? '') } : {}
    const payload = { proposal: entity.id, from: before.status, to, ...(opts.note === undefined ? {} : { note: opts.note }), ...revision }
    const refusal = `Cannot move proposal ${entity.id} from ${before.status} to ${to}`
    const after = await commit(entity, ProposalAct.transition, payload, `proposal.${to}`, refusal, { status: to })
    if (after.status !== to) throw new CabildoError('E_INVALID', `Proposal ${entity.id} did not move to ${to}`, { reason: 'a concurrent transition won' })
    return after
  }

  const support = async (entity: Entity<typeof Proposal>): Promise<ProposalView> => {
    const me = acts.identity(ProposalAct.support).did
    const before = await resolveEntity(entity)
    if (before.supporters.some((s) => s.supporter === me)) return before
    return commit(entity, ProposalAct.support, { proposal: entity.id }, ProposalAct.support, `Cannot support proposal ${entity.id}`)
  }

  return {
    planCreate: boundCreatePlan(acts, ProposalAct.create, (proposal, nonce, fields) => ({
      proposal,
      nonce,
      district: fields['district'],
      process: fields['process'],
      // An amendment's creation pins its parent: the plain `amends` field links nothing by itself.
      ...(fields['amends'] === undefined ? {} : { amends: fields['amends'] }),
    })),
    extend: (entity) => ({
      publish: (o) => transition(entity, 'published', o),
      review: (o) => transition(entity, 'under_review', o),
      accept: (o) => transition(entity, 'accepted', o),
      reject: (o) => transition(entity, 'rejected', o),
      withdraw: (o) => transition(entity, 'withdrawn', o),
      support: () => support(entity),
      unsupport: () => commit(entity, ProposalAct.unsupport, { proposal: entity.id }, ProposalAct.unsupport, `Cannot withdraw support from ${entity.id}`),
      resolve: () => resolveEntity(entity),
      ...amendmentActions<ProposalActions>(entity, {
        proposals: () => {
          if (!context.proposals) throw new CabildoError('E_ARGUMENT', 'Amendments need the proposals collection', { argument: 'context', reason: 'no proposals collection' })
          return context.proposals()
        },
        origin: async (e) => proposalOrigin(e.id, await acts.read(e.shard, isProposalAct(e.id))),
        resolve: (e) => resolveEntity(e),
        commit: (e, type, payload, action, refusal) => commit(e, type, payload, action, refusal),
      }),
    }),
  }
}
