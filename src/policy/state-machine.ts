/**
 * A state machine over transition records: which transitions exist, which role may make each,
 * pure guards, and a deterministic choice among concurrent transitions from the same state.
 *
 * ```ts
 * import { stateMachine, enteredWithin } from 'cabildo'
 * const ticket = stateMachine({
 *   states: ['open', 'closed'],
 *   initial: 'open',
 *   transitions: [
 *     { from: 'open', to: 'closed', role: 'staff' },
 *     { from: 'closed', to: 'open', role: 'citizen', guard: enteredWithin('closed', 100) },
 *   ],
 *   authorize: roster.authorize,
 * })
 * ticket.resolve(records).view.state // 'open' | 'closed'
 * ```
 *
 * A transition record's payload is `{ from, to, ...data }`, where `from` is the state its author
 * saw. The fold walks the records in the total order (among records with the same clock, the
 * target with the higher `priority` first) and, for each record:
 * 1. `from`/`to` not states, or no rule `from → to`: `E_INVALID`;
 * 2. no rule `from → to` whose role the author holds at the record's clock: `E_FORBIDDEN`;
 * 3. `from` is not the current state: a `lost` conflict when a transition from `from` was
 *    accepted earlier (it won the race), else `E_INVALID` (the state was never `from` before);
 * 4. every authorized rule's guard refuses: the guard's code (default `E_INVALID`);
 * 5. otherwise the transition is accepted and the state becomes `to`.
 * So among concurrent transitions from one state, the first in the fold order wins and the
 * others are reported as `lost`, with the winner's hash.
 * @module
 */
import { engineBackedPolicy, type BatchResolver } from './engine-policy'
import { CabildoError } from '../errors'
import type { Conflict, IncrementalPolicy, Resolution } from './merge-policy'
import { compareStrings, type Authorize, type PolicyEntry, type PolicyRecord } from './policy-record'
import {
  createRecordIntake,
  insertionIndex,
  payloadField,
  refuse,
  sortRejected,
  type RecordIntake,
  type Refusal,
} from './record-intake'

/** A transition that was accepted, as guards and the view see it. */
export interface AcceptedTransition<S extends string> {
  /** Hash of the transition record. */
  readonly hash: string
  /** Who made it. */
  readonly author: string
  /** Its Lamport clock. */
  readonly clock: number
  /** The state it left. */
  readonly from: S
  /** The state it entered. */
  readonly to: S
  /** The record's whole payload (`from`, `to` and the author's data). */
  readonly payload: unknown
}

/** What a guard says: pass, or refuse with a reason (and optionally a rule name and a code). */
export type GuardResult =
  | { readonly ok: true }
  | {
      readonly ok: false
      readonly reason: string
      readonly rule?: string
      /** Code of the refusal; default `E_INVALID`. */
      readonly code?: 'E_INVALID' | 'E_FORBIDDEN' | 'E_LATE'
    }

/**
 * A pure check of a transition against the current state and the accepted history (oldest
 * first). `history` is only valid during the call: copy what you keep. A guard that throws
 * refuses the record with `E_INVALID` rather than breaking the fold.
 */
export type TransitionGuard<S extends string> = (
  record: PolicyRecord,
  state: S,
  history: readonly AcceptedTransition<S>[],
) => GuardResult

/** One allowed transition. Several rules may share a `from → to` pair: any of them may accept. */
export interface TransitionRule<S extends string> {
  /** The state(s) it leaves. */
  readonly from: S | readonly S[]
  /** The state it enters. */
  readonly to: S
  /** Role(s) that may make it (any of them); absent: anyone. Needs `authorize` in the config. */
  readonly role?: string | readonly string[]
  /** An extra pure condition. */
  readonly guard?: TransitionGuard<S>
}

/** Options of {@link stateMachine}. */
export interface StateMachineConfig<S extends string> {
  /** Every state. */
  readonly states: readonly S[]
  /** The state before any transition. */
  readonly initial: S
  /** The allowed transitions. */
  readonly transitions: readonly TransitionRule<S>[]
  /** Checks roles; required when a rule names a role. */
  readonly authorize?: Authorize
  /**
   * Among transitions with the same Lamport clock (certainly concurrent, if clocks are honest),
   * those entering a state with a higher priority are folded first, so they win. Default 0.
   */
  readonly priority?: Partial<Record<S, number>>
}

/** The view of a {@link stateMachine}. */
export interface StateMachineView<S extends string> {
  /** The current state. */
  readonly state: S
  /** Every accepted transition, in the fold order. */
  readonly history: readonly AcceptedTransition<S>[]
}

