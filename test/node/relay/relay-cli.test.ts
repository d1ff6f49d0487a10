import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runRelayCommand } from '../../../src/node/cli/relay'
import { until } from './relay-fixtures'
import { upgradeStatus } from './upgrade-status'

const tmp = mkdtempSync(join(tmpdir(), 'cabildo-relay-cli-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

function io(signal?: AbortSignal) {
  const out = { stdout: '', stderr: '' }
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t), ...(signal ? { signal } : {}) } }
}

describe('cabildo relay', () => {
  it('starts a relay that prints its URL and serves, and stops cleanly when signalled', async () => {
    const stop = new AbortController()
    const { out, io: sink } = io(stop.signal)
    const done = runRelayCommand(['--port', '0', '--data', join(tmp, 'data'), '--space', 'city', '--space', 'town'], sink)
    try {
      await until(() => out.stdout.includes('listening on'), 'the relay to start')
      const url = /listening on (ws:\/\/\S+)/.exec(out.stdout)?.[1] as string
      expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
      expect(out.stdout).toContain('spaces   city, town')
      const response = await fetch(`${url.replace('ws:', 'http:')}/health`)
      expect(await response.json()).toEqual({ ok: true })
    } finally {
      stop.abort()
    }
    expect(await done).toBe(0)
    expect(out.stdout).toContain('cabildo relay stopped')
    expect(out.stderr).toBe('')
  })

  it('admits plain y-websocket clients only to the rooms --plain-room names', async () => {
    const stop = new AbortController()
    const { out, io: sink } = io(stop.signal)
    const done = runRelayCommand(['--port', '0', '--plain-room', 'city/process.pb2027'], sink)
    try {
      await until(() => out.stdout.includes('listening on'), 'the relay to start')
      const url = /listening on (ws:\/\/\S+)/.exec(out.stdout)?.[1] as string
      expect(await upgradeStatus(`${url}/city/process.pb2027`, [])).toBe(101)
      // Without the flag, plain upgrades are refused outright.
      const { out: other, io: otherSink } = io(stop.signal)
      const plainless = runRelayCommand(['--port', '0'], otherSink)
      await until(() => other.stdout.includes('listening on'), 'the second relay to start')
      const otherUrl = /listening on (ws:\/\/\S+)/.exec(other.stdout)?.[1] as string
      expect(await upgradeStatus(`${otherUrl}/city/process.pb2027`, [])).toBe(404)
      stop.abort()
      expect(await plainless).toBe(0)
    } finally {
      stop.abort()
    }
    expect(await done).toBe(0)
  })

  it('gives a usage error (2) for unknown flags, stray arguments and a bad port, and help (0) for --help', async () => {
    for (const argv of [['--nope'], ['city'], ['--port', 'many'], ['--port', '70000'], ['--data']]) {
      const { out, io: sink } = io(AbortSignal.abort())
      expect(await runRelayCommand(argv, sink), argv.join(' ')).toBe(2)
      expect(out.stderr).toContain('usage: cabildo relay')
    }
    const { out, io: sink } = io()
    expect(await runRelayCommand(['--help'], sink)).toBe(0)
    expect(out.stdout).toContain('--token-file')
  })

  it('fails with 1 when the relay cannot start', async () => {
    const { out, io: sink } = io(AbortSignal.abort())
    expect(await runRelayCommand(['--port', '0', '--token-file', join(tmp, 'missing.json')], sink)).toBe(1)
    expect(out.stderr).toContain('E_STORAGE')
  })
})
