import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadOrCreateIdentity, type Identity } from '../../../src/index'
import { runBundleCommand } from '../../../src/node/cli/bundle'
import { fileIdentityStore } from '../../../src/node/file-identity-store'
import { openFileSpace } from '../../../src/node/file-space'

const tmp = mkdtempSync(join(tmpdir(), 'cabildo-bundle-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await runBundleCommand(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) })
  return { code, stdout, stderr }
}

const northDir = join(tmp, 'north')
const rootKey = join(tmp, 'root.jwk.json')
let root: Identity
let ticketId: string

beforeAll(async () => {
  root = await loadOrCreateIdentity(fileIdentityStore(rootKey))
  const space = await openFileSpace({ id: 'city', directory: northDir, identity: root, districts: { north: root.did } })
  ticketId = (await space.tickets.create({ service_code: 'pothole', district: 'north' })).id
  await space.proposals.create({ title: 'Benches', district: 'north', process: 'pb2026', body: 'Ten benches.' })
  await space.close()
})

describe('cabildo bundle', () => {
  it('export, inspect and import move a Space between directories; a second import changes nothing', async () => {
    const file = join(tmp, 'north.cbundle')
    const exported = await run('export', '--data', northDir, '--space', 'city', '--out', file, '--identity', rootKey, '--json')
    expect(exported.stderr).toBe('')
    expect(exported.code).toBe(0)
    expect(existsSync(file)).toBe(true)

    const inspected = await run('inspect', file, '--json')
    expect(inspected.code).toBe(0)
    const info = JSON.parse(inspected.stdout) as { spaceId: string; createdBy: string; envelopes: number; docs: Array<{ name: string }> }
    expect(info.spaceId).toBe('city')
    expect(info.createdBy).toBe(root.did)
    expect(info.envelopes).toBeGreaterThan(0)
    expect(info.docs.map((doc) => doc.name)).toContain('_manifest')
    expect((await run('inspect', file)).stdout).toContain(`envelopes   ${info.envelopes} in ${info.docs.length} documents`)

    const southDir = join(tmp, 'south')
    const first = await run('import', '--data', southDir, '--space', 'city', file, '--json')
    expect(first.code).toBe(0)
    const report = JSON.parse(first.stdout) as { totals: Record<string, number> }
    expect(report.totals).toEqual({ applied: info.envelopes, released: 0, duplicate: 0, pending: 0, rejected: 0 })
    const second = await run('import', '--data', southDir, '--space', 'city', file)
    expect(second.code).toBe(0)
    expect(second.stdout).toContain(`0 applied, ${info.envelopes} duplicate, 0 pending, 0 rejected`)

    // What was imported is on disk: a fresh open of the directory has it, content equal to the source.
    const south = await openFileSpace({ id: 'city', directory: southDir, districts: { north: root.did } })
    const north = await openFileSpace({ id: 'city', directory: northDir, districts: { north: root.did } })
    try {
      expect((await south.tickets.require(ticketId)).get().value).toEqual((await north.tickets.require(ticketId)).get().value)
      expect(south.shardNames()).toEqual(north.shardNames())
    } finally {
      await Promise.all([south.close(), north.close()])
    }
  })

  it('a damaged bundle or one of another Space fails with its code and leaves the target directory untouched', async () => {
    const file = join(tmp, 'damaged.cbundle')
    expect((await run('export', '--data', northDir, '--space', 'city', '--out', file)).code).toBe(0)
    const bytes = readFileSync(file)
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 0xff
    writeFileSync(file, bytes)
    const target = join(tmp, 'untouched')
    const damaged = await run('import', '--data', target, '--space', 'city', file)
    expect(damaged.code).toBe(1)
    expect(damaged.stderr).toMatch(/^error E_PARSE: .*checksum/)
    expect(existsSync(target)).toBe(false)
    expect((await run('inspect', file)).stderr).toMatch(/E_PARSE/)

    const good = join(tmp, 'good.cbundle')
    expect((await run('export', '--data', northDir, '--space', 'city', '--out', good)).code).toBe(0)
    const wrong = await run('import', '--data', join(tmp, 'town'), '--space', 'town', good)
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/^error E_ARGUMENT: /)
  })

  it('missing files are E_NOT_FOUND; bad arguments are usage errors', async () => {
    expect((await run('inspect', join(tmp, 'nope.cbundle'))).stderr).toMatch(/^error E_NOT_FOUND/)
    const noKey = await run('export', '--data', northDir, '--space', 'city', '--out', join(tmp, 'x.cbundle'), '--identity', join(tmp, 'none.jwk.json'))
    expect(noKey.code).toBe(1)
    expect(noKey.stderr).toMatch(/^error E_NOT_FOUND/)
    for (const argv of [['frobnicate'], ['export', '--data', northDir, '--space', 'city'], ['import', '--data', northDir, '--space', 'city'], ['inspect'], ['inspect', 'a', 'b'], ['inspect', 'a', '--bogus'], ['import', '--data', 'd', '--space', 's', '--out', 'o', 'f']]) {
      const result = await run(...argv)
      expect(result.code, argv.join(' ')).toBe(2)
      expect(result.stderr).toContain('usage: cabildo bundle')
    }
    const help = await run('--help')
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('usage: cabildo bundle')
  })
})
