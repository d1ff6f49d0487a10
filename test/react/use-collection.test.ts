// @vitest-environment happy-dom
import { createElement, memo, StrictMode, type ReactNode } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type * as Y from 'yjs'
import { syncSpaces, type RecordOf, type Space } from '../../src/index'
import { SpaceProvider, useCollection, useSpace, type CollectionItem, type CollectionState, type UseCollectionOptions } from '../../src/react/index'
import type { ServiceTicket } from '../../src/schema/ticket'
import type { TicketActions } from '../../src/sync/ticket-actions'
import { testSpace } from '../helpers/space-fixtures'
import { inAct, mount, settle, until, type Mounted } from './react-harness'

type TicketItem = CollectionItem<typeof ServiceTicket, TicketActions>
type TicketList = CollectionState<typeof ServiceTicket, TicketActions>
type TicketOptions = UseCollectionOptions<RecordOf<typeof ServiceTicket>>

const open: Array<Space | Mounted> = []
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) {
    if ('unmount' in thing) await thing.unmount()
    else await thing.close()
  }
})

function space(name: string): Space {
  const s = testSpace(name)
  open.push(s)
  return s
}

async function render(node: ReactNode): Promise<Mounted> {
  const mounted = await mount(node)
  open.push(mounted)
  return mounted
}

/** A list of tickets that records every state it rendered with. */
function probe(options: TicketOptions = {}) {
  const renders: TicketList[] = []
  function Tickets(): ReactNode {
    const state = useCollection(useSpace().tickets, options)
    renders.push(state)
    return state.loading ? 'loading' : state.items.map((t) => `${t.value.service_code}:${t.value.description ?? ''}`).join(',')
  }
  return { Tickets, renders, last: () => renders[renders.length - 1] as TicketList }
}

