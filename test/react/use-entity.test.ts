// @vitest-environment happy-dom
import { createElement, StrictMode, type ReactNode } from 'react'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { applyDocUpdate, createIdentity, createSpace, encodeDocState, MANIFEST_DOC, syncSpaces, type Identity, type Space } from '../../src/index'
import { SpaceProvider, useEntity, useSpace, type EntityState } from '../../src/react/index'
import type { BudgetProject, Proposal } from '../../src/schema/index'
import type { ServiceTicket } from '../../src/schema/ticket'
import type { ProposalActions } from '../../src/sync/proposal-actions'
import type { TicketActions } from '../../src/sync/ticket-actions'
import { inAct, mount, settle, until, type Mounted } from './react-harness'

type TicketState = EntityState<typeof ServiceTicket, TicketActions>

let root: Identity
let agency: Identity
let citizen: Identity
let officer: Identity

beforeAll(async () => {
  ;[root, agency, citizen, officer] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity()])
})

const open: Array<Space | Mounted> = []
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) {
    if ('unmount' in thing) await thing.unmount()
    else await thing.close()
  }
})

/** A replica with a fixed clock (one ticket shard for every ticket) acting as `identity`. */
function replica(identity: Identity): Space {
  let tick = 0
  const space = createSpace({ id: 'city', identity, districts: { north: root.did }, now: () => new Date(Date.parse('2027-03-14T09:00:00Z') + 1000 * tick++) })
  open.push(space)
  return space
}

/** The root granted `agency:roads` and `staff`, the citizen filed two tickets for roads, everyone synced. */
async function city() {
  const spaces = { hall: replica(root), crew: replica(agency), phone: replica(citizen) }
  await spaces.hall.grantRole(agency.did, 'agency:roads')
  await spaces.hall.grantRole(officer.did, 'staff')
  const a = await spaces.phone.tickets.create({ service_code: 'pothole', district: 'north', agency_responsible: 'roads' })
  const b = await spaces.phone.tickets.create({ service_code: 'graffiti', district: 'north', agency_responsible: 'roads' })
  expect(a.shard).toBe(b.shard)
  await syncSpaces(...Object.values(spaces))
  return { ...spaces, a: a.id, b: b.id }
}

async function render(node: ReactNode): Promise<Mounted> {
  const mounted = await mount(node)
  open.push(mounted)
  return mounted
}

/** A component showing one ticket, recording every state it rendered with. */
function ticketProbe(id: string) {
  const renders: TicketState[] = []
  function Ticket(): ReactNode {
    const state = useEntity(useSpace().tickets, id)
    renders.push(state)
    return `${state.status}|${state.value.description ?? ''}|${state.view?.status ?? '-'}|${state.resolving ? 'resolving' : 'resolved'}`
  }
  return { Ticket, renders, last: () => renders[renders.length - 1] as TicketState }
}

const resolved = (probe: { last: () => TicketState }) => () => probe.last().view !== undefined && !probe.last().resolving

