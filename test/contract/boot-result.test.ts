// boot.json: one schema for the boot agent that writes it and the drain agent and sipbake-status that read it.
import { describe, expect, it } from 'vitest';
import { ctlSocket, renderBootInclude } from '../../src/contract/boot-include.js';
import { parseBootResult, renderBootResult } from '../../src/contract/boot-result.js';

describe('boot.json', () => {
  it('reads back what the writer wrote', () => {
    const r = {
      ok: true,
      at: '2026-12-07T00:00:00.000Z',
      durationMs: 12,
      privateIp: '10.0.0.1',
      peerNet: '10.0.0.0/16',
      files: ['/etc/kamailio/sipbake-boot.cfg'],
    };
    expect(parseBootResult(renderBootResult(r))).toEqual(r);
  });

  it('refuses a file that is not a boot result (half-written, or a field of the wrong type)', () => {
    expect(parseBootResult('{"ok": tr')).toBeUndefined();
    expect(parseBootResult(JSON.stringify({ ok: true, at: 'x', durationMs: 1, peerNet: 16 }))).toBeUndefined();
    expect(() => renderBootResult({ ok: true, at: 'x', durationMs: 1, privateIp: 5 as unknown as string })).toThrow();
  });

  it('names the ctl socket the boot include defines (the agent no longer reads the include back)', () => {
    for (const root of ['', '/tmp/x', '/tmp/x/']) {
      expect(renderBootInclude({ privateIp: '10.0.0.1', publicIp: '10.0.0.1', root })).toContain(`#!define SIPBAKE_CTL_SOCK "${ctlSocket(root)}"`);
    }
    expect(ctlSocket('/tmp/x/')).toBe('unix:/tmp/x/run/kamailio/kamailio_ctl');
  });
});
