/**
 * A browser page over cabildo's public API: a Space kept in IndexedDB. It exposes `spacePage` on
 * `window` so a test can write records, reload the page, and read them back from IndexedDB; what it
 * reads it renders as a list, so a screenshot shows it.
 *
 * Bundled by `test/browser/page-server.ts`; the test drives it with `page.evaluate`:
 * ```ts
 * const written = await page.evaluate(() => (window as unknown as SpacePageWindow).spacePage.write())
 * ```
 * @module
 */
import { CabildoError, createIndexedDbStorage, createSpace, openSpace, syncSpaces, type Space } from '../../../src/index'

/** The Space's id on every replica of this page. */
const SPACE_ID = 'browser-city'
/** The database name prefix of the deliberately broken storage (kept apart from the real one). */
const BROKEN_PREFIX = 'broken-'

/** What {@link SpacePageApi.write} made. */
export interface WrittenRecords {
  readonly ticketId: string
  readonly proposalId: string
  /** The proposal's body as the writing replica saw it after both replicas' edits. */
  readonly body: string
}

/** What {@link SpacePageApi.read} found after the reload. */
export interface FoundRecords {
  /** Every IndexedDB database of the page's origin, sorted. */
  readonly databases: readonly string[]
  /** The shards the Space's manifest lists. */
  readonly shards: readonly string[]
  readonly ticket: { readonly valid: boolean; readonly value: Readonly<Record<string, unknown>> } | undefined
  readonly proposal: { readonly valid: boolean; readonly value: Readonly<Record<string, unknown>> } | undefined
  /** The proposal's body read from its collaborative text. */
  readonly body: string | undefined
}

/** A storage failure as it crosses to the test (a `CabildoError` cannot be serialized whole). */
export interface StorageFailureSummary {
  readonly isCabildoError: boolean
  readonly code: string | undefined
  readonly details: unknown
  /** The broken database's version and object stores after the failed open. */
  readonly databaseAfter: { readonly version: number; readonly stores: readonly string[] }
}

/** The page's API, on `window.spacePage`. */
export interface SpacePageApi {
  /** Opens the Space over IndexedDB, creates a ticket and a proposal, edits the body with a second replica, flushes. Leaves the Space open, as a tab that is closed or reloaded would. */
  write(): Promise<WrittenRecords>
  /** Opens the Space from IndexedDB and reads the records back; renders them. */
  read(ticketId: string, proposalId: string): Promise<FoundRecords>
  /** Opens a Space whose manifest database exists with another layout, and reports how it fails. */
  openOverForeignDatabase(): Promise<StorageFailureSummary>
}

/** `window` with the page's API on it. */
export interface SpacePageWindow {
  readonly spacePage: SpacePageApi
}

const api: SpacePageApi = {
  async write() {
    const space = await openSpace({ id: SPACE_ID, storage: createIndexedDbStorage() })
    const ticket = await space.tickets.create({
      service_code: 'pothole',
      service_name: 'Pothole',
      description: 'Deep pothole in front of number 12',
      district: 'north',
    })
    const proposal = await space.proposals.create({
      title: 'Shade trees on Calle Mayor',
      body: 'Plant twelve trees.',
      district: 'north',
      process: 'pb2026',
    })
    proposal.text('body').insert(0, 'Proposal: ')

    // A second replica, in memory only, appends to the same body; its edit reaches the stored
    // replica as a remote update, which must be persisted like a local one.
    const peer = createSpace({ id: SPACE_ID })
    await syncSpaces(space, peer)
    const peerBody = (await peer.proposals.require(proposal.id)).text('body')
    peerBody.insert(peerBody.length, ' Water them weekly.')
    await syncSpaces(peer, space)
    await peer.close()

    await space.flush()
    spaces.push(space)
    return { ticketId: ticket.id, proposalId: proposal.id, body: proposal.text('body').toString() }
  },

  async read(ticketId, proposalId) {
    const space = await openSpace({ id: SPACE_ID, storage: createIndexedDbStorage() })
    spaces.push(space)
    const ticket = await space.tickets.get(ticketId)
    const proposal = await space.proposals.get(proposalId)
    const found: FoundRecords = {
      databases: (await indexedDB.databases()).map((db) => db.name ?? '').sort(),
      shards: space.shardNames(),
      ticket: ticket === undefined ? undefined : plainRead(ticket.get()),
      proposal: proposal === undefined ? undefined : plainRead(proposal.get()),
      body: proposal?.text('body').toString(),
    }
    render(found, ticketId, proposalId)
    return found
  },

  async openOverForeignDatabase() {
    const name = `${BROKEN_PREFIX}_manifest`
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.open(name, 1)
      request.onupgradeneeded = () => request.result.createObjectStore('notes')
      request.onsuccess = () => {
        request.result.close()
        resolve()
      }
      request.onerror = () => reject(request.error)
    })
    let failure: unknown
    try {
      spaces.push(await openSpace({ id: SPACE_ID, storage: createIndexedDbStorage({ prefix: BROKEN_PREFIX }) }))
    } catch (error) {
      failure = error
    }
    const databaseAfter = await new Promise<StorageFailureSummary['databaseAfter']>((resolve, reject) => {
      const request = indexedDB.open(name)
      request.onsuccess = () => {
        const db = request.result
        resolve({ version: db.version, stores: Array.from(db.objectStoreNames).sort() })
        db.close()
      }
      request.onerror = () => reject(request.error)
    })
    return {
      isCabildoError: failure instanceof CabildoError,
      code: failure instanceof CabildoError ? failure.code : undefined,
      details: failure instanceof CabildoError ? failure.details : String(failure),
      databaseAfter,
    }
  },
}

/** Spaces this page opened, kept reachable until the page goes away. */
const spaces: Space[] = []

function plainRead(read: { readonly valid: boolean; readonly value: object }): { valid: boolean; value: Record<string, unknown> } {
  // A JSON copy: plain data that crosses to the test as it is, whatever the record holds.
  return { valid: read.valid, value: JSON.parse(JSON.stringify(read.value)) as Record<string, unknown> }
}

/** Shows what was found after the reload, for the screenshot. */
function render(found: FoundRecords, ticketId: string, proposalId: string): void {
  const app = document.getElementById('app')
  if (app === null) return
  const list = document.createElement('ul')
  const item = (label: string, id: string, text: string) => {
    const li = document.createElement('li')
    const strong = document.createElement('strong')
    strong.textContent = `${label} `
    const code = document.createElement('code')
    code.textContent = id
    li.append(strong, code, document.createElement('br'), text)
    list.append(li)
  }
  const ticket = found.ticket?.value
  item('Ticket', ticketId, ticket === undefined ? 'not found' : `${String(ticket.service_name)} (${String(ticket.status)}): ${String(ticket.description)}`)
  const proposal = found.proposal?.value
  item('Proposal', proposalId, proposal === undefined ? 'not found' : `${String(proposal.title)}: ${found.body ?? ''}`)
  item('IndexedDB databases', '', found.databases.join(', '))
  const heading = document.createElement('p')
  heading.textContent = 'Read back from IndexedDB after a page reload:'
  app.replaceChildren(heading, list)
}

;(window as unknown as { spacePage: SpacePageApi }).spacePage = api
