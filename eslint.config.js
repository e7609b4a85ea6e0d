// Lint: typescript-eslint's strict, type-checked rules (the code is mostly async effects: a promise nobody awaits
// loses its error), plus the layering of docs/design.md as import rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// The definition's pure schema (zod and constants): what the agent and the contract may read of src/definition.
// The rest of it (load.ts, locate.ts, input-limits.ts: fs and yaml) stays with the build side.
const definitionSchema = ['schema.ts', 'bake-schema.ts', 'deploy-schema.ts', 'drain-schema.ts', 'primitives.ts', 'twilio.ts'].map((f) => `./definition/${f}`);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'build/**', '.cache/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      // The project service reads tsconfig.json once for every .ts file; the few .js files outside it (the bin
      // shim, this config, the fake packer) are linted without types (below).
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
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
      // The two rules this preset is here for: an unawaited promise, or an async function where a void callback is
      // expected, loses its rejection (a child process's failure, an AWS error).
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Numbers and booleans read plainly in messages ("3 instances", "dryRun=true"); objects, nullish values and
      // unions with them still need an explicit String()/JSON.stringify, which is where "[object Object]" and
      // "undefined" come from.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `return send(res, 404)` is the early exit of every HTTP handler here (fakes, health port); the rule would
      // only split each into two statements.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // TypeScript narrows a `let` flag that a callback sets (`exited`, `stopped`) to its first value, so the rule
      // reports live loop conditions; and it calls `child.stdout?.` or `tmp?.remove()` in an afterAll needless,
      // although those are undefined at run time when a spawn or a beforeAll failed. Wrong more often than right.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // String(argv.x) and Boolean(...) guard values from yargs and JSON whose static type is narrower than what
      // arrives (yargs turns a positional `123` into a number).
      '@typescript-eslint/no-unnecessary-type-conversion': 'off',
      // [...s] splits a string into code points on purpose (Kamailio's column widths, per-letter patterns).
      '@typescript-eslint/no-misused-spread': ['error', { allow: [{ from: 'lib', name: 'string' }] }],
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
            // contract/ is shared by render and the agent; it depends on neither (only on the definition's schema).
            {
              target: './src/contract',
              from: './src',
              except: ['./contract', './core', ...definitionSchema],
              message: "src/contract imports only src/core and the definition's pure schema (definition/*schema.ts, primitives.ts, twilio.ts).",
            },
            // The agent ships onto every AMI: an allow-list keeps the build, roll and AWS-wide code off it.
            {
              target: './src/agent',
              from: './src',
              except: ['./agent', './contract', './core', ...definitionSchema],
              message: "src/agent imports only src/agent, src/contract, src/core and the definition's pure schema (it runs on the instance).",
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
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'error' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Test doubles implement the product's async interfaces with canned answers: `async alive() { return true }`
      // is the plain way to do that, and has nothing to await.
      '@typescript-eslint/require-await': 'off',
      // Tests read JSON.parse'd output and vitest's asymmetric matchers (expect.any), both typed `any`; src/ keeps
      // these rules.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      // `cli<PlanDoc>(…)`: a test names the JSON document it expects back from the CLI.
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
    },
  },
  {
    // The AWS fake's handlers take the raw command input aws-sdk-client-mock hands them. Typing each by its SDK
    // CommandInput means deciding, per required field, which error AWS returns when it is missing: fidelity work
    // for the fake, not a type change.
    files: ['test/fakes/aws/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The region model's handlers (moved from test/fakes/aws) take the command input the wire decoded by the SDK's
    // own schema (src/region/wire/schema-codec.ts) or aws-sdk-client-mock handed over: typing each by its SDK
    // CommandInput is the same fidelity work as above. The model's maps are keyed by ids the handlers just checked,
    // hence its non-null assertions. The wire code (src/region/wire/) keeps every rule.
    files: ['src/region/handlers-*.ts', 'src/region/region.ts', 'src/region/refresh-engine.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
