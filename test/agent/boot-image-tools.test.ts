import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDispatcherList, describeFlags, formatStatus } from '../../src/agent/status.js';
import { REPO_ROOT } from '../support/index.js';

// What the operator finds on the instance: sngrep and tcpdump from Debian (scripts/00-base.sh), and the
// pure half of sipbake-status (the live half: boot-status.live.test.ts).

describe('scripts/00-base.sh', () => {
  it('installs sngrep and tcpdump from Debian with the runtime packages', async () => {
    const text = await readFile(path.join(REPO_ROOT, 'scripts/00-base.sh'), 'utf8');
    const m = /^RUNTIME_PACKAGES=\(([^)]*)\)/m.exec(text);
    expect(m).not.toBeNull();
    const pkgs = m![1]!.trim().split(/\s+/);
    expect(pkgs).toEqual(expect.arrayContaining(['sngrep', 'tcpdump', 'nodejs']));
  });
});

describe('sipbake-status formatting (pure)', () => {
  const list = `SET: {
	ID: 1
	TARGETS: {
		DEST: {
			URI: sip:10.0.0.3:5060;transport=udp
			FLAGS: AP
			PRIORITY: 0
		}
		DEST: {
			URI: sip:10.0.0.4:5080;transport=tcp
			FLAGS: IP
			PRIORITY: 0
		}
	}
}`;

  it('reads kamcmd dispatcher.list', () => {
    expect(parseDispatcherList(list)).toEqual([
      { setId: 1, uri: 'sip:10.0.0.3:5060;transport=udp', flags: 'AP' },
      { setId: 1, uri: 'sip:10.0.0.4:5080;transport=tcp', flags: 'IP' },
    ]);
    expect(describeFlags('IP')).toBe('inactive, probing');
    expect(describeFlags('DX')).toBe('disabled');
  });

  it.each([
    [{ draining: true, handoff: '10.0.1.7' }, 'DRAINING (new calls handed to 10.0.1.7)'],
    [{ draining: true }, 'DRAINING (new calls get 503)'],
    [{ draining: false }, 'not draining'],
  ])('shows where new calls go while draining: %j', (o, want) => {
    const out = formatStatus('twilio-relay', { kamailio: { up: true, uptimeSeconds: 5 }, ...o });
    expect(out).toMatch(new RegExp(`^Drain\\s+${want.replace(/[().]/g, '\\$&')}$`, 'm'));
  });

  it('shows a failed boot with its reason', () => {
    const out = formatStatus(
      'recorder-lb',
      {
        kamailio: { up: false, error: 'connection refused' },
        boot: {
          ok: false,
          at: '2026-01-01T00:00:00Z',
          durationMs: 5,
          error: 'dispatcher destination host(s) do not resolve: r.invalid (ENOTFOUND)',
        },
      },
      Date.parse('2026-01-01T00:01:00Z'),
    );
    expect(out).toMatch(/^Kamailio\s+DOWN \(connection refused\)$/m);
    expect(out).toMatch(/^Last boot\s+FAILED at 2026-01-01T00:00:00Z \(60 s ago\): dispatcher destination host\(s\) do not resolve/m);
  });
});
