// A command under a pseudo-terminal: util-linux `script` gives it a pty; writing ^C (0x03) into it makes the
// line discipline send SIGINT to the foreground process group, as a person's Ctrl-C does.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

export interface PtyRun {
  output: () => string;
  press: (keys: string) => void;
  exited: Promise<number | null>;
}

// eslint-disable-next-line no-control-regex -- ESC starts the terminal escapes this removes
const stripAnsi = (s: string): string => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

export function underPty(argv: string[], o: { cwd: string; env: NodeJS.ProcessEnv; killAfterMs?: number }): PtyRun {
  // script's pty starts 0 columns wide when its own stdin is no terminal; give it a person's size.
  // `exec`: script runs the line through $SHELL, and a shell left between the pty and the command is in the
  // foreground group too. dash (CI's /bin/sh when SHELL is unset) then dies of the same Ctrl-C once its child
  // exits, and script reports 130 whatever the command returned; bash happens to exec the last command itself.
  const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const cmd = `stty cols 120 rows 40; exec ${argv.map(quote).join(' ')}`;
  // -e: script exits with the child's code; -f: flush output as it comes; -q: no banner.
  const child = spawn('script', ['-qefc', cmd, '/dev/null'], {
    cwd: o.cwd,
    // The same shell wherever the tests run, so the process tree under the pty is the same too.
    env: { ...o.env, SHELL: '/bin/sh' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), o.killAfterMs ?? 60_000);
  void exited.then(() => clearTimeout(timer));
  return { output: () => stripAnsi(out), press: (k) => child.stdin.write(k), exited };
}

export async function until(what: () => Promise<boolean> | boolean, run: PtyRun, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error(`timed out; the terminal showed:\n${run.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Processes whose command line names a path under `dir`: what the command started from its temporary directory.
 *  sipbake itself (and `script` around it) name the directory in their arguments too: not children. */
export async function processesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(dir) && !cmd.includes('pty-main.ts')) found.push(`${pid}: ${cmd.replace(/\0/g, ' ')}`);
  }
  return found;
}
