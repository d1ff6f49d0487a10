/**
 * Entry point: opens the session, then renders the page under a `SpaceProvider`. A page that is
 * hidden for good closes its sync engines, so the other tabs see it leave at once rather than
 * after the transport's timeout.
 * @module
 */
import { SpaceProvider } from 'cabildo/react'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app'
import { openSession } from './open-session'
import './style.css'

const root = document.getElementById('app')
if (root === null) throw new Error('the page has no #app element')

try {
  const session = await openSession(new URL(location.href))
  addEventListener('pagehide', () => session.close())
  // A page restored from the back-forward cache has closed its transports: start afresh.
  addEventListener('pageshow', (event) => {
    if (event.persisted) location.reload()
  })
  createRoot(root).render(
    <StrictMode>
      <SpaceProvider space={session.space}>
        <App session={session} />
      </SpaceProvider>
    </StrictMode>,
  )
} catch (error) {
  root.textContent = `The page could not start: ${error instanceof Error ? error.message : String(error)}`
  throw error
}
