/**
 * The Chromium that browser tests drive: Debian's package, found at `CHROMIUM_PATH` or
 * `/usr/bin/chromium`, launched headless through playwright-core. Browsers are never downloaded by
 * npm or Playwright; a machine without Chromium fails the browser tests with the command to install
 * it, so CI cannot pass them by skipping.
 *
 * ```ts
 * import { launchChromium } from './chromium'
 * const browser = await launchChromium()
 * const page = await browser.newPage()
 * await browser.close()
 * ```
 * @module
 */
import { accessSync, constants } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/** Where Chromium is looked for when `CHROMIUM_PATH` is not set (Debian's `chromium` package). */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium'

/**
 * Flags for a headless Chromium in a container, as root, with no network beyond loopback: no
 * sandbox (root cannot use it), no GPU, and none of the background fetches (updates, sync, QUIC
 * probes) that would reach outside the machine.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * The path of the Chromium executable: `CHROMIUM_PATH` if set, else {@link DEFAULT_CHROMIUM_PATH}.
 * @throws Error, saying how to install Chromium, when no executable file is there.
 */
export function chromiumPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const path = env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM_PATH
  try {
    accessSync(path, constants.X_OK)
  } catch {
    const origin = env.CHROMIUM_PATH === undefined ? '(the default; set CHROMIUM_PATH to use another)' : '(from CHROMIUM_PATH)'
    throw new Error(
      `Browser tests need Chromium, and no executable was found at ${path} ${origin}. ` +
        'Install Debian\'s Chromium with: apt-get update && apt-get install -y --no-install-recommends chromium',
    )
  }
  return path
}

/**
 * Launches a headless Chromium with {@link CHROMIUM_ARGS}. Playwright gives it a fresh temporary
 * profile, removed on `browser.close()`, so no state leaks between runs.
 * @throws Error when Chromium is not installed (see {@link chromiumPath}) or fails to start.
 */
export function launchChromium(options: { readonly timeoutMs?: number } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...CHROMIUM_ARGS],
    timeout: options.timeoutMs ?? 30_000,
  })
}
