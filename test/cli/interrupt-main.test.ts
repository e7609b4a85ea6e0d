// main()'s share of the interrupt path (issue 23): once the signal fired, the exit code is 130 whatever the command
// did next. A command that ends normally on Ctrl-C (try) still exits 130, and one that fails because a child died
// of the same Ctrl-C (esbuild's service: "The service was stopped"; Kamailio) reports the interrupt, not that failure.
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { AbortError } from '../../src/core/errors.js';
import { RecordingReporter } from '../../src/core/reporter.js';

const interrupted = (): AbortSignal => AbortSignal.abort(new AbortError('interrupted (SIGINT)'));

describe('main() after an interrupt', () => {
  it('a command that returns normally exits 130', async () => {
    const out = new RecordingReporter(false);
    expect(await main(['validate', 'twilio-relay'], { reporter: out, signal: interrupted() })).toBe(130);
  });

  it('a command that fails meanwhile exits 130 and names the interrupt, not its own error', async () => {
    const out = new RecordingReporter(true);
    const code = await main(['render', 'no-such-image', '--out', '/tmp/sipbake-never', '--json'], { reporter: out, signal: interrupted() });
    expect(code).toBe(130);
    expect(out.results).toEqual([expect.objectContaining({ ok: false, error: 'aborted', message: 'interrupted (SIGINT)' })]);
  });
});
