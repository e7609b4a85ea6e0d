import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { seed, tempRoot, variant } from './fixtures.js';
// esbuild remembers the working directory it was first imported in and spawns its service there; these
// tests chdir into directories they delete, so load it (lazily loaded by the CLI) from here first.
import 'esbuild';

// `render --out` replaces the directory whole, so it must refuse anything that is not a new
// directory, an empty one, or an earlier sipbake tree, and say so with exit 1 (never 70).

const cleanups: (() => Promise<void>)[] = [];
const startDir = process.cwd();
afterEach(async () => {
  process.chdir(startDir);
  for (const c of cleanups.splice(0)) await c();
});

async function repo() {
  const r = await tempRoot({ relay: variant(await seed('twilio-relay'), { name: 'relay' }) });
  cleanups.push(r.cleanup);
  // The user's own files, which must survive every refusal.
  await writeFile(path.join(r.root, 'notes.txt'), 'mine\n');
  return r.root;
}

async function render(root: string, out: string): Promise<{ code: number; text: string }> {
  const reporter = new RecordingReporter();
  const code = await main(['render', 'relay', '--out', out, '--root', root], { reporter, env: {} });
  return { code, text: reporter.text() };
}

async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe('render --out safety', () => {
  it.each([
    ['an empty --out', '', /--out is empty/],
    ['--out .', '.', /is the current directory/],
    ['--out ..', '..', /holds the current directory/],
  ])('refuses %s with exit 1, and the current directory survives', async (_t, out, says) => {
    const root = await repo();
    process.chdir(path.join(root, 'images'));
    const before = await listing(root);
    const r = await render(root, out);
    expect(r.code).toBe(1);
    expect(r.text).toMatch(says);
    expect(await listing(root)).toEqual(before);
    expect(await readFile(path.join(root, 'notes.txt'), 'utf8')).toBe('mine\n');
  });

  it('refuses a directory holding other files, and keeps them', async () => {
    const root = await repo();
    const out = path.join(root, 'mine');
    await mkdir(out);
    await writeFile(path.join(out, 'thesis.tex'), 'x');
    const r = await render(root, out);
    expect(r.code).toBe(1);
    expect(r.text).toContain('holds files that are not a sipbake tree (thesis.tex; no etc/sipbake/image.json)');
    expect(await readdir(out)).toEqual(['thesis.tex']);
    // The repository itself (images/, templates/) is such a directory.
    expect((await render(root, root)).code).toBe(1);
    expect(existsSync(path.join(root, 'images', 'relay.yaml'))).toBe(true);
  });

  it('accepts a new directory, an empty one, and replaces an earlier tree', async () => {
    const root = await repo();
    const out = path.join(root, 'build', 'relay');
    expect((await render(root, out)).code).toBe(0);
    expect(existsSync(path.join(out, 'etc/sipbake/image.json'))).toBe(true);
    expect((await render(root, out)).code).toBe(0); // an earlier tree
    const empty = path.join(root, 'empty');
    await mkdir(empty);
    expect((await render(root, empty)).code).toBe(0);
  });

  it('refuses a regular file as --out, or in its path, with exit 1 and the path', async () => {
    const root = await repo();
    const file = path.join(root, 'notes.txt');
    const asOut = await render(root, file);
    expect(asOut.code).toBe(1);
    expect(asOut.text).toContain('is a file, not a directory');
    const under = await render(root, path.join(file, 'tree'));
    expect(under.code).toBe(1);
    expect(under.text).toContain(`cannot write --out ${path.join(file, 'tree')}`);
    expect(under.text).toContain('regular file');
    expect(await readFile(file, 'utf8')).toBe('mine\n');
  });

  it('refuses a read-only parent with exit 1 and the path', async () => {
    const root = await repo();
    const ro = path.join(root, 'ro');
    await mkdir(ro);
    let mounted = false;
    if (process.getuid?.() === 0) {
      // root ignores mode bits; a read-only mount is read-only for root too.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]);
      mounted = true;
    } else {
      await chmod(ro, 0o555);
    }
    try {
      const r = await render(root, path.join(ro, 'tree'));
      expect(r.code).toBe(1);
      expect(r.text).toMatch(new RegExp(`cannot write --out ${ro}/tree: ${ro}: (read-only file system|permission denied)`));
    } finally {
      if (mounted) execFileSync('umount', [ro]);
      else await chmod(ro, 0o755);
    }
  });
});