describe('useCollection', () => {
  it('renders loading first, then every record of the collection as tolerant typed reads, sorted like list()', async () => {
    const s = space('a')
    const first = await s.tickets.create({ service_code: 'pothole', district: 'north' })
    const second = await s.tickets.create({ service_code: 'graffiti', district: 'south' })
    const { Tickets, renders, last } = probe()
    const view = await render(createElement(SpaceProvider, { space: s }, createElement(Tickets)))
    expect(renders[0]?.loading).toBe(true)
    await until(() => !last().loading, 'the first listing')
    const listed = await s.tickets.list()
    expect(last().items.map((t) => t.id)).toEqual(listed.map((e) => e.id))
    expect(new Set(last().items.map((t) => t.id))).toEqual(new Set([first.id, second.id]))
    for (const item of last().items) {
      expect(item.valid).toBe(true)
      expect(item.issues).toEqual([])
      expect(item.value).toEqual(item.entity.get().value)
    }
    expect(view.text()).toBe(listed.map((e) => `${e.get().value.service_code}:`).join(','))
  })

  it('follows local edits: a created record appears, an updated value shows', async () => {
    const s = space('a')
    const { Tickets, last } = probe()
    const view = await render(createElement(SpaceProvider, { space: s }, createElement(Tickets)))
    await until(() => !last().loading, 'the first listing')
    expect(last().items).toEqual([])
    const ticket = await inAct(() => s.tickets.create({ service_code: 'pothole', district: 'north' }))
    await until(() => view.text() === 'pothole:', 'the created ticket')
    await inAct(() => ticket.update({ description: 'deep' }))
    expect(view.text()).toBe('pothole:deep')
  })

  it('follows a remote replica: records created and edited there appear after syncSpaces', async () => {
    const here = space('a')
    const there = space('b')
    const { Tickets, last } = probe()
    const view = await render(createElement(SpaceProvider, { space: here }, createElement(Tickets)))
    await until(() => !last().loading, 'the first listing')
    const remote = await there.tickets.create({ service_code: 'streetlight', district: 'north', requested_datetime: '2027-01-05T10:00:00Z' })
    await inAct(() => syncSpaces(here, there))
    await until(() => view.text() === 'streetlight:', 'the remote ticket')
    await (await there.tickets.require(remote.id)).update({ description: 'flickers' })
    await inAct(() => syncSpaces(here, there))
    await until(() => view.text() === 'streetlight:flickers', 'the remote edit')
  })

  it('filters with where: changes to records left out do not re-render, a record that starts matching appears', async () => {
    const s = space('a')
    const north = await s.tickets.create({ service_code: 'pothole', district: 'north' })
    const south = await s.tickets.create({ service_code: 'graffiti', district: 'south' })
    const { Tickets, renders, last } = probe({ where: (t) => t.district === 'north' })
    const view = await render(createElement(SpaceProvider, { space: s }, createElement(Tickets)))
    await until(() => !last().loading, 'the first listing')
    expect(last().items.map((t) => t.id)).toEqual([north.id])
    const count = renders.length
    await inAct(() => south.update({ description: 'on the school wall' }))
    await settle()
    expect(renders.length).toBe(count)
    await inAct(() => south.update({ district: 'north' }))
    expect(new Set(last().items.map((t) => t.id))).toEqual(new Set([north.id, south.id]))
    expect(view.text()).toContain('graffiti:on the school wall')
  })

  it('limits the list to the given shards', async () => {
    const s = space('a')
    const january = await s.tickets.create({ service_code: 'pothole', district: 'north', requested_datetime: '2027-01-05T10:00:00Z' })
    const february = await s.tickets.create({ service_code: 'graffiti', district: 'north', requested_datetime: '2027-02-05T10:00:00Z' })
    const { Tickets, last } = probe({ shards: [february.shard] })
    await render(createElement(SpaceProvider, { space: s }, createElement(Tickets)))
    await until(() => !last().loading, 'the first listing')
    expect(last().items.map((t) => t.id)).toEqual([february.id])
    await inAct(() => january.update({ description: 'elsewhere' }))
    await inAct(() => s.tickets.create({ service_code: 'bench', district: 'north', requested_datetime: '2027-02-06T10:00:00Z' }))
    await until(() => last().items.length === 2, 'the new February ticket')
    expect(last().items.every((t) => t.shard === february.shard)).toBe(true)
  })

  it('leaves archived records out unless includeArchived', async () => {
    const s = space('a')
    const kept = await s.tickets.create({ service_code: 'pothole', district: 'north' })
    const archived = await s.tickets.create({ service_code: 'graffiti', district: 'north' })
    archived.archive()
    const plain = probe()
    const all = probe({ includeArchived: true })
    await render(createElement(SpaceProvider, { space: s }, createElement(plain.Tickets), createElement(all.Tickets)))
    await until(() => !plain.last().loading && !all.last().loading, 'the first listings')
    expect(plain.last().items.map((t) => t.id)).toEqual([kept.id])
    expect(new Set(all.last().items.map((t) => t.id))).toEqual(new Set([kept.id, archived.id]))
    expect(all.last().items.find((t) => t.id === archived.id)?.archived).toBe(true)
    await inAct(() => archived.restore())
    expect(plain.last().items.length).toBe(2)
  })

  it('keeps the same array and item objects until something changes; memo rows of unchanged records do not re-render', async () => {
    const s = space('a')
    const a = await s.tickets.create({ service_code: 'pothole', district: 'north' })
    const b = await s.tickets.create({ service_code: 'graffiti', district: 'north' })
    const rowRenders = new Map<string, number>()
    const Row = memo(function Row({ item }: { item: TicketItem }): ReactNode {
      rowRenders.set(item.id, (rowRenders.get(item.id) ?? 0) + 1)
      return createElement('li', null, item.value.description ?? item.value.service_code)
    })
    const lists: TicketList[] = []
    function List({ label }: { label: string }): ReactNode {
      const state = useCollection(useSpace().tickets, { where: () => true })
      lists.push(state)
      return createElement('ul', { title: label }, state.items.map((item) => createElement(Row, { key: item.id, item: item as TicketItem })))
    }
    const view = await render(createElement(SpaceProvider, { space: s }, createElement(List, { label: 'one' })))
    await until(() => lists[lists.length - 1]?.loading === false, 'the first listing')
    const loaded = lists[lists.length - 1] as TicketList
    // A re-render for another reason (a new prop, an inline `where`) gives back the same snapshot.
    await view.render(createElement(SpaceProvider, { space: s }, createElement(List, { label: 'two' })))
    expect(lists[lists.length - 1]).toBe(loaded)
    const before = { a: rowRenders.get(a.id), b: rowRenders.get(b.id) }
    await inAct(() => a.update({ description: 'deep' }))
    const after = lists[lists.length - 1] as TicketList
    expect(after.items).not.toBe(loaded.items)
    expect(after.items.find((t) => t.id === b.id)).toBe(loaded.items.find((t) => t.id === b.id))
    expect(rowRenders.get(a.id)).toBe((before.a ?? 0) + 1)
    expect(rowRenders.get(b.id)).toBe(before.b)
    // A transaction that rewrites a field with the value it has keeps every object, and renders nothing.
    const count = lists.length
    const records = (await s.doc(a.shard)).getMap<Y.Map<unknown>>('tickets')
    await inAct(() => records.get(a.id)?.set('description', 'deep'))
    expect(lists.length).toBe(count)
  })

  it('shares one observer between components and releases it when the last one unmounts', async () => {
    const s = space('a')
    await s.tickets.create({ service_code: 'pothole', district: 'north' })
    let live = 0
    const observe = s.tickets.observe.bind(s.tickets)
    const spy = vi.spyOn(s.tickets, 'observe').mockImplementation((listener) => {
      live++
      const off = observe(listener)
      return () => {
        live--
        off()
      }
    })
    const one = probe()
    const two = probe()
    const view = await mount(createElement(StrictMode, null, createElement(SpaceProvider, { space: s }, createElement(one.Tickets), createElement(two.Tickets))))
    await until(() => !one.last().loading && !two.last().loading, 'the first listings')
    expect(live).toBe(1)
    // One store: both lists hold the very same item objects.
    expect(one.last().items).toBe(two.last().items)
    const rendered = one.renders.length + two.renders.length
    await view.unmount()
    expect(live).toBe(0)
    await s.tickets.create({ service_code: 'graffiti', district: 'north' })
    await settle()
    expect(one.renders.length + two.renders.length).toBe(rendered)
    spy.mockRestore()
  })
})
