// The installable CLI: `npm pack` from a clean copy of this checkout, the tarball installed into an empty
// directory (npm install, from npm's cache when it holds the dependencies), and the installed `sipbake` run in a
// directory that holds only images/: validate, render (the same tree as the checkout renders, agent bundle
// included, so both compute the same content hash), and the Packer template, once the scripts are copied as
// sipbake says. A few minutes under load: npm pack compiles dist/ (tsc) and bundles the agent.
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../bake/helpers.js';

const MINUTES = 60_000;
let tmp: string;
let tarball: string;
let entries: string[];
let sipbake: string;
let user: string;
let copy: string;

/** The checkout's files as git sees them (tracked and new, not ignored): no dist/, no .sipbake/, no caches. */
async function cleanCopy(to: string): Promise<void> {
  const ls = await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot });
  for (const f of String(ls.stdout).split('\0').filter(Boolean)) {
    if (f === 'node_modules' || f.startsWith('node_modules/')) continue;
    await mkdir(path.dirname(path.join(to, f)), { recursive: true });
    await cp(path.join(repoRoot, f), path.join(to, f), { verbatimSymlinks: true }).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // deleted in the work tree, still in the index
    });
  }
  await symlink(path.join(repoRoot, 'node_modules'), path.join(to, 'node_modules'));
}

async function files(dir: string, under = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, under), { withFileTypes: true })) {
    const rel = path.join(under, e.name);
    if (e.isDirectory()) out.push(...(await files(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

const run = (args: string[], cwd: string) => execa(sipbake, args, { cwd, reject: false, all: true, env: { ...process.env, NO_COLOR: '1' } });

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'sipbake-pack-'));
  copy = path.join(tmp, 'checkout');
  await cleanCopy(copy);
  const pack = await execa('npm', ['pack', '--pack-destination', tmp, '--json', '--loglevel=error'], {
    cwd: copy,
    timeout: 8 * MINUTES,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  // The lifecycle scripts print before npm's JSON.
  const out = String(pack.stdout);
  const doc = JSON.parse(out.slice(out.indexOf('\n[') + 1 || out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(tmp, doc[0]!.filename);
  entries = doc[0]!.files.map((f) => f.path);
  const app = path.join(tmp, 'app');
  await mkdir(app);
  await writeFile(path.join(app, 'package.json'), '{ "private": true }\n');
  // --prefer-offline: npm's cache when it has the dependencies (a machine that ran npm ci), the registry otherwise.
  await execa('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, timeout: 8 * MINUTES });
  sipbake = path.join(app, 'node_modules/.bin/sipbake');
  user = path.join(tmp, 'user');
  await mkdir(path.join(user, 'images'), { recursive: true });
  for (const f of ['twilio-relay.yaml', 'recorder-lb.yaml']) await cp(path.join(repoRoot, 'images', f), path.join(user, 'images', f));
}, 20 * MINUTES);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('the packed CLI, installed outside the repository', () => {
  it('the tarball holds the compiled CLI, the agent bundle, templates, scripts, share/ and the sample images, and no sources', () => {
    for (const f of [
      'bin/sipbake.js',
      'dist/cli/main.js',
      'dist/infra/index.js',
      'dist/infra/index.d.ts',
      'dist/agent-bundle.mjs',
      'templates/kamailio/kamailio.cfg.eta',
      'scripts/pins.env',
      'share/sipp/sipbake-uac.xml',
      'images/schema.json',
      'packer-plugins.pkr.hcl',
    ])
      expect(entries, f).toContain(f);
    expect(entries.filter((f) => /^(src|test|bench)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
  });

  it('validate: the images/ of the directory it runs in, not the samples', async () => {
    const r = await run(['validate'], user);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toContain('images/twilio-relay.yaml: ok');
    expect(r.all).toContain('images/recorder-lb.yaml: ok');
    expect(r.all).not.toContain('sample images');
  });

  it('render: byte for byte the tree the checkout renders (the packed agent bundle is the one built from src/agent)', async () => {
    for (const image of ['twilio-relay', 'recorder-lb']) {
      const mine = path.join(tmp, `tree-${image}`);
      const r = await run(['render', image, '--out', mine], user);
      expect(r.exitCode, r.all).toBe(0);
      const theirs = path.join(tmp, `checkout-tree-${image}`);
      const c = await execa('node', [path.join(copy, 'bin/sipbake.js'), 'render', image, '--root', user, '--out', theirs], { reject: false, all: true });
      expect(c.exitCode, c.all).toBe(0);
      const list = await files(mine);
      expect(
        list.some((f) => /agent/.test(f)),
        `${image}: an agent in ${list.join(' ')}`,
      ).toBe(true);
      expect(list).toEqual(await files(theirs));
      // Buffer.equals: the agent bundle is 5 MB, too big for a deep-equality diff.
      const differ: string[] = [];
      for (const f of list) if (!(await readFile(path.join(mine, f))).equals(await readFile(path.join(theirs, f)))) differ.push(f);
      expect(differ, image).toEqual([]);
    }
  });

  it('packer: says how to get the scripts, then writes the template the checkout has', async () => {
    const refused = await run(['packer'], user);
    expect(refused.exitCode, refused.all).toBe(1);
    const cpLine = /cp -r (\S+\/scripts) (\S+\/scripts)/.exec(refused.all ?? '');
    expect(cpLine, refused.all).not.toBeNull();
    expect(cpLine![2]).toBe(path.join(user, 'scripts'));
    await execa('cp', ['-r', cpLine![1]!, cpLine![2]!]);
    const r = await run(['packer'], user);
    expect(r.exitCode, r.all).toBe(0);
    for (const f of ['packer.pkr.hcl', 'packer-plugins.pkr.hcl'])
      expect(await readFile(path.join(user, f), 'utf8'), f).toBe(await readFile(path.join(repoRoot, f), 'utf8'));
  });
});