/** The policy {@link stateMachine} returns: batch and incremental. */
export type StateMachinePolicy<S extends string> = IncrementalPolicy<PolicyEntry, StateMachineView<S>>

/**
 * A guard that passes while the record's clock is at most `ticks` after the transition that last
 * entered `state`: e.g. "a citizen may reopen within 100 ticks of the closing". Refuses with
 * `E_LATE` (rule `enteredWithin`). Clocks are declared by authors: this bounds the causal
 * distance an honest client reports, not wall time (see docs/policies.md).
 */
export function enteredWithin<S extends string>(state: NoInfer<S>, ticks: number): TransitionGuard<S> {
  return (record, _current, history) => {
    for (let i = history.length - 1; i >= 0; i--) {
      const t = history[i] as AcceptedTransition<S>
      if (t.to !== state) continue
      if (record.clock - t.clock <= ticks) return { ok: true }
      return { ok: false, code: 'E_LATE', rule: 'enteredWithin', reason: `more than ${ticks} clock ticks after entering '${state}' at clock ${t.clock}` }
    }
    return { ok: false, rule: 'enteredWithin', reason: `'${state}' was never entered` }
  }
}

interface CompiledRule<S extends string> {
  readonly roles: readonly string[] | undefined
  readonly guard: TransitionGuard<S> | undefined
}

type Outcome = { readonly kind: 'accepted' } | { readonly kind: 'refused'; readonly refusal: Refusal } | { readonly kind: 'lost'; readonly conflict: Conflict }

interface Slot<S extends string> {
  readonly record: PolicyRecord
  /** Priority of the target state, for the fold order. */
  readonly rank: number
  outcome: Outcome
  /** State after this record. */
  state: S
  /** History length after this record. */
  accepted: number
}

const pairKey = (from: string, to: string): string => `${from}\u0000${to}`

function compileRules<S extends string>(config: StateMachineConfig<S>): Map<string, CompiledRule<S>[]> {
  const states = new Set<string>(config.states)
  const bad = (reason: string): never => {
    throw new CabildoError('E_ARGUMENT', `Invalid state machine: ${reason}`, { argument: 'config', reason })
  }
  if (!states.has(config.initial)) bad(`initial state '${config.initial}' is not in states`)
  const rules = new Map<string, CompiledRule<S>[]>()
  for (const rule of config.transitions) {
    const froms: readonly S[] = typeof rule.from === 'string' ? [rule.from as S] : (rule.from as readonly S[])
    const roles = rule.role === undefined ? undefined : typeof rule.role === 'string' ? [rule.role] : [...rule.role]
    if (roles !== undefined && config.authorize === undefined) bad(`a rule into '${rule.to}' names a role but no authorize function was given`)
    if (!states.has(rule.to)) bad(`state '${rule.to}' is not in states`)
    for (const from of froms) {
      if (!states.has(from)) bad(`state '${from}' is not in states`)
      const key = pairKey(from, rule.to)
      rules.set(key, [...(rules.get(key) ?? []), { roles, guard: rule.guard }])
    }
  }
  return rules
}

/**
 * A state machine policy.
 * Guarantees: the fold is deterministic and order-free; a record's outcome depends only on the
 * records before it in the fold order, so a late-arriving record never changes the outcome of
 * records before it; refused and losing transitions are all reported.
 * @throws CabildoError `E_ARGUMENT` when the configuration names unknown states, or roles without `authorize`
 */
