// The layering of docs/design.md is enforced by eslint (eslint.config.js): this shows the rules fire on the
// crossings they forbid, and stay quiet on the allowed direction, so a change that weakens them fails here.
import { ESLint } from 'eslint';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
// The planted files exist only here, not on disk, so the type-checked rules reach them through the project
// service's default project (with tsconfig.json's options) instead of the tsconfig's file list.
const eslint = new ESLint({
  cwd: root,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['src/*/zz-*.ts'], defaultProject: 'tsconfig.json' } } },
  },
});

async function ruleIds(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (r?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('layering rules (npm run lint)', () => {
  // The first lint loads the TypeScript program and every plugin: minutes on a loaded machine, paid once here.
  beforeAll(() => ruleIds('src/core/zz-warm.ts', 'export const x = 1;\n'), 300_000);

  const zone = 'import-x/no-restricted-paths';
  // One planted import per zone: [the file that imports, what it imports].
  const refused: [string, string, string][] = [
    ['a feature imports the cli', 'src/roll/zz-layering.ts', '../cli/main.js'],
    ['render imports the agent', 'src/render/zz-layering.ts', '../agent/boot.js'],
    ['the agent imports render', 'src/agent/zz-layering.ts', '../render/plan.js'],
    ['core imports the definition', 'src/core/zz-layering.ts', '../definition/schema.js'],
    ['the agent imports the roll', 'src/agent/zz-layering.ts', '../roll/run.js'],
    ['the agent imports the AWS clients', 'src/agent/zz-layering.ts', '../aws/clients.js'],
    ['the agent imports the bake', 'src/agent/zz-layering.ts', '../bake/index.js'],
    ["the agent imports the definition's loader", 'src/agent/zz-layering.ts', '../definition/load.js'],
    ["the contract imports the definition's loader", 'src/contract/zz-layering.ts', '../definition/load.js'],
    ['the contract imports render', 'src/contract/zz-layering.ts', '../render/plan.js'],
    ['src imports a test fake', 'src/roll/zz-layering.ts', '../../test/fakes/aws/index.js'],
  ];
  it.each(refused)(
    'refuses: %s',
    async (_, file, from) => {
      expect(await ruleIds(file, `import * as m from '${from}';\nexport const x = m;\n`)).toContain(zone);
    },
    120_000,
  );

  const allowed: [string, string, string][] = [
    ['the cli imports a feature', 'src/cli/zz-layering.ts', '../roll/run.js'],
    ['the contract imports core', 'src/contract/zz-layering.ts', '../core/errors.js'],
    ["the contract imports the definition's schema", 'src/contract/zz-layering.ts', '../definition/schema.js'],
    ['the agent imports the contract', 'src/agent/zz-layering.ts', '../contract/boot-include.js'],
    ['the agent imports core', 'src/agent/zz-layering.ts', '../core/errors.js'],
    ["the agent imports the definition's drain schema", 'src/agent/zz-layering.ts', '../definition/drain-schema.js'],
  ];
  it.each(allowed)(
    'allows: %s',
    async (_, file, from) => {
      expect(await ruleIds(file, `import * as m from '${from}';\nexport const x = m;\n`)).not.toContain(zone);
    },
    120_000,
  );

  it('refuses a promise nobody awaits, and an async callback where a void one is expected', async () => {
    expect(await ruleIds('src/roll/zz-async.ts', 'export function f(p: () => Promise<void>): void {\n  p();\n}\n')).toContain(
      '@typescript-eslint/no-floating-promises',
    );
    const listener =
      "import { EventEmitter } from 'node:events';\nexport function g(e: EventEmitter, h: () => Promise<void>): void {\n  e.on('x', async () => {\n    await h();\n  });\n}\n";
    expect(await ruleIds('src/roll/zz-async.ts', listener)).toContain('@typescript-eslint/no-misused-promises');
    expect(await ruleIds('src/roll/zz-async.ts', 'export async function f(p: () => Promise<void>): Promise<void> {\n  await p();\n}\n')).toEqual([]);
  }, 60_000);

  it('refuses a non-null assertion in src/', async () => {
    expect(await ruleIds('src/roll/zz-layering.ts', 'export const f = (a: string[]): string => a[0]!;\n')).toContain(
      '@typescript-eslint/no-non-null-assertion',
    );
  }, 60_000);
});
