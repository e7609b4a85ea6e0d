// Ctrl-C during start-up (issue 23): at 0.2 s, 1 s and 3 s after launch, and once the command's children are up,
// every long-running command exits 130 and leaves nothing behind: no sipbake-* temporary directory, no process
// started from one. The terminal's Ctrl-C reaches the whole foreground group, so esbuild's service, Kamailio and
// SIPp die of the same signal; their failures must not be reported as the cause ("internal error: The service
// was stopped", "kamailio rejected the rendered config"). The press times are when to press, not assertions.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFixture, type BuildFixture } from '../bake/build-support.js';
import { repoRoot } from '../bake/helpers.js';
import { processesUnder, underPty, until, type PtyRun } from './pty.js';

let fx: BuildFixture | undefined;
let tmp: string | undefined;
afterEach(async () => {
  await fx?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
  fx = undefined;
  tmp = undefined;
});

const harness = path.join(repoRoot, 'test/cli/pty-main.ts');

const leftovers = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((d) => d.startsWith('sipbake-'));

type Press = number | 'children';

interface Case {
  name: string;
  args: (root: string) => string[];
  /** Needs the build fixture (its fake Packer and AWS). */
  build?: boolean;
  /** May end by itself before a timed press on an idle machine (then only its clean end is checked). */
  mayFinish?: boolean;
}

const cases: Case[] = [
  { name: 'try', args: () => ['try', 'twilio-relay'] },
  // Kamailio behind a wrapper in TMPDIR that waits 2 s first: its start-up is then long enough to be seen and
  // interrupted (the check of both seeds can end within a second on an idle machine).
  { name: 'check --start', args: () => ['check', '--start', '--kamailio', path.join(tmp ?? '', 'slow-kamailio')], mayFinish: true },
  { name: 'build', args: (root) => ['build', 'twilio-relay', '--root', root], build: true },
];

async function interruptAt(c: Case, press: Press): Promise<{ run: PtyRun; code: number | null; pressed: boolean }> {
  tmp = await mkdtemp(path.join(tmpdir(), 'sipbake-int-'));
  let env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: 'FAKE', AWS_SECRET_ACCESS_KEY: 'FAKE' };
  if (c.build) {
    fx = await buildFixture({ regions: ['us-east-1'] });
    env = { ...fx.env('hang'), AWS_ACCESS_KEY_ID: 'FAKE', AWS_SECRET_ACCESS_KEY: 'FAKE' };
  }
  env = { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', TMPDIR: tmp, TERM: 'xterm-256color' };
  await writeFile(path.join(tmp, 'slow-kamailio'), '#!/bin/sh\nsleep 2\nexec kamailio "$@"\n', { mode: 0o755 });
  delete env.CI; // a person's terminal
  const run = underPty(['node', '--import', 'tsx', harness, ...c.args(fx?.root ?? repoRoot)], { cwd: repoRoot, env, killAfterMs: 90_000 });
  let done = false;
  void run.exited.then(() => (done = true));
  const dir = tmp;
  // build's fake Packer runs from the fixture, not TMPDIR: its logged build call is the event there.
  const childrenUp = async (): Promise<boolean> => (fx ? (await fx.calls()).length >= 2 : (await processesUnder(dir)).length > 0);
  if (press === 'children') await until(childrenUp, run, 60_000);
  else await new Promise((r) => setTimeout(r, press * 1000));
  const pressed = !done;
  run.press('\x03');
  return { run, code: await run.exited, pressed };
}

describe('Ctrl-C during start-up, under a pseudo-terminal', () => {
  for (const c of cases)
    for (const press of [0.2, 1, 3, 'children'] as const)
      it(`${c.name}: Ctrl-C at ${press === 'children' ? 'the moment its first child process runs' : `${press} s`} gives 130 and leaves nothing behind`, async () => {
        const { run, code, pressed } = await interruptAt(c, press);
        const out = run.output();
        // try runs until Ctrl-C and build's Packer hangs: neither ends before the press. check --start may.
        if (!c.mayFinish || press === 'children') expect(pressed, `exited before the press:\n${out.slice(-2000)}`).toBe(true);
        expect(code, out.slice(-2000)).toBe(pressed ? 130 : 0);
        expect(out).not.toMatch(/internal error|rejected the rendered config/);
        const dir = tmp ?? '';
        expect(await leftovers(dir), out.slice(-2000)).toEqual([]);
        expect(await processesUnder(dir)).toEqual([]);
        if (fx) expect(await processesUnder(fx.root)).toEqual([]);
      }, 120_000);
});
