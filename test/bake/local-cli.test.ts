// `sipbake build --local`: its flags go together, and the AMI-only flags are refused with it (usage errors, exit 2).
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';

async function cli(argv: string[]) {
  const reporter = new RecordingReporter();
  const code = await main(argv, { reporter, env: process.env, signal: new AbortController().signal });
  return { code, text: reporter.text() };
}

describe('CLI: build --local', () => {
  it('--help lists --local, --out and --sources', async () => {
    const { code, text } = await cli(['build', '--help']);
    expect(code).toBe(0);
    for (const f of ['--local', '--out', '--sources', '--jobs']) expect(text).toContain(f);
  }, 90_000); // the first call loads every command (slow on a loaded machine)

  it.each([
    [['build', 'twilio-relay', '--out', '/tmp/x'], '--out goes with --local'],
    [['build', 'twilio-relay', '--sources', '/tmp/x'], '--sources goes with --local'],
    [['build', 'twilio-relay', '--local', '--plan'], '--local bakes on this machine'],
    [['build', 'twilio-relay', '--local', '--region', 'eu-west-1'], '--local bakes on this machine'],
  ])('%j is a usage error', async (argv, message) => {
    const { code, text } = await cli(argv);
    expect(code).toBe(2);
    expect(text).toContain(message);
  });
});
