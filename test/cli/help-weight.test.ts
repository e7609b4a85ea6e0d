// `sipbake COMMAND --help` and Tab completion load the command's module (its builder), never the AWS SDK or the
// CDK: those load inside `run`. Checked on the static import graph (esbuild's metafile), not on a timing; the
// timings are in bench/cli.json.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
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

// The figures live in bench/cli.json (npm run bench:cli), never in a timed test: this only checks that the file
// covers every command's --help, each with its ratio over `node -e 0` and the load beside it.
describe('bench/cli.json', () => {
  it('has every command of the index, each with a ratio, and records the slowest', async () => {
    const bench = JSON.parse(await readFile(path.join(root, 'bench/cli.json'), 'utf8')) as Record<string, { ratio?: number; loadavg?: string; case?: string }>;
    for (const c of commandIndex) {
      const e = bench[`help:${c.name}`];
      expect(e, `help:${c.name} (run npm run build && npm run bench:cli)`).toMatchObject({ ratio: expect.any(Number), loadavg: expect.any(String) });
    }
    expect(bench.slowestHelp).toMatchObject({ case: expect.stringMatching(/^help/), ratio: expect.any(Number) });
  });
});
