import { describe, expect, it } from 'vitest';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ctlAccepts, ctlSocketFromInclude, kamcmdRpc, parseStatsActive, parseTmStats, peerNetFromInclude } from '../../src/agent/kamailio-rpc.js';
import { renderBootInclude } from '../../src/contract/boot-include.js';

describe('kamailio rpc', () => {
  it('reads "all" from dlg.stats_active as kamcmd 5.6 prints it', () => {
    const out = '{\n\tstarting: 1\n\tconnecting: 0\n\tanswering: 2\n\tongoing: 17\n\tall: 20\n}\n';
    expect(parseStatsActive(out)).toBe(20);
  });

  it('refuses output it does not understand instead of reading 0', () => {
    expect(() => parseStatsActive('error: 500 - command dlg.stats_active not found')).toThrow(/unexpected dlg.stats_active output/);
  });

  it.each([
    // Kamailio 5.6.3's kamcmd tm.stats right after 10 handed-off calls: all 20 transactions finished, in the wait timer.
    [
      '{\n\tcurrent: 20\n\twaiting: 20\n\ttotal: 20\n\ttotal_local: 0\n\trpl_received: 30\n\trpl_generated: 10\n\trpl_sent: 30\n\t6xx: 0\n\t5xx: 0\n\t4xx: 0\n\t3xx: 0\n\t2xx: 20\n\tcreated: 20\n\tfreed: 0\n\tdelayed_free: 0\n}\n',
      0,
    ],
    ['{\n\tcurrent: 3\n\twaiting: 1\n\ttotal: 9\n}\n', 2],
  ])('reads transactions in flight (current - waiting) from tm.stats', (out, want) => {
    expect(parseTmStats(out)).toBe(want);
  });

  it('refuses tm.stats output without current and waiting', () => {
    expect(() => parseTmStats('{\n\tcurrent: 3\n}\n')).toThrow(/unexpected tm.stats output/);
  });

  it('finds the peer network in the boot include the agent writes', () => {
    const inc = renderBootInclude({ privateIp: '10.0.0.1', publicIp: '10.0.0.1', root: '/tmp/x', peerNet: '10.0.0.0/16' });
    expect(peerNetFromInclude(inc)).toBe('10.0.0.0/16');
  });

  it('finds the ctl socket in the boot include the agent writes', () => {
    const inc = renderBootInclude({ privateIp: '10.0.0.1', publicIp: '10.0.0.1', root: '/tmp/x' });
    expect(ctlSocketFromInclude(inc)).toBe('unix:/tmp/x/run/kamailio/kamailio_ctl');
  });

  it('reports Kamailio as not alive when the ctl socket is missing, and says so on a call', async () => {
    const rpc = kamcmdRpc({ kamcmd: 'kamcmd', socket: 'unix:/nonexistent/sipbake/kamailio_ctl' });
    expect(await rpc.alive()).toBe(false);
    await expect(rpc.activeDialogs()).rejects.toThrow(/kamcmd dlg.stats_active on unix:\/nonexistent.* failed/);
  });

  it('says how to fix a missing kamcmd', async () => {
    const rpc = kamcmdRpc({ kamcmd: '/nonexistent/kamcmd', socket: 'unix:/tmp/none' });
    await expect(rpc.setDraining(true)).rejects.toThrow(/not installed.*SIPBAKE_KAMCMD/);
  });

  it('the process check: a listening ctl socket means Kamailio is there (even when its RPC is slow); a stale or missing one means gone', async () => {
    const sock = path.join(os.tmpdir(), `sipbake-ctl-${process.pid}.sock`);
    const conns = new Set<net.Socket>();
    const srv = net.createServer((c) => void conns.add(c.on('error', () => undefined))); // accepts, never answers: a busy Kamailio
    await new Promise<void>((r) => srv.listen(sock, r));
    try {
      expect(await ctlAccepts(`unix:${sock}`)).toBe(true);
      const rpc = kamcmdRpc({ kamcmd: 'kamcmd', socket: `unix:${sock}`, timeoutMs: 300 });
      expect(await rpc.alive()).toBe(false); // the RPC times out …
      expect(await rpc.processAlive()).toBe(true); // … but the process is there
    } finally {
      for (const c of conns) c.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    }
    expect(await ctlAccepts(`unix:${sock}`)).toBe(false);
    expect(await ctlAccepts('unix:/nonexistent/sipbake/kamailio_ctl')).toBe(false);
  });
});
