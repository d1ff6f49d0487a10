import { mkdir } from 'node:fs/promises'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './chromium'
import { servePage, type PageServer } from './page-server'
import type { SpacePageWindow, WrittenRecords } from './pages/space-page'

/** Where the screenshot goes (git-ignored). */
const ARTIFACTS = new URL('../../test-artifacts/browser/', import.meta.url)
const TIMEOUT = 60_000

describe('a Space in IndexedDB, in a real Chromium', () => {
  let server: PageServer | undefined
  let browser: Browser | undefined
  let page: Page
  /** Errors the page threw or logged: shown when an assertion fails. */
  const pageErrors: string[] = []

  beforeAll(async () => {
    // Launch first: without Chromium the suite fails here, with the command to install it.
    browser = await launchChromium()
    server = await servePage({ entry: new URL('./pages/space-page.ts', import.meta.url), title: 'cabildo: a Space in IndexedDB' })
    page = await browser.newPage({ viewport: { width: 800, height: 420 } })
    page.setDefaultTimeout(20_000)
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`)
    })
    await openPage(page, server.url)
  }, TIMEOUT)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  }, TIMEOUT)

  it('finds the ticket, the proposal and the collaboratively edited body after the page reloads', async () => {
    const written: WrittenRecords = await page.evaluate(() => (window as unknown as SpacePageWindow).spacePage.write())
    const expectedBody = 'Proposal: Plant twelve trees. Water them weekly.'
    expect(written.body, pageErrors.join('\n')).toBe(expectedBody)

    // A reload drops every object of the page: what comes back can only come from IndexedDB.
    await page.reload()
    await openPage(page, server!.url)
    expect(await page.evaluate(() => 'spacePage' in window && document.getElementById('app')?.textContent)).toBe('loading…')
    const found = await page.evaluate(
      ({ ticketId, proposalId }) => (window as unknown as SpacePageWindow).spacePage.read(ticketId, proposalId),
      written,
    )
    await mkdir(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: new URL('indexeddb-reload.png', ARTIFACTS).pathname, fullPage: true })

    expect(found.ticket, pageErrors.join('\n')).toBeDefined()
    expect(found.ticket?.valid).toBe(true)
    expect(found.ticket?.value).toMatchObject({
      id: written.ticketId,
      service_code: 'pothole',
      service_name: 'Pothole',
      description: 'Deep pothole in front of number 12',
      district: 'north',
      status: 'open',
    })
    expect(found.proposal?.valid).toBe(true)
    expect(found.proposal?.value).toMatchObject({
      id: written.proposalId,
      title: 'Shade trees on Calle Mayor',
      district: 'north',
      process: 'pb2026',
      body: expectedBody,
    })
    expect(found.body).toBe(expectedBody)

    // The manifest and each shard are databases of their own, named as y-indexeddb names them.
    const ticketShard = written.ticketId.split('/')[0]!
    const proposalShard = written.proposalId.split('/')[0]!
    expect(proposalShard).toBe('process.pb2026')
    expect(found.shards).toEqual([proposalShard, ticketShard].sort())
    expect(found.databases).toEqual(expect.arrayContaining(['_manifest', proposalShard, ticketShard]))
    expect(await page.locator('#app li').count()).toBe(3)
    expect(pageErrors).toEqual([])
  }, TIMEOUT)

  it('refuses with E_STORAGE a manifest database laid out otherwise, and writes nothing over it', async () => {
    const failure = await page.evaluate(() => (window as unknown as SpacePageWindow).spacePage.openOverForeignDatabase())
    expect(failure.isCabildoError, JSON.stringify(failure.details)).toBe(true)
    expect(failure.code).toBe('E_STORAGE')
    expect(failure.details).toEqual({ operation: 'load', key: '_manifest', cause: 'NotFoundError' })
    expect(failure.databaseAfter).toEqual({ version: 1, stores: ['notes'] })
  }, TIMEOUT)
})

/** Loads the page and waits until its module has run. */
async function openPage(page: Page, url: string): Promise<void> {
  if (page.url() !== url) await page.goto(url)
  await page.waitForFunction(() => 'spacePage' in window)
}
