// @vitest-environment happy-dom
import { createElement, type ReactNode } from 'react'
import { afterEach, describe, expect, it } from 'vitest'
import { createSpace, type Space } from '../../src/index'
import { SpaceProvider, useSpace } from '../../src/react/index'
import { mount, type Mounted } from './react-harness'

const open: Array<Space | Mounted> = []
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) {
    if ('unmount' in thing) await thing.unmount()
    else await thing.close()
  }
})

function space(id: string): Space {
  const s = createSpace({ id })
  open.push(s)
  return s
}

function SpaceId(): ReactNode {
  return `[${useSpace().id}]`
}

describe('SpaceProvider and useSpace', () => {
  it('gives components the Space of the nearest provider', async () => {
    const outer = space('outer-city')
    const inner = space('inner-city')
    const view = await mount(
      createElement(SpaceProvider, { space: outer }, createElement(SpaceId), createElement(SpaceProvider, { space: inner }, createElement(SpaceId))),
    )
    open.push(view)
    expect(view.text()).toBe('[outer-city][inner-city]')
  })

  it('throws E_ARGUMENT in a component outside any provider', async () => {
    let caught: unknown
    function Orphan(): ReactNode {
      try {
        useSpace()
      } catch (error) {
        caught = error
      }
      return null
    }
    open.push(await mount(createElement(Orphan)))
    expect(caught).toMatchObject({ code: 'E_ARGUMENT', details: { argument: 'space' } })
  })
})
