// The README's Layout table is generated from the tree (`npm run docs:layout`): it fails here when a src/ folder
// appears or goes without its one-line purpose following, or when the README was not regenerated.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAYOUT_BEGIN, LAYOUT_END, layoutTable, srcFolders, withLayout } from '../../src/core/layout-doc.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('README Layout', () => {
  it('matches the tree (run `npm run docs:layout` and commit when this fails)', async () => {
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    expect(withLayout(readme, layoutTable(srcFolders(root))) === readme, 'README.md Layout is stale: run `npm run docs:layout`').toBe(true);
    for (const f of srcFolders(root)) expect(readme).toContain(`| \`src/${f}/\` |`);
  });
  it('a new src/ folder without a purpose, or a purpose for a folder gone, is named', () => {
    const folders = srcFolders(root);
    expect(() => layoutTable([...folders, 'newthing'])).toThrow(/src\/newthing has no one-line purpose: add it to SRC_PURPOSES in src\/core\/layout-doc\.ts/);
    expect(() => layoutTable(folders.filter((f) => f !== 'roll'))).toThrow(/names src\/roll, which no longer exists/);
  });
  it('the README stays short, with its contents and the first commands first', async () => {
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThan(400);
    expect(readme).toContain('## Contents');
    expect(readme.indexOf(LAYOUT_BEGIN)).toBeLessThan(readme.indexOf(LAYOUT_END));
    // The first code block is what CI runs: setup + the main job, then the tests.
    const first = /```bash\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(first).toMatch(/^sudo bash \.ci\/setup && sudo npx sipbake rehearse twilio-relay/);
    expect(first).toMatch(/\nsudo npm test\s/);
    // Then the three lines to a first real roll, pointing to the getting-started page.
    const second = readme.slice(readme.indexOf(first) + first.length);
    expect(/```bash\n((?:npx sipbake .*\n){3})```/.exec(second)?.[1]).toMatch(/infra[\s\S]*build[\s\S]*roll/);
    expect(readme.slice(0, readme.indexOf('## Contents'))).toContain('docs/getting-started.md');
  });
  it('the second section (without an AWS account) shows the local bake and the rehearsal of booted images', async () => {
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    const contents = readme.slice(readme.indexOf('## Contents')).split('\n## ')[0] ?? '';
    expect(/^2\. \[([^\]]+)\]/m.exec(contents)?.[1]).toBe('Without an AWS account');
    const section = readme.slice(readme.indexOf('\n## Without an AWS account')).split('\n## ')[1] ?? '';
    const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    expect(block).toMatch(/sipbake build twilio-relay --local\s/);
    expect(block).toMatch(/sipbake rehearse twilio-relay --baked\s/);
  });
});
