// Lint: typescript-eslint's strict rules, plus the layering of docs/design.md as import rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'build/**', '.cache/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      // no-cycle follows imports into other files; it must parse them as TypeScript.
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        queueMicrotask: 'readonly',
        structuredClone: 'readonly',
        setImmediate: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            // cli/ is the top: it imports the features; no feature imports cli/.
            {
              target: './src/!(cli)/**/*',
              from: './src/cli',
              message: 'Only src/cli imports src/cli (docs/design.md, layout).',
            },
            // core/ is the floor: imported by everything, importing nothing of ours.
            {
              target: './src/core/**/*',
              from: './src/!(core)/**/*',
              message: 'src/core is a leaf: it imports nothing of ours.',
            },
            // contract/ is shared by render and the agent; it depends on neither (only on the definition's types).
            {
              target: './src/contract/**/*',
              from: './src/!(contract|core|definition)/**/*',
              message: 'src/contract imports only src/core and src/definition.',
            },
            // The on-instance agent and the renderer meet only in src/contract.
            {
              target: './src/agent',
              from: './src/render',
              message: 'agent and render share code through src/contract only.',
            },
            {
              target: './src/render',
              from: './src/agent',
              message: 'agent and render share code through src/contract only.',
            },
            // Product code never imports tests.
            { target: './src', from: './test', message: 'src never imports test/.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'error' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // The AWS fake's handlers take the raw command input aws-sdk-client-mock hands them. Typing each by its SDK
    // CommandInput means deciding, per required field, which error AWS returns when it is missing: fidelity work
    // for the fake, not a type change.
    files: ['test/fakes/aws/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
