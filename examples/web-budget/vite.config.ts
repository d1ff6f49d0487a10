/**
 * Vite config of the web-budget example. `cabildo` and `cabildo/react` resolve to the sources in
 * ../../src, so the example runs from a fresh clone without building the package. JSX goes
 * through Vite's own Oxc transform (React's automatic runtime): no plugin needed.
 *
 * Run from the repository root: `npm run example:web-budget` (dev server) or
 * `npm run example:web-budget:build` (production build into examples/web-budget/dist).
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const here = fileURLToPath(new URL('.', import.meta.url))
const src = fileURLToPath(new URL('../../src/', import.meta.url))

export default defineConfig({
  root: here,
  resolve: {
    alias: [
      { find: /^cabildo$/, replacement: `${src}index.ts` },
      { find: /^cabildo\/react$/, replacement: `${src}react/index.ts` },
    ],
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  server: {
    host: '127.0.0.1',
    // The aliased sources live outside the example's folder.
    fs: { allow: [fileURLToPath(new URL('../../', import.meta.url))] },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // React and the CRDT/crypto stack in chunks of their own: they change less often than the page.
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            { name: 'vendor', test: /node_modules[\\/]/ },
          ],
        },
      },
    },
  },
})
