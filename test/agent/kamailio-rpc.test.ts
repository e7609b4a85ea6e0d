import { describe, expect, it } from 'vitest';
import { ctlSocketFromInclude, kamcmdRpc, parseStatsActive } from '../../src/agent/kamailio-rpc.js';
import { renderBootInclude } from '../../src/contract/boot-include.js';

describe('kamailio rpc', () => {
  it('reads "all" from dlg.stats_active as kamcmd 5.6 prints it', () => {
    const out = '{\n\tstarting: 1\n\tconnecting: 0\n\tanswering: 2\n\tongoing: 17\n\tall: 20\n}\n';
    expect(parseStatsActive(out)).toBe(20);
  });

  it('refuses output it does not understand instead of reading 0', () => {
    expect(() => parseStatsActive('error: 500 - command dlg.stats_active not found')).toThrow(/unexpected dlg.stats_active output/);
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
});
