import { defineConfig } from 'vitest/config';
import { findUpstream, upstreamPath } from './src/try/upstream.js';
import { testModuleSet } from './test/support/upstream-modules.js';

// `npm test` runs both projects; `npm run test:fast` only the quick ones.
// Live suites (real Kamailio, SIPp, PostgreSQL, compiles) are named *.live.test.ts.
// The live suites run the pinned Kamailio and RTPProxy that .ci/upstream.sh compiled (src/try/upstream.ts):
// their directories go first on PATH, so `kamailio` and `rtpproxy` are the AMI's. Without that build, Debian's
// kamailio and the Node RTPProxy stand-in (test/support/binaries.ts says so in one line).
export default defineConfig(async () => {
  const common = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const build = process.env.SIPBAKE_UPSTREAM === 'off' ? undefined : findUpstream({ modules: await testModuleSet() });
  const liveEnv = build ? { ...common, PATH: upstreamPath(build), SIPBAKE_UPSTREAM_DIR: build.dir } : common;
  return {
    test: {
      // The SDK is pinned by the lockfile; its notice about future Node requirements is noise in test output.
      env: common,
      reporters: ['default', 'json'],
      outputFile: { json: '.vitest-results.json' },
      projects: [
        {
          test: {
            name: 'fast',
            include: ['test/**/*.test.ts'],
            exclude: ['test/**/*.live.test.ts', 'node_modules/**'],
            testTimeout: 20_000,
            env: common,
          },
        },
        {
          test: {
            name: 'live',
            include: ['test/**/*.live.test.ts'],
            testTimeout: 180_000,
            hookTimeout: 180_000,
            env: liveEnv,
            globalSetup: ['test/support/binaries.ts'],
            // Live suites bind ports and burn CPU; on 2 cores they run one file at a time.
            poolOptions: { forks: { singleFork: true } },
          },
        },
      ],
    },
  };
});
