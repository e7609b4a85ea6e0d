import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadImageOrThrow } from '../../src/definition/load.js';
import { planImage } from '../../src/render/index.js';
import { KAMAILIO_CFG_PATH } from '../../src/render/plan.js';
import { repoRoot } from './fixtures.js';

// The AMI compiles Kamailio 5.5; Debian here has 5.6. These exist only in 5.6 or later.
const newerThan55: [RegExp, string][] = [
  [/^#!defenvs?\b/m, '#!defenv/#!defenvs (5.6+)'],
  [/^#!ifexp\b/m, '#!ifexp (5.6+)'],
  [/^listen=.*\bvirtual\b/m, 'listen … virtual (5.6+)'],
  [/\bds_is_active\s*\(/, 'ds_is_active() (5.6+)'],
  [/\bds_list_file\b/, 'ds_list_file: the 5.x parameter is list_file'],
  [/^mpath=/m, 'mpath: each kamailio binary must use its own compiled-in module path'],
];

async function renderedCfg(name: string): Promise<{ cfg: string; modules: string[] }> {
  const { image } = await loadImageOrThrow(repoRoot, name);
  const plan = await planImage(repoRoot, image);
  return { cfg: plan.files.find((f) => f.path === KAMAILIO_CFG_PATH)!.content, modules: plan.modules };
}

describe.each(['twilio-relay', 'recorder-lb'])('%s stays within Kamailio 5.5', (name) => {
  it.each(newerThan55)('does not use %s', async (re) => {
    const { cfg } = await renderedCfg(name);
    expect(cfg).not.toMatch(re);
  });
});

describe('docs/image.md', () => {
  it('lists the modules each image loads, as rendered', async () => {
    const readme = await readFile(path.join(repoRoot, 'docs/image.md'), 'utf8');
    for (const name of ['twilio-relay', 'recorder-lb']) {
      const { modules } = await renderedCfg(name);
      expect(readme, `docs/image.md's module list for ${name} is stale; update it from \`sipbake render ${name} --json\``).toContain(
        `| \`${name}\` | ${modules.join(' ')} |`,
      );
    }
  });
});
