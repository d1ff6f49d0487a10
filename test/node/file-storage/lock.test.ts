import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CabildoError } from '../../../src/errors'
import { createFileStorage } from '../../../src/node/file-storage'

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'cabildo-lock-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''])
  if (child.pid === undefined) throw new Error('could not spawn')
  return child.pid
}

const lockFile = (owner: object): Promise<void> => writeFile(join(directory, 'doc@lock'), JSON.stringify(owner))
const lockedCause = (error: unknown): string | undefined =>
  CabildoError.is(error, 'E_STORAGE') ? error.details.cause : undefined

describe('file storage lock', () => {
  it('takes over a lock left by a dead process', async () => {
    await lockFile({ pid: deadPid(), host: hostname(), token: 'old' })
    const store = await createFileStorage(directory).open('doc')
    const owner = JSON.parse(await readFile(join(directory, 'doc@lock'), 'utf8')) as { pid: number }
    expect(owner.pid).toBe(process.pid)
    await store.close()
    expect(await readdir(directory)).toEqual([])
  })

  it('honours a lock held by a live process with E_STORAGE ELOCKED', async () => {
    await lockFile({ pid: process.ppid, host: hostname(), token: 'live' })
    const error = await createFileStorage(directory).open('doc').catch((e: unknown) => e)
    expect(lockedCause(error)).toBe('ELOCKED')
    expect(JSON.parse(await readFile(join(directory, 'doc@lock'), 'utf8'))).toMatchObject({ token: 'live' })
  })

  it('honours a lock from another host, whose process it cannot check', async () => {
    await lockFile({ pid: deadPid(), host: `not-${hostname()}`, token: 'remote' })
    expect(lockedCause(await createFileStorage(directory).open('doc').catch((e: unknown) => e))).toBe('ELOCKED')
  })

  it('takes over an unreadable lock and a lock this process failed to remove', async () => {
    await writeFile(join(directory, 'doc@lock'), '')
    await (await createFileStorage(directory).open('doc')).close()
    await lockFile({ pid: process.pid, host: hostname(), token: 'leftover' })
    await (await createFileStorage(directory).open('doc')).close()
  })

  it('uses the injected liveness check', async () => {
    await lockFile({ pid: 4242, host: hostname(), token: 'x' })
    const alive = await createFileStorage({ directory, isAlive: () => true }).open('doc').catch((e: unknown) => e)
    expect(lockedCause(alive)).toBe('ELOCKED')
    await (await createFileStorage({ directory, isAlive: () => false }).open('doc')).close()
  })

  it('removes lock temporaries of dead processes when the document is recovered', async () => {
    const pid = deadPid()
    await writeFile(join(directory, `doc@lock-${pid}-abc123.tmp`), '{}')
    await writeFile(join(directory, `doc@lock-${process.ppid}-abc123.tmp`), '{}')
    const store = await createFileStorage(directory).open('doc')
    await store.load()
    await store.close()
    expect(await readdir(directory)).toEqual([`doc@lock-${process.ppid}-abc123.tmp`])
  })

  it('locks each key on its own: two keys open at once in one directory', async () => {
    const storage = createFileStorage(directory)
    const [a, b] = await Promise.all([storage.open('a'), storage.open('b')])
    await Promise.all([a.close(), b.close()])
  })
})
