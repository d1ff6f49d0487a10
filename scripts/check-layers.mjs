// Fails when a file under src/ imports from a higher layer, or imports a parent index (barrel).
// Layers, bottom-up; a file may import its own layer and the ones before it.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const layers = ['errors', 'encoding', 'schema', 'doc', 'identity', 'policy', 'civic', 'storage', 'transports', 'sync', 'node', 'testing', 'react']
const root = resolve(new URL('..', import.meta.url).pathname, 'src')

function layerOf(file) {
  const rel = relative(root, file).split('/')
  if (rel.length === 1) {
    const base = rel[0].replace(/\.ts$/, '')
    return base === 'errors' ? 0 : layers.length // index.ts, cli.ts sit on top
  }
  const index = layers.indexOf(rel[0])
  if (index < 0) throw new Error(`src/${rel[0]} is not a known layer: add it to scripts/check-layers.mjs`)
  return index
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* walk(path)
    else if (name.endsWith('.ts')) yield path
  }
}

const problems = []
for (const file of walk(root)) {
  const source = readFileSync(file, 'utf8')
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
    const spec = match[1]
    const target = resolve(dirname(file), spec)
    const targetFile = target.endsWith('.ts') ? target : `${target}.ts`
    const from = layerOf(file)
    const to = layerOf(statSafe(targetFile) ? targetFile : join(target, 'index.ts'))
    const rel = relative(root, file)
    if (to > from) problems.push(`${rel}: imports ${spec} from a higher layer (${layers[to] ?? 'root'})`)
    if (/(^|\/)\.\.(\/index)?(\.ts)?$/.test(spec) || /\.\.\/index(\.ts)?$/.test(spec)) {
      problems.push(`${rel}: imports a parent barrel (${spec})`)
    }
  }
}

function statSafe(path) {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

if (problems.length > 0) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log('layers: every import points down')
