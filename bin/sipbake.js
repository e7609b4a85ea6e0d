#!/usr/bin/env node
// Runs the compiled CLI; `npm ci` builds dist/ through the prepare script.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const dist = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(dist)) {
  console.error('sipbake: dist/ is missing. Run `npm ci` (or `npm run build`) in the sipbake checkout first.');
  process.exit(2);
}
// The lockfile pins an SDK that supports this Node; its notice about future releases is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import(dist);
process.exitCode = await main(process.argv.slice(2));
