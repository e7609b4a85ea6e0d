// `sipbake COMMAND --help` and Tab completion load the command's module (its builder), never the AWS SDK or the
// CDK: those load inside `run`. Checked on the static import graph (esbuild's metafile), not on a timing; the
// timings are in bench/cli.json.
import { build } from 'esbuild';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandIndex } from '../../src/cli/commands/index.js';

const root = path.resolve(import.meta.dirname, '../..');
const HEAVY = /^(@aws-sdk\/|aws-cdk-lib|@smithy\/|proxy-agent)/;

/** Heavy packages reachable from `entry` through static imports only (dynamic import() is where they belong). */
async function staticHeavyImports(entry: string): Promise<string[]> {
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outdir: 'unused',
    packages: 'external',
  });
  const inputs = r.metafile.inputs;
  const start = path.relative(process.cwd(), entry);
  const seen = new Set([start]);
  const todo = [start];
  const heavy = new Set<string>();
  for (let cur = todo.pop(); cur !== undefined; cur = todo.pop())
    for (const imp of inputs[cur]?.imports ?? []) {
      if (imp.kind !== 'import-statement') continue;
      if (HEAVY.test(imp.path)) heavy.add(`${imp.path} (from ${cur})`);
      else if (!imp.external && !seen.has(imp.path)) {
        seen.add(imp.path);
        todo.push(imp.path);
      }
    }
  return [...heavy];
}

// Every command, none excepted (NOT_YET was roll, rollback and build until issue 23's second round).
const NOT_YET = new Set<string>([]);

describe('--help and completion load no SDK', () => {
  it('main.ts', async () => {
    expect(await staticHeavyImports(path.join(root, 'src/cli/main.ts'))).toEqual([]);
  });
  it.each(commandIndex.map((c) => c.name).filter((n) => !NOT_YET.has(n)))('%s', async (name) => {
    expect(await staticHeavyImports(path.join(root, `src/cli/commands/${name}.ts`))).toEqual([]);
  });
});
