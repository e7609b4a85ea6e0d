import { build } from 'esbuild';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The on-instance agent runs under the image's Debian nodejs (18), from one self-contained file.
const here = path.dirname(fileURLToPath(import.meta.url));

function entryPoint(): string {
  // Works from src/ (tests, tsx) and from dist/ (the installed CLI), which ships no .ts sources.
  for (const c of [path.resolve(here, '../agent/main.ts'), path.resolve(here, '../../src/agent/main.ts')]) if (existsSync(c)) return c;
  throw new Error(`agent entry point not found near ${here}`);
}

let cached: Promise<string> | undefined;

/** Bundle src/agent/main.ts into one ESM file. Deterministic for the same sources. */
export function bundleAgent(): Promise<string> {
  cached ??= build({
    entryPoints: [entryPoint()],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18',
    write: false,
    minify: false,
    legalComments: 'none',
    sourcemap: false,
    // Relative paths keep the output identical wherever the checkout lives.
    absWorkingDir: path.resolve(path.dirname(entryPoint()), '../..'),
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'silent',
  }).then((r) => {
    const out = r.outputFiles[0];
    if (!out) throw new Error('esbuild produced no agent bundle');
    return `#!/usr/bin/env node\n${out.text}`;
  });
  return cached;
}
