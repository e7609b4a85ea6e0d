import { describe, expect, it } from 'vitest';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ctlAccepts, kamcmdRpc, parseStatsActive, parseTmList } from '../../src/agent/kamailio-rpc.js';

describe('kamailio rpc', () => {
  it('reads "all" from dlg.stats_active as kamcmd 5.6 prints it', () => {
    const out = '{\n\tstarting: 1\n\tconnecting: 0\n\tanswering: 2\n\tongoing: 17\n\tall: 20\n}\n';
    expect(parseStatsActive(out)).toBe(20);
  });

  it('refuses output it does not understand instead of reading 0', () => {
    expect(() => parseStatsActive('error: 500 - command dlg.stats_active not found')).toThrow(/unexpected dlg.stats_active output/);
  });

  // Kamailio 5.6.3's kamcmd tm.list after handed-off calls (two of its entries), and a dispatcher OPTIONS ping.
  const entry = (method: string, uas: 'yes' | 'no', tindex: number) =>
    `{\n\tcell: 0x7f82825991a0\n\ttindex: ${tindex}\n\ttlabel: 1801730269\n\tmethod: ${method}\n\tfrom: From: sipp <sip:sipp@127.0.45.20:36686>;tag=19304SIPpTag001\r\n\n\tto: To: <sip:service@127.0.45.1:55082>;tag=19265SIPpTag011\r\n\n\tcallid: Call-ID: 1-19304@127.0.45.20\r\n\n\tcseq: CSeq: 2\n\tuas_request: ${uas}\n\ttflags: 0\n\toutgoings: 1\n\tref_count: 1\n\tlifetime: 57944398\n}\n`;
  it.each([
    ['handed-off INVITE (the BYE does not count)', entry('BYE', 'yes', 11390) + entry('INVITE', 'yes', 11393), 1],
    ['two INVITEs', entry('INVITE', 'yes', 1) + entry('INVITE', 'yes', 2), 2],
    ['a dispatcher ping (local, never holds a drain)', entry('OPTIONS', 'no', 5), 0],
    ['nothing', '', 0],
  ])('counts the INVITE server transactions in tm.list: %s', (_what, out, want) => {
    expect(parseTmList(out)).toBe(want);
  });

  it('refuses tm.list output it does not understand', () => {
    expect(() => parseTmList('error: 500 - command tm.list not found')).toThrow(/unexpected tm.list output/);
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
