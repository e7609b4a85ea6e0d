// Ctrl-C during `sipbake rehearse`'s start-up, under a pseudo-terminal (issue 23, as test/cli/interrupt-startup.pty.test.ts
// does for try, check --start and build): at 0.2 s, 1 s and 3 s after launch, and once its first process runs in
// its work directory, it exits 130 and leaves nothing behind: no network namespace, no process started from its
// work directory, no sipbake-* directory. As root (namespaces, nftables); a live suite: run it under the heavy lock.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../bake/helpers.js';
import { processesUnder, underPty, until } from './pty.js';

const have = (bin: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`]);
    return true;
  } catch {
    return false;
  }
};
const canRun = process.getuid?.() === 0 && ['ip', 'nft', 'conntrack', 'kamailio', 'sipp', 'script'].every(have);
const harness = path.join(repoRoot, 'test/cli/pty-main.ts');

let tmp: string | undefined;
afterEach(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
  tmp = undefined;
});

beforeAll(() => {
  if (canRun && !existsSync(path.join(repoRoot, 'dist/rehearse/ns-helper.js'))) execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'ignore' });
});

/** The rehearsal's namespaces are sbr<PID><tag>-…: those that exist now. */
const namespaces = (): string[] =>
  execFileSync('ip', ['netns', 'list'])
    .toString()
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => /^sbr\d/.test(n));

describe.skipIf(!canRun)('rehearse: Ctrl-C during start-up, under a pseudo-terminal', () => {
  for (const press of [0.2, 1, 3, 'children'] as const)
    it(`Ctrl-C at ${press === 'children' ? 'the moment its first process runs' : `${press} s`} gives 130 and leaves no namespace, process or directory`, async () => {
      tmp = await mkdtemp(path.join(tmpdir(), 'sipbake-intr-'));
      const before = new Set(namespaces());
      const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, TERM: 'xterm-256color', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
      delete env.CI; // a person's terminal
      const args = ['rehearse', 'twilio-relay', '--instances', '1', '--calls', '2', '--trunk=false'];
      const run = underPty(['node', '--import', 'tsx', harness, ...args], { cwd: repoRoot, env, killAfterMs: 120_000 });
      let done = false;
      void run.exited.then(() => (done = true));
      const dir = tmp;
      if (press === 'children') await until(async () => (await processesUnder(dir)).length > 0, run, 90_000);
      else await new Promise((r) => setTimeout(r, press * 1000));
      const pressed = !done;
      run.press('\x03');
      const code = await run.exited;
      const out = run.output();
      expect(pressed, `exited before the press:\n${out.slice(-2000)}`).toBe(true);
      expect(code, out.slice(-2000)).toBe(130);
      expect(out).not.toMatch(/internal error/);
      expect(
        namespaces().filter((n) => !before.has(n)),
        out.slice(-2000),
      ).toEqual([]);
      expect(await processesUnder(dir)).toEqual([]);
      expect((await readdir(dir)).filter((d) => d.startsWith('sipbake-'))).toEqual([]);
    }, 150_000);
});
