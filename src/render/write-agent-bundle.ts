// npm pack (prepack): writes dist/agent-bundle.mjs from src/agent, for the packed CLI, which ships no sources
// (src/render/bundle.ts reads it there when src/agent/main.ts is absent).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AGENT_BUNDLE_FILE, bundleAgent } from './bundle.js';

const dist = path.resolve(import.meta.dirname, '../../dist');
await mkdir(dist, { recursive: true });
await writeFile(path.join(dist, AGENT_BUNDLE_FILE), await bundleAgent(), { mode: 0o644 });
console.log(`wrote dist/${AGENT_BUNDLE_FILE}`);
