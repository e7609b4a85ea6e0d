// --json for CI: stdout is one document, stderr one JSON event per line, arriving while the bake runs.
import { afterEach, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { main } from '../../src/cli/main.js';
import { ConsoleReporter } from '../../src/core/reporter.js';
import { FakeAws, installFakeAws } from '../fakes/aws/index.js';
import { buildFixture, type BuildFixture } from '../bake/build-support.js';

let fx: BuildFixture | undefined;
let restore: (() => void) | undefined;
afterEach(async () => {
  restore?.();
  await fx?.cleanup();
  fx = undefined;
  restore = undefined;
});

describe('build --json progress', () => {
  it('streams stage and Packer events as NDJSON on stderr while stdout stays one document naming the kept log', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    restore = installFakeAws(new FakeAws());
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    const arrivals: { stream: 'out' | 'err'; text: string }[] = [];
    out.on('data', (d: Buffer) => {
      stdout += d.toString();
      arrivals.push({ stream: 'out', text: d.toString() });
    });
    err.on('data', (d: Buffer) => arrivals.push({ stream: 'err', text: d.toString() }));
    const code = await main(['build', 'twilio-relay', '--json', '--root', fx.root], {
      reporter: new ConsoleReporter(true, false, out, err),
      env: { ...fx.env(), AWS_ACCESS_KEY_ID: 'FAKE', AWS_SECRET_ACCESS_KEY: 'FAKE' },
      signal: new AbortController().signal,
    });
    expect(code).toBe(0);
    // stdout: exactly one JSON document.
    const doc = JSON.parse(stdout) as {
      ok: boolean;
      action: string;
      amis: Record<string, string>;
      packerLog: string;
      manifest: string;
    };
    expect(doc).toMatchObject({ ok: true, action: 'built' });
    expect(doc.amis['us-east-1']).toMatch(/^ami-/);
    // stderr: lines; the JSON ones are the events (human lines go to stderr too with --json, unparsed by CI).
    const errLines = arrivals
      .filter((a) => a.stream === 'err')
      .flatMap((a) => a.text.split('\n'))
      .filter(Boolean);
    const events = errLines
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string; at: string; stage?: string; state?: string; text?: string });
    for (const e of events) expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    const stages = events.filter((e) => e.event === 'stage').map((e) => `${e.stage}:${e.state}`);
    expect(stages).toEqual([
      'Check Packer:started',
      'Check Packer:done',
      'Validate and render twilio-relay:started',
      'Validate and render twilio-relay:done',
      'Content hash:started',
      'Content hash:done',
      'Look up AMIs with this content:started',
      'Look up AMIs with this content:done',
      'packer init:started',
      'packer init:done',
      'packer build:started',
      'packer build:done',
    ]);
    const packer = events.filter((e) => e.event === 'packer');
    expect(packer.map((e) => e.stage).filter(Boolean)).toEqual(expect.arrayContaining(['launching the build instance', 'running 00-base', 'creating the AMI']));
    expect(packer.some((e) => e.text?.includes('Instance ID: i-0123456789abcdef0'))).toBe(true);
    // Every event arrived before the result document: progress while it runs, not after.
    const firstOut = arrivals.findIndex((a) => a.stream === 'out');
    const lastEvent = arrivals.map((a, i) => (a.stream === 'err' && a.text.startsWith('{') ? i : -1)).reduce((m, i) => Math.max(m, i), -1);
    expect(lastEvent).toBeLessThan(firstOut);
    // Packer's own output is kept beside the manifest and named in the result.
    expect(doc.packerLog).toBe(`${fx.root}/.sipbake/twilio-relay/packer.log`);
    expect(doc.manifest).toBe(`${fx.root}/.sipbake/twilio-relay/packer-manifest.json`);
    const log = await readFile(doc.packerLog, 'utf8');
    expect(log).toContain('Creating AMI sipbake-twilio-relay');
    expect(log).toContain('Installed plugin');
    expect(JSON.parse(await readFile(doc.manifest, 'utf8'))).toHaveProperty('builds');
  });
});
