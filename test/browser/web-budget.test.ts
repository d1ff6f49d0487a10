/**
 * The web-budget example end to end, in Debian's Chromium: the example is built with Vite's JS
 * API and served by Vite's preview server on loopback. Two voters vote in two tabs of one browser
 * (synced over BroadcastChannel); then two browser profiles, each its own citizen, vote through a
 * relay on loopback, one of them from a tab that reaches the relay only through its sibling tab.
 * Every tab shows the same outcome, and a reload keeps it (IndexedDB).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { build, preview, type PreviewServer } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRelay, type Relay } from '../../src/node/relay/relay'
import { launchChromium } from './chromium'

const CONFIG = fileURLToPath(new URL('../../examples/web-budget/vite.config.ts', import.meta.url))
const SCREENSHOT = fileURLToPath(new URL('../../test-artifacts/web-budget.png', import.meta.url))
const TIMEOUT = 60_000

/** Three projects of Wilanów 2017 and their costs (PLN). */
const BIKE_ROUTE = /^Rowerem w kierunku Konstancina/ // 300 000
const BENCHES = /^Ławki przy ścieżce rowerowej/ // 11 070
const PAVEMENT = /^Remont chodnika wzdłuż ul\. Sytej/ // 52 500

describe('the web-budget example in a real Chromium', () => {
  let outDir: string
  let server: PreviewServer | undefined
  let browser: Browser | undefined
  let relay: Relay | undefined
  const contexts: BrowserContext[] = []
  let base: string
  /** Errors pages threw or logged, shown when an assertion fails. */
  const pageErrors: string[] = []

  beforeAll(async () => {
    browser = await launchChromium()
    outDir = await mkdtemp(join(tmpdir(), 'cabildo-web-budget-'))
    const inline = { configFile: CONFIG, logLevel: 'warn' as const, build: { outDir, emptyOutDir: true } }
    await build(inline)
    server = await preview({ ...inline, preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false } })
    const url = server.resolvedUrls?.local[0]
    if (url === undefined) throw new Error('the preview server reported no address')
    base = url
    relay = await startRelay({ host: '127.0.0.1', port: 0, resyncEvery: 0 })
  }, TIMEOUT)

  afterAll(async () => {
    for (const context of contexts) await context.close()
    await browser?.close()
    await server?.close()
    await relay?.close()
    if (outDir !== undefined) await rm(outDir, { recursive: true, force: true })
  }, TIMEOUT)

  /** A fresh browser profile: its own IndexedDB, so its own citizen. */
  async function profile(): Promise<BrowserContext> {
    const context = await browser!.newContext({ viewport: { width: 1240, height: 900 } })
    contexts.push(context)
    return context
  }

  /** Opens the page in `context` with the query `query`, and waits until the vote is shown. */
  async function open(context: BrowserContext, query: string): Promise<Page> {
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    page.on('pageerror', (error) => pageErrors.push(`${query}: pageerror: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`${query}: console: ${message.text()}`)
    })
    await page.goto(`${base}${query}`)
    await page.getByText('The vote is open.').waitFor()
    await expect.poll(() => page.getByRole('checkbox').count(), { timeout: 15_000 }).toBe(21)
    return page
  }

  async function vote(page: Page, projects: readonly RegExp[]): Promise<void> {
    for (const name of projects) await page.getByRole('checkbox', { name }).check()
    await page.getByRole('button', { name: /my ballot/ }).click()
    await page.getByRole('status').getByText(/^Your ballot counts/).waitFor()
  }

  /** What a page shows of the outcome: the summary line and every row of the outcome table. */
  async function shown(page: Page): Promise<{ summary: string; rows: string[][] }> {
    const summary = (await page.locator('#outcome-summary').textContent()) ?? ''
    const rows = await page.locator('.outcome tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children, (cell) => cell.textContent ?? '')))
    return { summary, rows }
  }

  it('counts two voters in two synced tabs, shows the same outcome in both, and keeps it over a reload', async () => {
    const browserProfile = await profile()
    const ana = await open(browserProfile, '?voter=ana')
    const ben = await open(browserProfile, '?voter=ben')
    await ana.getByText('in sync with 1 other tab').waitFor()
    await ben.getByText('in sync with 1 other tab').waitFor()

    await vote(ana, [BIKE_ROUTE, BENCHES])
    await vote(ben, [BENCHES, PAVEMENT])

    const expected = '2 ballots counted; 3 of 21 projects funded; 363,570 of 600,000 PLN allocated'
    await expect.poll(async () => (await shown(ana)).summary, { timeout: 15_000 }).toBe(expected)
    await expect.poll(async () => (await shown(ben)).summary, { timeout: 15_000 }).toBe(expected)
    const atAna = await shown(ana)
    expect(await shown(ben)).toEqual(atAna)
    const funded = atAna.rows.filter((row) => row[3] === 'yes').map(([title, cost, votes]) => ({ title, cost, votes }))
    expect(funded).toHaveLength(3)
    expect(funded[0]).toEqual({ title: expect.stringMatching(BENCHES), cost: '11,070', votes: '2' })
    expect(funded.slice(1)).toEqual(
      expect.arrayContaining([
        { title: expect.stringMatching(BIKE_ROUTE), cost: '300,000', votes: '1' },
        { title: expect.stringMatching(PAVEMENT), cost: '52,500', votes: '1' },
      ]),
    )
    expect(atAna.rows.filter((row) => row[3] === 'no').every((row) => row[2] === '0')).toBe(true)

    // A reload drops every object of the page: the ballots come back from IndexedDB (and the other tab).
    await ben.reload()
    await ben.getByText('The vote is open.').waitFor()
    await expect.poll(async () => (await shown(ben)).summary, { timeout: 15_000 }).toBe(expected)
    expect(await shown(ben)).toEqual(atAna)
    expect(await ben.getByRole('checkbox', { name: BENCHES }).isChecked()).toBe(true)
    expect(await ben.getByRole('checkbox', { name: PAVEMENT }).isChecked()).toBe(true)
    expect(await ben.getByRole('checkbox', { name: BIKE_ROUTE }).isChecked()).toBe(false)
    await ana.getByText('in sync with 1 other tab').waitFor() // the reloaded tab said bye, then hello
    expect(pageErrors).toEqual([])
  }, TIMEOUT)

  it('syncs two browser profiles through the relay, also from a tab that reaches it only through a sibling tab', async () => {
    const relayQuery = `?relay=${encodeURIComponent(relay!.url)}`
    const first = await profile()
    const linked = await open(first, relayQuery) // reaches the relay, and its sibling tab
    const sibling = await open(first, '') // BroadcastChannel only
    const second = await open(await profile(), relayQuery)
    await linked.getByText('in sync with 1 other tab · connected to the relay').waitFor()
    await second.getByText('connected to the relay').waitFor()

    await vote(sibling, [BIKE_ROUTE])
    await vote(second, [BIKE_ROUTE, PAVEMENT])

    // One ballot per voter counts: two ballots mean the two profiles voted with two keys.
    const expected = '2 ballots counted; 2 of 21 projects funded; 352,500 of 600,000 PLN allocated'
    const pages = [linked, sibling, second]
    for (const page of pages) await expect.poll(async () => (await shown(page)).summary, { timeout: 15_000 }).toBe(expected)
    const outcome = await shown(linked)
    for (const page of pages) expect(await shown(page)).toEqual(outcome)
    expect(outcome.rows.filter((row) => row[3] === 'yes').map(([title, cost, votes]) => ({ title, cost, votes }))).toEqual([
      { title: expect.stringMatching(BIKE_ROUTE), cost: '300,000', votes: '2' },
      { title: expect.stringMatching(PAVEMENT), cost: '52,500', votes: '1' },
    ])

    await sibling.reload()
    await sibling.getByText('The vote is open.').waitFor()
    await expect.poll(async () => (await shown(sibling)).summary, { timeout: 15_000 }).toBe(expected)
    expect(await sibling.getByRole('checkbox', { name: BIKE_ROUTE }).isChecked()).toBe(true)

    await mkdir(join(SCREENSHOT, '..'), { recursive: true })
    await linked.screenshot({ path: SCREENSHOT, fullPage: true })
    expect(pageErrors).toEqual([])
  }, TIMEOUT)
})