export function stateMachine<S extends string>(config: StateMachineConfig<S>): StateMachinePolicy<S> {
  const rules = compileRules(config)
  const states = new Set<string>(config.states)
  const priority: Partial<Record<string, number>> = config.priority ?? {}

  const rankOf = (record: PolicyRecord): number => {
    const to = payloadField(record.payload, 'to')
    if (typeof to !== 'string' || !states.has(to) || !Object.prototype.hasOwnProperty.call(priority, to)) return 0
    return priority[to] ?? 0
  }
  const compareSlots = (a: Slot<S>, b: Slot<S>): number => {
    if (a.record.clock !== b.record.clock) return a.record.clock < b.record.clock ? -1 : 1
    if (a.rank !== b.rank) return a.rank > b.rank ? -1 : 1
    if (a.record.author !== b.record.author) return a.record.author < b.record.author ? -1 : 1
    return compareStrings(a.record.hash, b.record.hash)
  }

  const step = (record: PolicyRecord, current: S, history: readonly AcceptedTransition<S>[]): Outcome => {
    const from = payloadField(record.payload, 'from')
    const to = payloadField(record.payload, 'to')
    if (typeof from !== 'string' || typeof to !== 'string' || !states.has(from) || !states.has(to)) {
      return { kind: 'refused', refusal: refuse(record, 'E_INVALID', 'expected a payload { from, to } naming states of this machine') }
    }
    const candidates = rules.get(pairKey(from, to))
    if (candidates === undefined) {
      return { kind: 'refused', refusal: refuse(record, 'E_INVALID', `no transition from '${from}' to '${to}'`) }
    }
    const authorize = config.authorize
    const allowed = candidates.filter(
      (r) => r.roles === undefined || (authorize !== undefined && r.roles.some((role) => authorize(record.author, role, record.clock))),
    )
    if (allowed.length === 0) {
      const roles = [...new Set(candidates.flatMap((r) => r.roles ?? []))].join("' or '")
      return { kind: 'refused', refusal: refuse(record, 'E_FORBIDDEN', `${record.author} lacks role '${roles}' at clock ${record.clock} to move '${from}' → '${to}'`) }
    }
    if (from !== current) {
      for (let i = history.length - 1; i >= 0; i--) {
        const won = history[i] as AcceptedTransition<S>
        if (won.from !== from) continue
        const reason = `'${from}' was already left for '${won.to}' by ${won.hash}; the state is '${current}'`
        return { kind: 'lost', conflict: { kind: 'lost', path: [], hashes: [record.hash], winner: won.hash, reason } }
      }
      return { kind: 'refused', refusal: refuse(record, 'E_INVALID', `the state is '${current}', not '${from}'`) }
    }
    let failure: GuardResult | undefined
    for (const rule of allowed) {
      if (rule.guard === undefined) return { kind: 'accepted' }
      let result: GuardResult
      try {
        result = rule.guard(record, current, history)
      } catch (err) {
        result = { ok: false, reason: `guard failed: ${err instanceof Error ? err.message : String(err)}` }
      }
      if (result.ok) return { kind: 'accepted' }
      failure ??= result
    }
    const f = failure as Extract<GuardResult, { ok: false }>
    return { kind: 'refused', refusal: refuse(record, f.code ?? 'E_INVALID', f.reason, f.rule) }
  }

  const createEngine = (): BatchResolver<StateMachineView<S>> => {
    const intake: RecordIntake = createRecordIntake()
    const slots: Slot<S>[] = []
    const history: AcceptedTransition<S>[] = []
    let cached: Resolution<StateMachineView<S>> | undefined

    const refoldFrom = (p: number): void => {
      const before = p > 0 ? (slots[p - 1] as Slot<S>) : undefined
      let current = before?.state ?? config.initial
      history.length = before?.accepted ?? 0
      for (let i = p; i < slots.length; i++) {
        const slot = slots[i] as Slot<S>
        const outcome = step(slot.record, current, history)
        if (outcome.kind === 'accepted') {
          const { hash, author, clock, payload } = slot.record
          const to = payloadField(payload, 'to') as S
          history.push({ hash, author, clock, from: current, to, payload })
          current = to
        }
        slot.outcome = outcome
        slot.state = current
        slot.accepted = history.length
      }
    }
    const newSlot = (record: PolicyRecord): Slot<S> => ({ record, rank: rankOf(record), outcome: { kind: 'accepted' }, state: config.initial, accepted: 0 })

    return {
      add(entry) {
        const result = intake.add(entry)
        if (result.kind === 'duplicate') return
        cached = undefined
        if (result.kind !== 'record') return
        const slot = newSlot(result.record)
        const p = insertionIndex(slots, slot, compareSlots)
        slots.splice(p, 0, slot)
        refoldFrom(p)
      },
      bulk(entries) {
        for (const entry of entries) {
          const result = intake.add(entry)
          if (result.kind === 'record') slots.push(newSlot(result.record))
        }
        slots.sort(compareSlots)
        cached = undefined
        refoldFrom(0)
      },
      view() {
        if (cached !== undefined) return cached
        const refusals: Refusal[] = intake.refusals()
        const conflicts: Conflict[] = []
        for (const slot of slots) {
          if (slot.outcome.kind === 'refused') refusals.push(slot.outcome.refusal)
          else if (slot.outcome.kind === 'lost') conflicts.push(slot.outcome.conflict)
        }
        const last = slots[slots.length - 1]
        cached = {
          view: { state: last?.state ?? config.initial, history: history.slice() },
          conflicts,
          rejected: sortRejected(refusals),
        }
        return cached
      },
      get size() {
        return intake.size
      },
    }
  }

  return engineBackedPolicy(createEngine)
}
