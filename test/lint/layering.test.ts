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

  it('refuses an import of src/cli from a feature, of the agent from render and back, and of anything of ours in src/core', async () => {
    expect(await ruleIds('src/roll/zz-layering.ts', "import { main } from '../cli/main.js';\nexport const x = main;\n")).toContain(
      'import-x/no-restricted-paths',
    );
    expect(await ruleIds('src/render/zz-layering.ts', "import { runBoot } from '../agent/boot.js';\nexport const x = runBoot;\n")).toContain(
      'import-x/no-restricted-paths',
    );
    expect(await ruleIds('src/agent/zz-layering.ts', "import { planRender } from '../render/plan.js';\nexport const x = planRender;\n")).toContain(
      'import-x/no-restricted-paths',
    );
    expect(await ruleIds('src/core/zz-layering.ts', "import { imageSchema } from '../definition/schema.js';\nexport const x = imageSchema;\n")).toContain(
      'import-x/no-restricted-paths',
    );
  }, 60_000);

  it('allows the cli to import the features, and the contract to import core', async () => {
    expect(await ruleIds('src/cli/zz-layering.ts', "import { runRoll } from '../roll/run.js';\nexport const x = runRoll;\n")).not.toContain(
      'import-x/no-restricted-paths',
    );
    expect(await ruleIds('src/contract/zz-layering.ts', "import { UserError } from '../core/errors.js';\nexport const x = UserError;\n")).not.toContain(
      'import-x/no-restricted-paths',
    );
  }, 60_000);

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
