/**
 * What a simulation asserts once every partition healed and every replica caught up: the honest
 * replicas hold identical documents (state vector, delete set, content) and identical resolved
 * views; every acknowledged write is everywhere; no attack envelope reached an honest document;
 * every refused envelope and every rejected record has a code that explains it.
 *
 * One documented exception is told apart rather than reported: a replica that crashed between
 * the append of an edit's Yjs update and the append of its envelope keeps that content without
 * an envelope (`signedDoc.unsigned()`, docs/sync.md "Storage and restarts"); it stays local, so
 * that document may differ, and the session's later envelopes can only be refused (`E_CLOCK`) or
 * wait there.
 * @module
 */
import * as Y from 'yjs'
import { canonicalJson, sha256Hex } from '../../encoding/canonical'
import { encodeUtf8 } from 'lib0/string'
import type { Rejected } from '../../policy/merge-policy'
import { MANIFEST_DOC } from '../../sync/shard-set'
import type { Space } from '../../sync/space'
import type { SimDistrict } from './sim-district'
import { CabildoError } from '../../errors'
import { attackKey, type SentAttackEnvelope } from './sim-byzantine'
import { WriteLedger } from './write-ledger'

/** A check that failed, with what it saw. */
export interface SimulationFailure {
  /** Which check: `divergence`, `unsigned-content`, `views`, `acknowledged-write`, `attack-applied`, `unexplained-refusal`, `attack-answer`, `pending`, `unexplained-rejection`, `engine-error`, `crash-durability`, `error`. */
  readonly check: string
  readonly message: string
}

/** What the final checks counted. */
export interface FinalFigures {
  /** Documents compared (manifest included). */
  readonly docs: number
  /** Writes that had to be on every honest replica, and were checked there. */
  readonly writesChecked: number
  /** Writes a crash made unacknowledged: how many ended up everywhere, and nowhere. */
  readonly unacknowledged: { readonly kept: number; readonly lost: number }
  /** Documents where a crash left content without envelopes (the documented exception). */
  readonly unsignedDocs: number
  /** Envelopes refused by honest replicas, by code (attacks and explained honest ones). */
  readonly refused: Readonly<Record<string, number>>
  /** Records (signed acts) kept but not counted by the resolved views, by code. */
  readonly rejectedRecords: Readonly<Record<string, number>>
  /** The content hash of the resolved views of the first honest replica. */
  readonly viewHash: string
}

/** The state of one document that must be equal everywhere. */
function docContent(doc: Y.Doc): unknown {
  const content: Record<string, unknown> = {}
  // A root type exists wherever an app merely looked it up: only roots with entries are content.
  for (const key of [...doc.share.keys()].sort()) {
    const map = doc.getMap(key)
    if (map.size > 0) content[key] = map.toJSON()
  }
  return plain(content)
}

function docState(doc: Y.Doc): { stateVector: string; snapshot: string; content: string } {
  const content = docContent(doc)
  return {
    stateVector: sha256Hex(Y.encodeStateVector(doc)),
    snapshot: sha256Hex(Y.encodeSnapshot(Y.snapshot(doc))),
    // Canonical JSON: Y.Map keys come out in insertion order, which differs between replicas.
    content: sha256Hex(encodeUtf8(canonicalJson(content))),
  }
}

/** The resolved view of a replica, as an app shows it: every record with its authoritative state, and the records its policies rejected. */
export async function resolvedView(space: Space): Promise<{ view: Record<string, unknown>; rejected: Rejected[] }> {
  const rejected: Rejected[] = []
  const read = (entity: { get(): { value: unknown; valid: boolean; extra?: unknown; issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; code: string }> } }) => {
    const got = entity.get()
    return { value: got.value, valid: got.valid, extra: got.extra, issues: got.issues.map((issue) => `${issue.path.map(String).join('.')}:${issue.code}`) }
  }
  const tickets: Record<string, unknown> = {}
  for (const ticket of await space.tickets.list({ includeArchived: true })) {
    const resolved = await ticket.resolve()
    rejected.push(...resolved.rejected)
    tickets[ticket.id] = { ...read(ticket), resolved }
  }
  const proposals: Record<string, unknown> = {}
  for (const proposal of await space.proposals.list({ includeArchived: true })) {
    const resolved = await proposal.resolve()
    rejected.push(...resolved.rejected)
    proposals[proposal.id] = { ...read(proposal), resolved }
  }
  const budgets: Record<string, unknown> = {}
  for (const budget of await space.budgets.list({ includeArchived: true })) {
    const resolved = await budget.resolve()
    rejected.push(...resolved.rejected)
    budgets[budget.id] = { ...read(budget), resolved }
  }
  const comments: Record<string, unknown> = {}
  for (const comment of await space.comments.list({ includeArchived: true })) {
    const resolved = await comment.resolve()
    comments[comment.id] = { ...read(comment), resolved }
  }
  return { view: plain({ tickets, proposals, budgets, comments }) as Record<string, unknown>, rejected }
}

