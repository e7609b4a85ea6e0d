import { afterAll, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { kamailioString } from '../../src/contract/escape.js';
import { freePort } from '../../src/try/ports.js';

// The Kamailio cfg string escaper, read back by the real Kamailio: a string literal holding every
// character the escaper handles is assigned and logged at start-up, and must come back unchanged.

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('Kamailio reads back exactly the value kamailioString() wrote', async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sipbake-kstr-'));
  const value = 'A"B\\C\tD$(ru)E%nF`id`G;x=y#!define';
  const port = await freePort('127.0.0.1');
  const cfg = [
    '#!KAMAILIO',
    'debug=-3', // only the ALERT line below, so no other process's log interleaves with it
    'log_stderror=yes',
    'children=1',
    `listen=udp:127.0.0.1:${port}`,
    'loadmodule "xlog.so"',
    'loadmodule "pv.so"',
    'event_route[core:worker-one-init] {',
    `\t$var(s) = ${kamailioString(value)};`,
    '\txlog("L_ALERT", "VALUE[$var(s)]END\\n");',
    '}',
    'request_route { drop; }',
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'k.cfg'), cfg);
  // Its own process group: Kamailio's children hold the output pipe, so the whole group is stopped, not only the main.
  const kam = execa('kamailio', ['-DD', '-E', '-f', path.join(dir, 'k.cfg')], {
    reject: false,
    all: true,
    buffer: false,
    detached: true,
  });
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      if (kam.pid) process.kill(-kam.pid, sig);
    } catch {
      // already gone
    }
  };
  let text = '';
  let got = '';
  try {
    // The output keeps arriving after the match (shutdown logs): the value goes to its own variable.
    got = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no VALUE line from kamailio:\n${text}`)), 15_000);
      kam.all.on('data', (b: Buffer) => {
        text += b.toString('utf8');
        // Each log line, whole: another process's line may land between the chunks of this one.
        for (const line of text.split('\n')) {
          const m = /VALUE\[([\s\S]*)\]END$/.exec(line);
          if (m) {
            clearTimeout(t);
            resolve(m[1]!);
          }
        }
      });
    });
  } finally {
    signalGroup('SIGTERM');
    const k = setTimeout(() => signalGroup('SIGKILL'), 5000);
    await kam;
    clearTimeout(k);
  }
  expect(got).toBe(value);
});
