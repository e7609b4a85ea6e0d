import { build } from 'esbuild';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { UserError } from '../core/errors.js';

// The on-instance agent runs under the image's Debian nodejs (18), from one self-contained file.
const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The packed CLI ships no .ts sources: `npm pack` (prepack, src/render/write-agent-bundle.ts) writes the bundle
 * from them to dist/agent-bundle.mjs, byte for byte what the checkout bundles, so both render the same tree
 * and compute the same content hash. Read from dist/render/ as ../agent-bundle.mjs.
 */
export const AGENT_BUNDLE_FILE = 'agent-bundle.mjs';
const PREBUILT_BUNDLE = path.resolve(here, '..', AGENT_BUNDLE_FILE);

function entryPoint(): string | undefined {
  // From src/ (tests, tsx) and from dist/ in a checkout (the sources beside it).
  for (const c of [path.resolve(here, '../agent/main.ts'), path.resolve(here, '../../src/agent/main.ts')]) if (existsSync(c)) return c;
  return undefined;
}

async function bundleFrom(entry: string): Promise<string> {
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18',
    write: false,
    minify: false,
    legalComments: 'none',
    sourcemap: false,
    // Relative paths keep the output identical wherever the checkout lives.
    absWorkingDir: path.resolve(path.dirname(entry), '../..'),
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'silent',
  });
  const out = r.outputFiles[0];
  if (!out) throw new Error('esbuild produced no agent bundle');
  return `#!/usr/bin/env node\n${out.text}`;
}

let cached: Promise<string> | undefined;

/** Bundle src/agent/main.ts into one ESM file (deterministic for the same sources), or read the packed one. */
export function bundleAgent(): Promise<string> {
  const entry = entryPoint();
  if (entry) return (cached ??= bundleFrom(entry));
  if (existsSync(PREBUILT_BUNDLE)) return (cached ??= readFile(PREBUILT_BUNDLE, 'utf8'));
  return Promise.reject(
    new UserError(
      `sipbake's agent bundle is missing: neither src/agent/main.ts nor ${PREBUILT_BUNDLE} exists`,
      'reinstall sipbake from a tarball `npm pack` made (its prepack writes dist/agent-bundle.mjs), or run it from a checkout',
    ),
  );
}
