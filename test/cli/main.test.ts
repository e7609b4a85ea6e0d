import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';

async function run(...argv: string[]): Promise<{ code: number; out: RecordingReporter }> {
  const out = new RecordingReporter(argv.includes('--json'));
  const code = await main(argv, { reporter: out });
  return { code, out };
}

describe('sipbake CLI frame', () => {
  it('lists every command in --help and exits 0 without ending the process', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(0);
    const help = out.text();
    for (const c of ['validate', 'render', 'check', 'try', 'packer', 'build', 'pin', 'roll', 'rollback', 'status', 'history', 'iam']) {
      expect(help).toMatch(new RegExp(`sipbake ${c}\\b`));
    }
  });

  it('answers an unknown command with a usage error (exit 2) that points at --help', async () => {
    const { code, out } = await run('bogus');
    expect(code).toBe(2);
    expect(out.text()).toMatch(/Unknown argument: bogus[\s\S]*sipbake --help/);
  });

  it('asks for a command when none is given', async () => {
    const { code, out } = await run();
    expect(code).toBe(2);
    expect(out.text()).toContain('Name a command');
  });

  it('reports a user error as one JSON document with --json', async () => {
    const { code, out } = await run('render', 'no-such-image', '--out', '/tmp/sipbake-never', '--json');
    expect(code).toBe(1);
    expect(out.results).toHaveLength(1);
    expect(out.results[0]).toMatchObject({ ok: false });
  });
});

describe('one error handler', () => {
  it('turns an unmapped network failure from an AWS call into a sentence with a fix (exit 1, not internal)', async () => {
    const { reportError } = await import('../../src/cli/main.js');
    const out = new RecordingReporter();
    const e = Object.assign(new Error('getaddrinfo ENOTFOUND autoscaling.us-east-1.amazonaws.com'), {
      code: 'ENOTFOUND',
    });
    expect(reportError(e, out, false)).toBe(1);
    expect(out.text()).toMatch(/could not reach AWS[\s\S]*fix: check the network/);
  });

  it('keeps unknown failures internal (exit 70) and asks for --debug', async () => {
    const { reportError } = await import('../../src/cli/main.js');
    const out = new RecordingReporter();
    expect(reportError(new TypeError('x is undefined'), out, false)).toBe(70);
    expect(out.text()).toMatch(/internal error: x is undefined[\s\S]*--debug/);
  });
});