describe('useEntity', () => {
  it('reads the record at once it is found, then shows the view its resolve() gives', async () => {
    const { phone, a } = await city()
    const probe = ticketProbe(a)
    await render(createElement(SpaceProvider, { space: phone }, createElement(probe.Ticket)))
    expect(probe.renders[0]).toMatchObject({ status: 'loading', resolving: false, view: undefined })
    await until(resolved(probe), 'the first resolution')
    const state = probe.last()
    const ticket = await phone.tickets.require(a)
    expect(state).toMatchObject({ id: a, status: 'ready', valid: true, issues: [], archived: false, error: undefined })
    expect(state.value).toEqual(ticket.get().value)
    const expected = await ticket.resolve()
    expect(state.view).toEqual(expected)
    expect(state.view?.requester).toBe(citizen.did)
    expect(state.conflicts).toBe(state.view?.conflicts)
    expect(state.rejected).toBe(state.view?.rejected)
    // The state passed through `resolving` before the first view arrived.
    expect(probe.renders.some((r) => r.status === 'ready' && r.resolving && r.view === undefined)).toBe(true)
  })

  it('follows local edits and signed acts made through the entity (in strict mode)', async () => {
    const { crew, a } = await city()
    const probe = ticketProbe(a)
    // Strict mode subscribes, unsubscribes and subscribes again: the store must come back whole.
    const view = await render(createElement(StrictMode, null, createElement(SpaceProvider, { space: crew }, createElement(probe.Ticket))))
    await until(resolved(probe), 'the first resolution')
    const ticket = probe.last().entity
    if (!ticket) throw new Error('no entity handle')
    await inAct(() => ticket.update({ description: 'by the school' }))
    expect(probe.last().value.description).toBe('by the school')
    await inAct(() => ticket.acknowledge({ note: 'Seen' }))
    await until(() => view.text() === 'ready|by the school|acknowledged|resolved', 'the acknowledgement')
    expect(probe.last().view?.history.map((t) => t.to)).toEqual(['acknowledged'])
    expect(probe.last().value.status).toBe('acknowledged')
  })

  it('follows acts made on a remote replica and brought by syncSpaces', async () => {
    const { hall, crew, phone, a } = await city()
    const probe = ticketProbe(a)
    await render(createElement(SpaceProvider, { space: phone }, createElement(probe.Ticket)))
    await until(resolved(probe), 'the first resolution')
    expect(probe.last().view?.status).toBe('open')
    const atCrew = await crew.tickets.require(a)
    await atCrew.acknowledge()
    await atCrew.close({ note: 'Filled' })
    await inAct(() => syncSpaces(hall, crew, phone))
    await until(() => resolved(probe)() && probe.last().view?.status === 'closed', 'the remote close')
    expect(probe.last().view).toEqual(await (await phone.tickets.require(a)).resolve())
    expect(probe.last().value.status_notes).toBe('Filled')
  })

  it('resolves again when the roster changes: an act refused for want of a role counts once the grant arrives', async () => {
    const hall = replica(root)
    const crew = replica(agency)
    const phone = replica(citizen)
    const filed = await phone.tickets.create({ service_code: 'pothole', district: 'north', agency_responsible: 'roads' })
    await syncSpaces(hall, crew, phone)
    const probe = ticketProbe(filed.id)
    await render(createElement(SpaceProvider, { space: phone }, createElement(probe.Ticket)))
    await until(resolved(probe), 'the first resolution')
    // The grant reaches the crew, not the phone; the crew acknowledges.
    await hall.grantRole(agency.did, 'agency:roads')
    await syncSpaces(hall, crew)
    await (await crew.tickets.require(filed.id)).acknowledge()
    // The phone receives the ticket's shard first: without the grant, the act does not count.
    await inAct(async () => applyDocUpdate(phone, filed.shard, await encodeDocState(crew, filed.shard)))
    await until(() => resolved(probe)() && probe.last().rejected?.length === 1, 'the refused act')
    expect(probe.last().view?.status).toBe('open')
    expect(probe.last().rejected?.[0]?.code).toBe('E_FORBIDDEN')
    // Then the manifest with the grant: the view is recomputed and the act counts.
    await inAct(async () => applyDocUpdate(phone, MANIFEST_DOC, await encodeDocState(hall, MANIFEST_DOC)))
    await until(() => probe.last().view?.status === 'acknowledged', 'the act counting after the grant')
    expect(probe.last().rejected).toEqual([])
    expect(probe.last().view).toEqual(await (await phone.tickets.require(filed.id)).resolve())
  })

  it('shows a record not known yet as missing, then as soon as it arrives by sync', async () => {
    const { crew, phone } = await city()
    const later = await phone.tickets.create({ service_code: 'bench', district: 'north', requested_datetime: '2027-06-01T08:00:00Z' })
    const probe = ticketProbe(later.id)
    await render(createElement(SpaceProvider, { space: crew }, createElement(probe.Ticket)))
    await until(() => probe.last().status === 'missing', 'the failed lookup')
    expect(probe.last()).toMatchObject({ valid: false, entity: undefined, view: undefined })
    expect(probe.last().issues.map((i) => i.code)).toEqual(['missing_record'])
    await inAct(() => syncSpaces(crew, phone))
    await until(resolved(probe), 'the synced record')
    expect(probe.last()).toMatchObject({ status: 'ready', valid: true, issues: [] })
    expect(probe.last().value.service_code).toBe('bench')
  })

  it('a component showing ticket B does not re-render for edits and acts on ticket A of the same shard', async () => {
    const { hall, crew, phone, a, b } = await city()
    const probeA = ticketProbe(a)
    const probeB = ticketProbe(b)
    await render(createElement(SpaceProvider, { space: crew }, createElement(probeA.Ticket), createElement(probeB.Ticket)))
    await until(() => resolved(probeA)() && resolved(probeB)(), 'the first resolutions')
    const before = { a: probeA.renders.length, b: probeB.renders.length }
    const ticketA = await crew.tickets.require(a)
    await inAct(() => ticketA.update({ description: 'deep' }))
    await inAct(() => ticketA.acknowledge())
    await until(() => resolved(probeA)() && probeA.last().view?.status === 'acknowledged', 'the act on A')
    // The same from another replica, through sync.
    await inAct(() => syncSpaces(hall, crew, phone))
    const atPhone = await phone.tickets.require(a)
    atPhone.update({ description: 'deeper' })
    await inAct(() => syncSpaces(hall, crew, phone))
    await until(() => probeA.last().value.description === 'deeper' && !probeA.last().resolving, 'the remote edit of A')
    await settle()
    expect(probeA.renders.length).toBeGreaterThan(before.a)
    expect(probeB.renders.length).toBe(before.b)
    expect(probeB.last().view?.status).toBe('open')
  })

  it('updates a view in the background when an act about another record changes it (a proposal and its process)', async () => {
    const hall = replica(root)
    const office = replica(officer)
    const phone = replica(citizen)
    await hall.grantRole(officer.did, 'staff')
    await syncSpaces(hall, office, phone)
    const pb = await office.processes.create({ title: 'PB 2027', district: 'north', key: 'pb2027', supportThreshold: 2, phases: [] })
    const draft = await phone.proposals.create({ title: 'Shade for the playground', district: 'north', process: 'pb2027' })
    await draft.publish()
    await syncSpaces(hall, office, phone)
    const renders: Array<EntityState<typeof Proposal, ProposalActions>> = []
    function ProposalCard(): ReactNode {
      const state = useEntity(useSpace().proposals, draft.id)
      renders.push(state)
      return `${state.view?.status ?? '-'} ${state.view?.processPhase ?? '-'}`
    }
    const view = await render(createElement(SpaceProvider, { space: phone }, createElement(ProposalCard)))
    await until(() => view.text() === 'published proposing', 'the first resolution')
    await pb.openSupports()
    await inAct(() => syncSpaces(hall, office, phone))
    await until(() => view.text() === 'published supports', 'the opened supports phase')
    expect(renders[renders.length - 1]?.view).toEqual(await draft.resolve())
  })

  it('leaves view and resolving alone for records whose entity has no resolve()', async () => {
    const { phone } = await city()
    const budget = await phone.budgets.create({ title: 'PB', total: '1000', currency: 'EUR', district: 'north', votingMethod: { kind: 'approval', maxProjects: 1 } })
    const project = await phone.projects.create({ budget: budget.id, title: 'Park', cost: '400', district: 'north' })
    const renders: Array<EntityState<typeof BudgetProject>> = []
    function Project(): ReactNode {
      const state = useEntity(useSpace().projects, project.id)
      renders.push(state)
      return `${state.status} ${state.value.title ?? ''}`
    }
    const view = await render(createElement(SpaceProvider, { space: phone }, createElement(Project)))
    await until(() => view.text() === 'ready Park', 'the project')
    await inAct(() => project.update({ title: 'Big park' }))
    expect(view.text()).toBe('ready Big park')
    expect(renders.every((r) => !r.resolving && r.view === undefined)).toBe(true)
  })

  it('stops observing and resolving when the component unmounts', async () => {
    const { crew, a } = await city()
    const probe = ticketProbe(a)
    const view = await mount(createElement(SpaceProvider, { space: crew }, createElement(probe.Ticket)))
    await until(resolved(probe), 'the first resolution')
    const entity = probe.last().entity
    if (!entity) throw new Error('no entity handle')
    const resolve = vi.spyOn(entity, 'resolve')
    await inAct(() => entity.update({ description: 'watched' }))
    await until(() => resolve.mock.calls.length > 0 && !probe.last().resolving, 'the refresh while mounted')
    await view.unmount()
    resolve.mockClear()
    const rendered = probe.renders.length
    const ticket = await crew.tickets.require(a)
    ticket.update({ description: 'unwatched' })
    await ticket.acknowledge()
    await settle()
    expect(resolve).not.toHaveBeenCalled()
    expect(probe.renders.length).toBe(rendered)
  })

  it('throws E_ARGUMENT outside a SpaceProvider', async () => {
    const { phone, a } = await city()
    let caught: unknown
    function Orphan(): ReactNode {
      try {
        useEntity(phone.tickets, a)
      } catch (error) {
        caught = error
      }
      return null
    }
    await render(createElement(Orphan))
    expect(caught).toMatchObject({ code: 'E_ARGUMENT' })
  })
})
