/**
 * The demo's progress display: numbered steps, each with a few counters, rewritten in place on
 * a terminal and printed once per step otherwise. Silent with `--quiet` and `--json`.
 */

/** Shows where the demo stands. */
export interface Progress {
  /** Starts a step (ends the previous one). */
  step(title: string): void
  /** Sets a counter of the current step (e.g. `envelopes: 42`). */
  count(name: string, value: number): void
  /** Ends the current step. */
  done(): void
}

/** A progress display writing to `out` (a TTY is updated in place). */
export function createProgress(out: NodeJS.WriteStream, enabled: boolean): Progress {
  let index = 0
  let title = ''
  const counts = new Map<string, number>()
  let open = false
  const line = (): string => {
    const detail = [...counts].map(([name, value]) => `${name} ${value}`).join(' · ')
    return `  ${String(index).padStart(2)}. ${title}${detail ? `  (${detail})` : ''}`
  }
  const render = (): void => {
    if (!enabled || !open || !out.isTTY) return
    out.write(`\r\x1b[2K${line()}`)
  }
  const done = (): void => {
    if (!open) return
    open = false
    if (!enabled) return
    out.write(out.isTTY ? `\r\x1b[2K${line()}  ✓\n` : `${line()}\n`)
  }
  return {
    step(next) {
      done()
      index++
      title = next
      counts.clear()
      open = true
      render()
    },
    count(name, value) {
      counts.set(name, value)
      render()
    },
    done,
  }
}
