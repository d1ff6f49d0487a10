/**
 * What each district's app resolves from its own replica: every record with its fields (also
 * those its schema version does not know) and, for records with signed acts, the authoritative
 * view: status, counted ballots, allocations, conflicts and rejected acts with their reasons.
 */
import { contentHash, type Space } from '../../src/index'

/** One rejected or conflicting act, as the report shows it. */
export interface Finding {
  readonly record: string
  readonly kind: 'conflict' | 'rejected'
  readonly detail: string
}

/** A district's resolved view, its hash and its findings. */
export interface DistrictView {
  readonly name: string
  readonly view: Record<string, unknown>
  readonly viewHash: string
  readonly conflicts: number
  readonly rejected: number
  readonly findings: readonly Finding[]
}

interface ReadableEntity {
  readonly id: string
  get(): { readonly value: unknown; readonly extra: Readonly<Record<string, unknown>> }
}

interface Judged {
  readonly conflicts: ReadonlyArray<{ readonly reason?: string; readonly kind?: string }>
  readonly rejected: ReadonlyArray<{ readonly code: string; readonly reason?: string }>
}

function fields(entity: ReadableEntity): Record<string, unknown> {
  const { value, extra } = entity.get()
  return { ...(value as Record<string, unknown>), ...extra }
}

function describe(item: object): string {
  const { code, reason, kind } = item as { code?: string; reason?: string; kind?: string }
  return [code ?? kind, reason].filter((part) => part !== undefined).join(': ')
}

/** Resolves a district's view from its own replica. */
export async function districtView(name: string, space: Space): Promise<DistrictView> {
  const findings: Finding[] = []
  const judge = (record: string, judged: Judged): Judged => {
    for (const conflict of judged.conflicts) findings.push({ record, kind: 'conflict', detail: describe(conflict) })
    for (const rejected of judged.rejected) findings.push({ record, kind: 'rejected', detail: describe(rejected) })
    return judged
  }
  const tickets: Record<string, unknown> = {}
  for (const ticket of await space.tickets.list()) {
    const view = judge(ticket.id, await ticket.resolve())
    tickets[ticket.id] = { ...fields(ticket), resolved: view }
  }
  const proposals: Record<string, unknown> = {}
  for (const proposal of await space.proposals.list()) {
    const view = judge(proposal.id, await proposal.resolve())
    proposals[proposal.id] = { ...fields(proposal), resolved: view }
  }
  const budgets: Record<string, unknown> = {}
  for (const budget of await space.budgets.list()) {
    const view = judge(budget.id, await budget.resolve())
    budgets[budget.id] = { ...fields(budget), resolved: view }
  }
  const projects = Object.fromEntries((await space.projects.list()).map((project) => [project.id, fields(project)]))
  const view = { tickets, proposals, budgets, projects }
  return {
    name,
    view,
    viewHash: contentHash(view),
    conflicts: findings.filter((finding) => finding.kind === 'conflict').length,
    rejected: findings.filter((finding) => finding.kind === 'rejected').length,
    findings,
  }
}
