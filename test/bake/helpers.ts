// Shared set-up for the bake script tests: a local root, pins files, and tiny stand-in sources.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const scriptsDir = path.join(repoRoot, 'scripts');

export async function sha256File(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

export interface Pin {
  source: 'git' | 'tarball';
  url: string;
  tag?: string;
  commit?: string;
  sha256?: string;
  version?: string;
}

export function pinsFile(pins: Record<string, Pin>): string {
  const lines = ['# test pins'];
  for (const [name, p] of Object.entries(pins)) {
    lines.push(`${name}_VERSION=${p.version ?? '0.0.0'}`, `${name}_SOURCE=${p.source}`);
    if (p.source === 'git') lines.push(`${name}_GIT_URL=${p.url}`, `${name}_GIT_TAG=${p.tag ?? ''}`, `${name}_GIT_COMMIT=${p.commit ?? ''}`);
    else lines.push(`${name}_TARBALL_URL=${p.url}`, `${name}_TARBALL_SHA256=${p.sha256 ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A minimal rendered tree: the manifest and units the scripts read. */
export async function writeTree(tree: string, manifest: Record<string, unknown>): Promise<void> {
  await mkdir(path.join(tree, 'etc/sipbake'), { recursive: true });
  await mkdir(path.join(tree, 'etc/systemd/system'), { recursive: true });
  await writeFile(path.join(tree, 'etc/sipbake/image.json'), JSON.stringify(manifest));
  for (const u of ['kamailio', 'rtpproxy']) {
    await writeFile(
      path.join(tree, `etc/systemd/system/${u}.service`),
      `[Unit]\nDescription=${u}\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n`,
    );
  }
  await writeFile(path.join(tree, 'etc/sipbake/rtpproxy.env'), 'RTPPROXY_OPTS="-s udp:127.0.0.1:7722"\n');
}

/** A small autotools-shaped project (configure + Makefile) standing in for RTPProxy's source. */
export async function writeStandInProject(dir: string, name = 'rtpproxy'): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'configure'),
    `#!/bin/sh\n# stand-in configure: accepts --prefix like autoconf's\nprefix=/usr/local\nfor a in "$@"; do case "$a" in --prefix=*) prefix="\${a#--prefix=}";; esac; done\nprintf 'PREFIX=%s\\n' "$prefix" > config.mk\necho "configured for $prefix"\n`,
  );
  await chmod(path.join(dir, 'configure'), 0o755);
  await writeFile(
    path.join(dir, 'Makefile'),
    `include config.mk\nall: ${name}\n${name}: main.c\n\tcc -o $@ main.c\ninstall: ${name}\n\tinstall -D -m 0755 ${name} $(PREFIX)/bin/${name}\n`,
  );
  await writeFile(path.join(dir, 'main.c'), `#include <stdio.h>\nint main(void) { puts("${name} stand-in"); return 0; }\n`);
}

/** Tarball of `dir` with one top-level directory, as upstream release tarballs have. */
export async function tarball(dir: string, out: string): Promise<string> {
  await execa('tar', ['-czf', out, '-C', path.dirname(dir), path.basename(dir)]);
  return sha256File(out);
}

/** A git repository of `dir` with one commit and `tag`; returns the commit. */
export async function gitRepo(dir: string, tag: string): Promise<string> {
  const git = (...a: string[]) => execa('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...a], { cwd: dir });
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'import');
  await git('tag', '-a', tag, '-m', tag);
  return (await git('rev-parse', 'HEAD')).stdout.trim();
}

export interface RunResult {
  exitCode: number;
  output: string;
}

export async function runScript(name: string, env: Record<string, string>): Promise<RunResult> {
  const r = await execa('bash', [path.join(scriptsDir, name)], {
    env: { ...process.env, ...env },
    reject: false,
    all: true,
  });
  return { exitCode: r.exitCode ?? -1, output: r.all ?? '' };
}
