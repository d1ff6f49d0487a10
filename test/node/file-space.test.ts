import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createIdentity } from '../../src/index'
import { openFileSpace } from '../../src/node/index'

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cabildo-file-space-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('openFileSpace', () => {
  it('keeps records and signed acts in real files across a close and a reopen', async () => {
    const directory = tempDir()
    const root = await createIdentity()
    const districts = { north: root.did }
    const first = await openFileSpace({ id: 'city', directory, identity: root, districts })
    await first.grantRole(root.did, 'staff')
    const ticket = await first.tickets.create({ service_code: 'pothole', district: 'north' })
    await ticket.acknowledge({ note: 'Seen' })
    await first.close()

    const second = await openFileSpace({ id: 'city', directory, identity: root, districts })
    const again = await second.tickets.require(ticket.id)
    expect(again.get().value.status).toBe('acknowledged')
    const view = await again.resolve()
    expect(view.status).toBe('acknowledged')
    expect(view.requester).toBe(root.did)
    await second.close()
  })

  it('refuses a second Space on the same directory while the first is open', async () => {
    const directory = tempDir()
    const first = await openFileSpace({ id: 'city', directory })
    await expect(openFileSpace({ id: 'city', directory })).rejects.toMatchObject({ code: 'E_STORAGE' })
    await first.close()
    const second = await openFileSpace({ id: 'city', directory })
    await second.close()
  })
})
