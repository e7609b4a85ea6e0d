// `sipbake try`: the image comes up on 127.0.20.x with its fake peers, a call placed to the printed
// address completes, and on stop every process is gone and the temp dir removed.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordingReporter } from '../../src/core/reporter.js';
import { main } from '../../src/cli/main.js';
import { runTry, type TryResult } from '../../src/try/run.js';
import { freePort, makeTmpDir, REPO_ROOT, runCalls, type TmpDir } from '../support/index.js';
import { underPty, until } from '../cli/pty.js';

const CALLER = '127.0.20.20';

describe('sipbake try', () => {
  const dirs: TmpDir[] = [];
  afterAll(async () => {
    for (const d of dirs) await d.remove();
  });

  it.each(['twilio-relay', 'recorder-lb'])('%s: a call to the printed address completes; Ctrl-C cleans up', async (name) => {
    const work = await makeTmpDir('sipbake-try-test-');
    dirs.push(work);
    const reporter = new RecordingReporter();
    const ctl = new AbortController();
    let call: Awaited<ReturnType<typeof runCalls>> | undefined;
    let pids: number[] = [];
    const result: TryResult = await runTry({
      root: REPO_ROOT,
      image: name,
      reporter,
      signal: ctl.signal,
      forSeconds: 60,
      onReady: async (plan, dir) => {
        call = await runCalls({
          dir: work.path,
          name: `uac-${name}`,
          localIp: CALLER,
          localPort: await freePort(CALLER),
          remote: plan.sip.udp!,
          calls: 2,
          rate: 2,
          timeoutS: 20,
        });
        // Kamailio and the SIPp peers all name files inside try's temp dir on their command lines.
        pids = execFileSync('pgrep', ['-f', dir]).toString().trim().split('\n').map(Number);
        ctl.abort(); // what Ctrl-C does
      },
    });
    expect(call?.stats?.successful, call?.output).toBe(2);
    expect(result.stoppedBy).toBe('signal');
    expect(reporter.text()).toContain(`sip:test@${result.plan.sip.udp}`);
    expect(reporter.text()).toMatch(/SIPp UAS at 127\.0\.20\.1\d:\d+/);
    const doc = reporter.results[0] as { sip: { udp: string }; peers: unknown[] };
    expect(doc.sip.udp).toBe(result.plan.sip.udp);
    expect(doc.peers.length).toBeGreaterThan(0);
    expect(existsSync(result.dir)).toBe(false);
    // Every process it started (found by its temp dir on their command lines) is gone.
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('prints the addresses as JSON through the CLI and stops by itself with --for', async () => {
    const reporter = new RecordingReporter(true);
    const code = await main(['try', 'twilio-relay', '--json', '--for', '1', '--root', REPO_ROOT], {
      reporter,
      signal: new AbortController().signal,
    });
    expect(code, reporter.text()).toBe(0);
    const doc = reporter.results[0] as {
      ok: boolean;
      sip: { udp: string };
      advertised: string;
      peers: { role: string; host: string; port: number }[];
    };
    expect(doc.ok).toBe(true);
    expect(doc.sip.udp).toMatch(/^127\.0\.20\.2:\d+$/);
    expect(doc.advertised).toBe('127.0.20.3');
    expect(doc.peers[0]).toMatchObject({ role: 'destination', host: '127.0.20.10' });
  });

  it.each([
    ['twilio-relay', '127.0.31.0/24'],
    ['recorder-lb', '127.0.32.0/24'],
  ])('%s: the sipp command try prints (and the README shows) completes a call, exit code 0', async (name, address) => {
    const reporter = new RecordingReporter();
    const ctl = new AbortController();
    const running = main(['try', name, '--address', address, '--for', '90', '--root', REPO_ROOT], {
      reporter,
      signal: ctl.signal,
    });
    try {
      let printed: string | undefined;
      for (let i = 0; i < 300 && !printed; i++) {
        printed = reporter.lines.map((l) => l.message.trim()).find((l) => l.startsWith('sipp '));
        if (!printed) await new Promise((r) => setTimeout(r, 100));
      }
      expect(printed, reporter.text()).toBeDefined();
      const net = address.replace(/\.0\/24$/, '');
      expect(printed).toMatch(
        new RegExp(`^sipp ${net.replace(/\./g, '\\.')}\\.2:\\d+ -sf \\S+/share/sipp/sipbake-uac\\.xml -i ${net.replace(/\./g, '\\.')}\\.20 -m 1 `),
      );
      // The try walkthrough (docs/commands.md, moved from the README) shows the same command, with PORT and the
      // checkout path as placeholders.
      const readme = readFileSync(path.join(REPO_ROOT, 'docs/commands.md'), 'utf8');
      const shown = readme.match(/^sipp 127\.0\.20\.2:PORT .*$/m)?.[0];
      expect(shown, 'README try walkthrough').toBeDefined();
      const port = printed!.match(/^sipp [\d.]+:(\d+)/)![1]!;
      expect(shown!.replace('127.0.20', net).replace('127.0.20', net).replace('PORT', port).replace('SIPBAKE', REPO_ROOT)).toBe(printed);
      // Run exactly the printed line through a shell, as a person pastes it.
      const code = await new Promise<number | null>((resolve) => {
        const p = spawn('bash', ['-c', printed!], {
          cwd: path.join(REPO_ROOT, 'test'),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        p.on('exit', (c) => resolve(c));
      });
      expect(code).toBe(0);
    } finally {
      ctl.abort();
      // Stopped by its signal: 130, as Ctrl-C gives every command (src/cli/main.ts).
      expect(await running).toBe(130);
    }
  });

  it('Ctrl-C in a terminal: try stops its peers and Kamailio, removes its temp dir, and exits 130', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
    delete env.CI;
    const run = underPty(['node', path.join(REPO_ROOT, 'bin/sipbake.js'), 'try', 'twilio-relay', '--address', '127.0.34.0/24', '--for', '60'], {
      cwd: REPO_ROOT,
      env,
    });
    await until(() => run.output().includes('Ctrl-C stops everything'), run);
    const dir = run.output().match(/kamailio log:\s+(\/\S+)\/kamailio\.log/)![1]!;
    const pids = execFileSync('pgrep', ['-f', dir]).toString().trim().split('\n').map(Number);
    expect(pids.length).toBeGreaterThan(0);
    run.press('\x03');
    expect(await run.exited, run.output()).toBe(130);
    expect(run.output()).toContain('stopping (interrupted)');
    expect(existsSync(dir)).toBe(false);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('says what is wrong for an unknown image', async () => {
    const reporter = new RecordingReporter();
    const code = await main(['try', 'no-such-image', '--root', REPO_ROOT], {
      reporter,
      signal: new AbortController().signal,
    });
    expect(code).toBe(1);
    expect(reporter.text()).toMatch(/no-such-image/);
  });
});
