import { defineConfig } from 'vitest/config';

// `npm test` runs both projects; `npm run test:fast` only the quick ones.
// Live suites (real Kamailio, SIPp, PostgreSQL, compiles) are named *.live.test.ts.
export default defineConfig({
  test: {
    // The SDK is pinned by the lockfile; its notice about future Node requirements is noise in test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
    projects: [
      {
        test: {
          name: 'fast',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.live.test.ts', 'node_modules/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'live',
          include: ['test/**/*.live.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Live suites bind ports and burn CPU; on 2 cores they run one file at a time.
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
