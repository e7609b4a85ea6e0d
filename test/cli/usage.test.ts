// Usage conventions through main(): "did you mean" for a misspelt option, a missing argument named, exit 2;
// image names in Tab completion; `completion --json` is one document on stdout.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';

const root = path.resolve(import.meta.dirname, '../..');

async function cli(args: string[], json = false) {
  const reporter = new RecordingReporter(json);
  const code = await main(args, { reporter, cwd: root, env: {}, signal: new AbortController().signal });
  return { code, reporter, lines: reporter.lines.map((l) => l.message), errors: reporter.lines.filter((l) => l.level === 'error').map((l) => l.message) };
}

describe('usage errors', () => {
  it('a misspelt option gets "did you mean", exit 2', async () => {
    const r = await cli(['roll', 'twilio-relay', '--plna']);
    expect(r.code).toBe(2);
    expect(r.errors[0]).toBe('unknown option --plna: did you mean --plan?');
    expect((await cli(['validate', '--jsno'])).errors[0]).toBe('unknown option --jsno: did you mean --json?');
  });
  it('an option nothing resembles is named without a guess', async () => {
    expect((await cli(['status', 'twilio-relay', '--zzzzzzzz'])).errors[0]).toBe('unknown option --zzzzzzzz');
  });
  it('a missing argument names what is missing and how the command is spelt', async () => {
    const r = await cli(['status']);
    expect(r.code).toBe(2);
    expect(r.errors[0]).toBe('status needs <image>: sipbake status <image>');
  });
});

describe('completion', () => {
  const complete = async (...words: string[]) => (await cli(['--get-yargs-completions', 'sipbake', ...words])).lines.join('\n').split('\n');
  it('offers image names where a command takes an image, and not after it', async () => {
    expect(await complete('status', '')).toEqual(expect.arrayContaining(['twilio-relay', 'recorder-lb']));
    expect(await complete('roll', 'tw')).toEqual(['twilio-relay']);
    expect(await complete('roll', 'twilio-relay', '')).not.toContain('recorder-lb');
    expect(await complete('validate', 'twilio-relay', '')).toContain('recorder-lb'); // validate takes several
    expect(await complete('iam', '')).not.toContain('twilio-relay');
  });
  it('completion --json prints the script as the one JSON document (stdout), nothing on stderr', async () => {
    const r = await cli(['completion', '--json'], true);
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([]);
    expect(r.reporter.results).toEqual([{ ok: true, completion: expect.stringContaining('###-begin-sipbake-completions-###') }]);
  });
});
