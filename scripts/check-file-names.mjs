// Fails when a source, test, bench, example or script file name is not kebab-case.
import { readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(new URL('..', import.meta.url).pathname)
const kebab = /^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*$/
const bad = []
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (name === 'node_modules' || name === 'results' || name === 'fixtures' || name === 'dist') continue
    if (statSync(path).isDirectory()) {
      if (!kebab.test(name)) bad.push(path)
      walk(path)
    } else if (/\.(ts|tsx|mjs|cjs|js)$/.test(name) && !kebab.test(name)) bad.push(path)
  }
}
for (const dir of ['src', 'test', 'bench', 'examples', 'scripts']) {
  try {
    walk(join(root, dir))
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
  }
}
if (bad.length > 0) {
  console.error(`file names must be kebab-case:\n${bad.join('\n')}`)
  process.exit(1)
}
console.log('file names: kebab-case')
