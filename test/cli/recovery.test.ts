import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { InterruptRegistry } from '../../src/core/interrupt.js';
import { refreshRecoveryLines } from '../../src/roll/recovery.js';
import { AbortError } from '../../src/core/errors.js';

describe('recovery lines after an interrupt', () => {
  it('a roll names the refresh and the exact status / roll / rollback commands', () => {
    const lines = refreshRecoveryLines({
      kind: 'roll',
      image: 'twilio-relay',
      refreshId: 'a1b2',
      asgName: 'sip-edge',
      region: 'us-east-1',
      to: 'ami-0aaa',
      from: 'ami-0bbb',
      profile: 'ops',
    });
    expect(lines).toEqual([
      'instance refresh a1b2 of sip-edge (us-east-1) goes on in AWS; sipbake only stopped watching it.',
      '  follow it:     sipbake status twilio-relay --profile ops',
      '  watch again:   sipbake roll twilio-relay --ami ami-0aaa --profile ops   (attaches to the same refresh)',
      '  roll back:     sipbake rollback twilio-relay --to ami-0bbb --profile ops',
    ]);
  });

  it('the registry keeps order, unregisters, and survives a provider that throws', () => {
    const r = new InterruptRegistry();
    const off = r.onInterrupt(() => ['a']);
    r.onInterrupt(() => {
      throw new Error('x');
    });
    r.onInterrupt(() => ['b']);
    expect(r.lines()).toEqual(['a', 'b']);
    off();
    expect(r.lines()).toEqual(['b']);
  });

  it('main prints the registered lines after an interrupted command, and puts them in the JSON document', async () => {
    const interrupts = new InterruptRegistry();
    interrupts.onInterrupt(() => ['  follow it:     sipbake status twilio-relay']);
    const ctl = new AbortController();
    ctl.abort(new AbortError('interrupted (SIGINT)'));
    const reporter = new RecordingReporter(true);
    // try stops at once on an aborted signal; any command would do: the path is main's, not the command's.
    const code = await main(['try', 'no-such-image', '--json'], { reporter, signal: ctl.signal, interrupts });
    expect(code).toBe(130);
    expect(reporter.text()).toContain('follow it:     sipbake status twilio-relay');
    expect(reporter.results[0]).toMatchObject({
      ok: false,
      error: 'aborted',
      recovery: ['  follow it:     sipbake status twilio-relay'],
    });
  });
});