/** Plain JSON data (views may hold class instances such as exact rationals; their JSON form is what is compared). */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown
}

/** The first path where two plain values differ, for the failure message. */
function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (a === undefined || b === undefined) return a === b ? undefined : `${path || '<root>'}: ${JSON.stringify(a)?.slice(0, 200)} vs ${JSON.stringify(b)?.slice(0, 200)}`
  if (canonicalJson(a) === canonicalJson(b)) return undefined
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return `${path || '<root>'}: ${JSON.stringify(a)?.slice(0, 200)} vs ${JSON.stringify(b)?.slice(0, 200)}`
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
  for (const key of keys) {
    const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`)
    if (found !== undefined) return found
  }
  return `${path || '<root>'}: differs`
}

function count(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1
}

/** Runs every final check over the honest districts; failures are passed to `fail`. */
export async function finalChecks(options: {
  readonly honest: readonly SimDistrict[]
  readonly ledger: WriteLedger
  readonly attacks: ReadonlyMap<string, SentAttackEnvelope>
  readonly fail: (failure: SimulationFailure) => void
}): Promise<FinalFigures> {
  const { honest, ledger, attacks, fail } = options
  const spaces = honest.map((d) => d.space)
  const names = [MANIFEST_DOC, ...new Set(spaces.flatMap((space) => space.shardNames()))]
  const unsignedDocs = new Set<string>()
  const refused: Record<string, number> = {}

  // Documents, byte for byte. A replica holding content without envelopes (a crash between the
  // two appends) is compared on every other client only, and must hold at least as much of its own.
  const withUnsigned = new Set<string>()
  for (const name of names) {
    const docs = await Promise.all(spaces.map((space) => space.doc(name)))
    const unsigned = honest.map((d) => new Set(d.space.signedDocs.get(name)?.unsigned().clients ?? []))
    unsigned.forEach((clients, i) => {
      const district = honest[i] as SimDistrict
      for (const client of clients) {
        if (!district.deadClients.has(client)) fail({ check: 'unsigned-content', message: `${district.id} holds content of client ${client} in ${name} without its envelope, and no crash of ${district.id} explains it` })
      }
    })
    unsigned.forEach((clients, i) => {
      if (clients.size > 0) withUnsigned.add(honest[i]?.id ?? '')
    })
    if (unsigned.some((clients) => clients.size > 0)) unsignedDocs.add(name)
    const states = docs.map(docState)
    const ref = Math.max(0, unsigned.findIndex((clients) => clients.size === 0))
    states.forEach((state, i) => {
      const reference = states[ref]
      if (i === ref || reference === undefined) return
      const mine = unsigned[i] as Set<number>
      const theirs = unsigned[ref] as Set<number>
      if (mine.size === 0 && theirs.size === 0) {
        const differs = (['stateVector', 'snapshot', 'content'] as const).filter((part) => state[part] !== reference[part])
        if (differs.length === 0) return
        const where = differs.includes('content') ? `: ${firstDifference(docContent(docs[ref] as Y.Doc), docContent(docs[i] as Y.Doc))}` : ''
        fail({ check: 'divergence', message: `${name}: ${honest[i]?.id} differs from ${honest[ref]?.id} in ${differs.join(', ')}${where}` })
        return
      }
      const a = Y.decodeStateVector(Y.encodeStateVector(docs[ref] as Y.Doc))
      const b = Y.decodeStateVector(Y.encodeStateVector(docs[i] as Y.Doc))
      for (const client of new Set([...a.keys(), ...b.keys()])) {
        const ok = mine.has(client) ? (b.get(client) ?? 0) >= (a.get(client) ?? 0) : theirs.has(client) ? (a.get(client) ?? 0) >= (b.get(client) ?? 0) : a.get(client) === b.get(client)
        if (!ok) fail({ check: 'divergence', message: `${name}: client ${client} is at ${b.get(client) ?? 0} on ${honest[i]?.id}, ${a.get(client) ?? 0} on ${honest[ref]?.id}, beyond the content a crash left unsigned` })
      }
    })
  }

  // Resolved views, between the replicas a crash left no unsigned content to.
  const views = await Promise.all(spaces.map(resolvedView))
  const rejectedRecords: Record<string, number> = {}
  for (const rejected of views[0]?.rejected ?? []) {
    if (typeof rejected.code !== 'string' || rejected.code.length === 0) fail({ check: 'unexplained-rejection', message: `a record rejected without a code: ${JSON.stringify(rejected)}` })
    else count(rejectedRecords, rejected.code)
  }
  const hashes = views.map(({ view }) => sha256Hex(encodeUtf8(canonicalJson(view))))
  const comparable = honest.map((d, i) => i).filter((i) => !withUnsigned.has(honest[i]?.id ?? ''))
  const first = comparable[0]
  for (const i of comparable.slice(1)) {
    if (first !== undefined && hashes[i] !== hashes[first]) {
      fail({ check: 'views', message: `${honest[i]?.id} resolves another view than ${honest[first]?.id}: ${firstDifference(views[first]?.view, views[i]?.view)}` })
    }
  }

  // Acknowledged writes, on every honest replica.
  let writesChecked = 0
  const unacknowledged = { kept: 0, lost: 0 }
  for (const write of ledger.writes) {
    const held = await Promise.all(spaces.map(async (space) => WriteLedger.holds(await space.doc(write.doc), write)))
    if (write.status === 'unacknowledged') {
      if (held.every(Boolean)) unacknowledged.kept++
      else if (!held.some(Boolean)) unacknowledged.lost++
      continue
    }
    writesChecked++
    held.forEach((holds, i) => {
      if (!holds) {
        fail({ check: 'acknowledged-write', message: `${honest[i]?.id} lacks ${write.op} by ${write.district}#${write.incarnation} in ${write.doc} (client ${write.client} clock ${write.clock}, ${write.status})` })
      }
    })
  }

  // Refusals, attacks and background failures.
  for (const district of honest) {
    for (const error of district.errors) {
      // Storage reports (e.g. envelopes a crash left without their predecessor) are documented outcomes of crashes.
      if (!CabildoError.is(error, 'E_STORAGE')) fail({ check: 'engine-error', message: `${district.id}'s engine reported ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}` })
    }
    for (const entry of district.engine.quarantine()) {
      const attack = attacks.get(attackKey(entry.doc, entry.bytes))
      count(refused, entry.code)
      if (attack !== undefined) {
        if (attack.verdict !== entry.code) fail({ check: 'attack-answer', message: `${district.id} refused a ${attack.attack} envelope with ${entry.code}, expected ${attack.verdict}: ${entry.reason}` })
      } else if (!(entry.code === 'E_CLOCK' && unsignedDocs.has(entry.doc))) {
        fail({ check: 'unexplained-refusal', message: `${district.id} refused an honest envelope of ${entry.doc} from ${entry.peer}: ${entry.code} ${entry.reason}` })
      }
    }
    for (const signed of district.space.signedDocs.list()) {
      for (const logged of signed.log()) {
        const attack = attacks.get(attackKey(signed.name, logged.bytes))
        if (attack !== undefined && attack.verdict !== 'applied') fail({ check: 'attack-applied', message: `a ${attack.attack} envelope reached ${district.id}'s ${signed.name}` })
      }
      if (signed.guard.pending > 0 && !unsignedDocs.has(signed.name)) {
        fail({ check: 'pending', message: `${district.id} still holds ${signed.guard.pending} waiting envelopes in ${signed.name}` })
      }
    }
  }

  return { docs: names.length, writesChecked, unacknowledged, unsignedDocs: unsignedDocs.size, refused, rejectedRecords, viewHash: hashes[0] ?? '' }
}
