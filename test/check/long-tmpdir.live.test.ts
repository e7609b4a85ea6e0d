// A 90-character TMPDIR (a CI runner's nested work directory): check --start and try still start Kamailio, whose
// ctl socket would have been ~135 bytes under it. Before issue 23 both said "kamailio rejected the rendered config"
// (Kamailio's own line: "init_unix_sock: name too long (108 > 104)").
import { mkdir, readdir, rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { repoRoot } from '../bake/helpers.js';

const longTmp = `/tmp/sipbake-long-${process.pid}-`.padEnd(90, 't');
let saved: string | undefined;
beforeEach(async () => {
  saved = process.env.TMPDIR;
  await mkdir(longTmp, { recursive: true });
  process.env.TMPDIR = longTmp;
});
afterEach(async () => {
  if (saved === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = saved;
  await rm(longTmp, { recursive: true, force: true });
});

async function sipbake(...argv: string[]): Promise<{ code: number; text: string }> {
  const out = new RecordingReporter(false);
  const code = await main(argv, { reporter: out, cwd: repoRoot, signal: new AbortController().signal });
  return { code, text: out.text() };
}

describe('a 90-character TMPDIR', () => {
  it('check --start starts Kamailio and its ctl socket answers', async () => {
    expect(longTmp).toHaveLength(90);
    const r = await sipbake('check', 'twilio-relay', '--start');
    expect(r.text).not.toContain('rejected the rendered config');
    expect(r.text).toContain('kamailio -c and start-up ok');
    expect(r.code).toBe(0);
    expect(await readdir(longTmp)).toEqual([]);
  });

  it('try runs the image and stops by itself', async () => {
    const r = await sipbake('try', 'twilio-relay', '--for', '1');
    expect(r.text, r.text).toContain('twilio-relay is running on loopback');
    expect(r.code).toBe(0);
    expect(await readdir(longTmp)).toEqual([]);
  });
});
