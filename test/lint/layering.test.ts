// The layering of docs/design.md is enforced by eslint (eslint.config.js): this shows the rules fire on the
// crossings they forbid, and stay quiet on the allowed direction, so a change that weakens them fails here.
import { ESLint } from 'eslint';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function ruleIds(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (r?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('layering rules (npm run lint)', () => {
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

  it('refuses a non-null assertion in src/', async () => {
    expect(await ruleIds('src/roll/zz-layering.ts', 'export const f = (a: string[]): string => a[0]!;\n')).toContain(
      '@typescript-eslint/no-non-null-assertion',
    );
  }, 60_000);
});
