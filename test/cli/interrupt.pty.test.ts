// Ctrl-C in a real terminal (test/cli/pty.ts). Under a TTY, listr2's renderer hides the cursor through restore-cursor → signal-exit, which used to re-raise the
// signal and kill the process before any clean-up (issue 15 item 2).
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFixture, type BuildFixture } from '../bake/build-support.js';
import { repoRoot } from '../bake/helpers.js';
import { underPty, until, type PtyRun } from './pty.js';

let fx: BuildFixture | undefined;
let tmp: string | undefined;
afterEach(async () => {
  await fx?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
  fx = undefined;
  tmp = undefined;
});

const harness = path.join(repoRoot, 'test/cli/pty-main.ts');
const cli = (args: string[], env: NodeJS.ProcessEnv): PtyRun => underPty(['node', '--import', 'tsx', harness, ...args], { cwd: repoRoot, env });

describe('Ctrl-C under a pseudo-terminal', () => {
  it('build: Packer gets one SIGINT and cleans up, the work directory is removed, and the user is told what is left in AWS', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    tmp = await mkdtemp(path.join(tmpdir(), 'sipbake-pty-'));
    const sigints = path.join(fx.root, 'sigints');
    const env: NodeJS.ProcessEnv = {
      ...fx.env('hang'),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      TMPDIR: tmp,
      TERM: 'xterm-256color',
      AWS_ACCESS_KEY_ID: 'FAKE',
      AWS_SECRET_ACCESS_KEY: 'FAKE',
      FAKE_PACKER_SIGINTS: sigints,
    };
    delete env.CI; // a person's terminal: listr2's default renderer, the one that hides the cursor
    const run = cli(['build', 'twilio-relay', '--root', fx.root], env);
    // Press Ctrl-C once Packer is building (its build call is logged and it has printed its first stages).
    await until(async () => (await fx!.calls()).length >= 2 && /Instance ID|running 20-kamailio|packer build/.test(run.output()), run);
    expect((await readdir(tmp)).filter((d) => d.startsWith('sipbake-bake-'))).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    run.press('\x03');
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(130);
    expect(out).toContain('Ctrl-C: stopping and cleaning up');
    expect(existsSync(fx.cleaned), 'packer ran its clean-up').toBe(true);
    // Packer is in its own process group: the terminal's SIGINT does not reach it, only sipbake's one.
    expect((await readFile(sigints, 'utf8')).trim().split('\n')).toEqual(['SIGINT']);
    expect(out).toMatch(/Packer cleaned up in AWS: terminated i-0123456789abcdef0, deleted its security group, deleted its key pair/);
    expect(out).toContain('Nothing was left in AWS.');
    expect(out).toMatch(/Packer's log: .*\.sipbake\/twilio-relay\/packer\.log/);
    expect((await readdir(tmp)).filter((d) => d.startsWith('sipbake-'))).toEqual([]);
    expect(await readFile(path.join(fx.root, '.sipbake/twilio-relay/packer.log'), 'utf8')).toContain('Terminating the source AWS instance');
  }, 90_000);

  it('build: a second Ctrl-C quits at once and names what Packer had created, with the commands to delete it', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    tmp = await mkdtemp(path.join(tmpdir(), 'sipbake-pty-'));
    const env: NodeJS.ProcessEnv = {
      ...fx.env('stubborn'),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      TMPDIR: tmp,
      TERM: 'xterm-256color',
      AWS_ACCESS_KEY_ID: 'FAKE',
      AWS_SECRET_ACCESS_KEY: 'FAKE',
    };
    delete env.CI;
    const run = cli(['build', 'twilio-relay', '--root', fx.root], env);
    await until(async () => (await fx!.calls()).length >= 2 && /Instance ID|running 20-kamailio|packer build/.test(run.output()), run);
    await new Promise((r) => setTimeout(r, 300));
    run.press('\x03');
    await until(() => run.output().includes('ignoring the interrupt'), run);
    expect(run.output()).toContain('interrupted, Packer is cleaning up');
    run.press('\x03');
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(130);
    expect(out, out.slice(-2500)).toContain('quitting without waiting for the clean-up');
    expect(out).toMatch(/build instance i-0123456789abcdef0: aws ec2 terminate-instances --instance-ids i-0123456789abcdef0 --region us-east-1/);
    expect(out).toMatch(/security group sg-0123456789abcdef0: aws ec2 delete-security-group/);
    expect(out).toMatch(/key pair packer_6560a1b2-fake: aws ec2 delete-key-pair/);
    // The stubborn fake outlives sipbake by design (a real Packer would still be cleaning up); stop it here.
    const build = (await fx.calls())[1] as unknown as { pid: number };
    try {
      process.kill(build.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    expect((await readdir(tmp)).filter((d) => d.startsWith('sipbake-'))).toEqual([]);
  }, 90_000);

  it('off a terminal (pipes, --json), SIGTERM as a CI cancel sends it takes the same path: one JSON document with the recovery lines', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    tmp = await mkdtemp(path.join(tmpdir(), 'sipbake-pipe-'));
    const env: NodeJS.ProcessEnv = {
      ...fx.env('hang'),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      TMPDIR: tmp,
      AWS_ACCESS_KEY_ID: 'FAKE',
      AWS_SECRET_ACCESS_KEY: 'FAKE',
      CI: 'true',
    };
    const child = spawn('node', ['--import', 'tsx', harness, 'build', 'twilio-relay', '--json', '--root', fx.root], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const end = Date.now() + 30_000;
    while (!stderr.includes('Instance ID') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(130);
    const doc = JSON.parse(stdout) as { ok: boolean; error: string; recovery: string[] };
    expect(doc).toMatchObject({ ok: false, error: 'aborted' });
    expect(doc.recovery).toContain('Nothing was left in AWS.');
    expect(doc.recovery.join('\n')).toMatch(/Packer cleaned up in AWS: terminated i-0123456789abcdef0/);
    expect(existsSync(fx.cleaned)).toBe(true);
    expect((await readdir(tmp)).filter((d) => d.startsWith('sipbake-'))).toEqual([]);
  }, 90_000);
});
