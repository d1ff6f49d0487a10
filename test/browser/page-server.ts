/**
 * Serves a browser test page: bundles one TypeScript entry with esbuild for the browser and serves
 * it, under a tiny HTML page, from a `node:http` server on loopback and an ephemeral port.
 *
 * ```ts
 * import { servePage } from './page-server'
 * const server = await servePage({ entry: new URL('./pages/space-page.ts', import.meta.url), title: 'Space' })
 * await page.goto(server.url)
 * await server.close()
 * ```
 * @module
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/** A running page server. */
export interface PageServer {
  /** The page's address, `http://127.0.0.1:<port>/`. */
  readonly url: string
  /** Stops the server and drops its open connections. Idempotent. */
  close(): Promise<void>
}

/**
 * Bundles `entry` as an ES module for the browser, in memory. A dependency that only exists in Node
 * (`node:*`, `fs`, `Buffer`, ...) makes the build fail: the code under test must be browser-safe.
 * @throws Error with esbuild's messages when the entry does not bundle.
 */
export async function bundleForBrowser(entry: string | URL): Promise<string> {
  const result = await build({
    entryPoints: [typeof entry === 'string' ? entry : fileURLToPath(entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  const output = result.outputFiles[0]
  if (output === undefined) throw new Error('esbuild produced no output')
  if (result.warnings.length > 0) {
    throw new Error(`the browser bundle has warnings: ${result.warnings.map((w) => w.text).join('; ')}`)
  }
  return output.text
}

/** Bundles `entry` and serves it at `/page.js`, loaded by the HTML page at `/`. */
export async function servePage(options: { readonly entry: string | URL; readonly title: string }): Promise<PageServer> {
  const script = await bundleForBrowser(options.entry)
  const html =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">' +
    `<title>${escapeHtml(options.title)}</title>` +
    '<style>body{font:15px system-ui,sans-serif;margin:24px;max-width:720px}li{margin:6px 0}code{font-size:13px}</style>' +
    `</head><body><h1>${escapeHtml(options.title)}</h1><main id="app">loading…</main>` +
    '<script type="module" src="/page.js"></script></body></html>'
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname
    const body = path === '/' ? html : path === '/page.js' ? script : undefined
    if (body === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    const type = path === '/' ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8'
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body)
  })
  await listen(server)
  const { port } = server.address() as AddressInfo
  let closing: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}/`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
