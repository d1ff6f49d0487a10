// Typechecks every ```ts and ```tsx block of README.md and docs/*.md against the source, so examples cannot rot.
// Each block becomes its own module under .doc-examples/ (git-ignored); `cabildo` resolves to src/.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const out = join(root, '.doc-examples')
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
let count = 0
for (const file of files) {
  const text = readFileSync(join(root, file), 'utf8')
  const blocks = [...text.matchAll(/^```(tsx?)\n([\s\S]*?)^```/gm)]
  blocks.forEach((match, i) => {
    const name = `${file.replace(/[/.]/g, '_')}_${i + 1}.${match[1]}`
    writeFileSync(join(out, name), `// from ${file}, block ${i + 1}\n${match[2]}\nexport {}\n`)
    count++
  })
}
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify({
    extends: '../tsconfig.json',
    compilerOptions: {
      noEmit: true,
      noUnusedLocals: false,
      jsx: 'react-jsx',
      paths: { cabildo: ['../src/index.ts'], 'cabildo/node': ['../src/node/index.ts'], 'cabildo/testing': ['../src/testing/index.ts'], 'cabildo/react': ['../src/react/index.ts'] },
    },
    include: ['./*.ts', './*.tsx'],
  }),
)
try {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(out, 'tsconfig.json')], { stdio: 'inherit' })
} catch {
  console.error(`doc examples: type errors (see above; files in .doc-examples/)`)
  process.exit(1)
}
console.log(`doc examples: ${count} blocks typecheck`)
