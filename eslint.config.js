// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Folders whose code must stay pure: rules take data and return data. */
const pureFolders = ['src/policy/**/*.ts', 'src/civic/**/*.ts']

export default tseslint.config(
  { ignores: ['dist/**', 'examples/*/dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**', 'test-artifacts/**', '.doc-examples/**', '.scratch/**', 'docs/api/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Library code: no console, no root-barrel imports from inside, no Node built-ins outside src/node.
    files: ['src/**/*.ts'],
    ignores: ['src/node/**', 'src/cli.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'The core is browser-safe: Node built-ins live under src/node/.' },
            { group: ['../index', '../../index', '../index.js', '../../index.js'], message: 'Never import a parent barrel from inside the package.' },
          ],
          paths: ['fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'buffer'].map((name) => ({
            name,
            message: 'The core is browser-safe: Node built-ins live under src/node/.',
          })),
        },
      ],
      'no-restricted-globals': ['error', { name: 'Buffer', message: 'Use Uint8Array; Buffer is Node-only.' }],
    },
  },
  {
    // Pure, clock-free rules: no wall clock, no randomness, no I/O.
    files: pureFolders,
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Policies and civic rules are clock-free: take time as data.' },
        { object: 'Math', property: 'random', message: 'Policies and civic rules are deterministic.' },
        { object: 'performance', property: 'now', message: 'Policies and civic rules are clock-free.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Policies and civic rules are clock-free: take time as data.' },
        { selector: "CallExpression[callee.name='fetch']", message: 'Policies and civic rules do no I/O.' },
        { selector: "CallExpression[callee.name='setTimeout']", message: 'Policies and civic rules do no I/O.' },
      ],
    },
  },
)
