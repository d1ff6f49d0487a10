// Imports the built package by its own name, as ESM or as CommonJS (one per process, as an app
// would), and checks that a Space works: create, sync, typed error.
// Usage: node scripts/smoke-dist.mjs esm|cjs
import { createRequire } from 'node:module'

const mode = process.argv[2]
if (mode !== 'esm' && mode !== 'cjs') throw new Error('usage: node scripts/smoke-dist.mjs esm|cjs')
const require = createRequire(import.meta.url)
const lib = mode === 'cjs' ? require('cabildo') : await import('cabildo')
const nodeLib = mode === 'cjs' ? require('cabildo/node') : await import('cabildo/node')
const reactLib = mode === 'cjs' ? require('cabildo/react') : await import('cabildo/react')
if (typeof reactLib.useEntity !== 'function' || typeof reactLib.SpaceProvider !== 'function') throw new Error(`${mode}: cabildo/react is incomplete`)

// cabildo/node shares the core's code: its errors are the core's CabildoError.
const { mkdtempSync } = await import('node:fs')
const { join } = await import('node:path')
const { tmpdir } = await import('node:os')
const dir = mkdtempSync(join(tmpdir(), 'cabildo-smoke-'))
const badKeyFile = join(dir, 'key.json')
;(await import('node:fs')).writeFileSync(badKeyFile, '{"kty":"nope"}')
const nodeError = await lib.loadOrCreateIdentity(nodeLib.fileIdentityStore(badKeyFile)).catch((e) => e)
if (!(nodeError instanceof lib.CabildoError)) throw new Error(`${mode}: cabildo/node threw a foreign error: ${nodeError}`)

const space = lib.createSpace({ id: `smoke-${mode}` })
const other = lib.createSpace({ id: `smoke-${mode}` })
const ticket = await space.tickets.create({ service_code: 'smoke', district: 'ci' })
await lib.syncSpaces(space, other)
const read = (await other.tickets.get(ticket.id))?.get()
if (!read?.valid || read.value.service_code !== 'smoke') throw new Error(`${mode}: ticket did not sync`)
let code
try {
  await space.tickets.create({ service_code: '', district: 'ci' })
} catch (err) {
  code = err instanceof lib.CabildoError ? err.code : undefined
}
if (code !== 'E_SCHEMA') throw new Error(`${mode}: expected E_SCHEMA, got ${code}`)
await space.close()
await other.close()
console.log(`smoke ${mode}: ok`)
