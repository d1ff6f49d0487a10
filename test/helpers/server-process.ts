/**
 * What the test helpers that run a real server process (redis-server, PostgreSQL) share: a free
 * port on 127.0.0.1, retrying a launch when the port is taken meanwhile, waiting for a process to
 * exit, stopping it with a signal that escalates, and killing what is still running when the test
 * process exits.
 */
import type { ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Resolves once `child` has exited (at once if it already has). */
export function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Live servers of this process, each with the signal that stops it at once. */
const live = new Map<ChildProcess, NodeJS.Signals>()
let exitHookInstalled = false

/** Kills `child` with `signal` if the test process exits while it still runs. */
export function track(child: ChildProcess, signal: NodeJS.Signals): void {
  live.set(child, signal)
  child.once('exit', () => live.delete(child))
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const [server, last] of live) if (server.pid !== undefined) process.kill(server.pid, last)
  })
}

/**
 * Runs `launch(port)` on a free port, trying three ports: one can be taken between the probe
 * and the server's bind. Calls `giveUp` before rethrowing the third failure.
 */
export async function launchOnFreePort(launch: (port: number) => Promise<void>, giveUp: () => Promise<void>): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    try {
      await launch(port)
      return port
    } catch (error) {
      if (attempt === 2) {
        await giveUp()
        throw error
      }
    }
  }
}

/** Sends `signal` to `child`, then `escalate` after `graceMs` if it has not exited, and waits for its exit. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, escalate: NodeJS.Signals, graceMs: number): Promise<void> {
  child.kill(signal)
  const timer = setTimeout(() => child.kill(escalate), graceMs)
  await waitForExit(child)
  clearTimeout(timer)
}
