// sipbake-status: a missing kamcmd is not "Kamailio DOWN" (nothing could ask the ctl socket); a kamcmd that gets
// no answer is.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatStatus, kamcmdRunner, observeStatus } from '../../src/agent/status.js';

const dirs: string[] = [];
afterEach(async () => Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }))));
const emptyRoot = async () => {
  const d = await mkdtemp(path.join(tmpdir(), 'sipbake-status-'));
  dirs.push(d);
  return d;
};

describe('sipbake-status and kamcmd', () => {
  it('kamcmd not installed: Kamailio UNKNOWN, not DOWN', async () => {
    const o = await observeStatus(await emptyRoot(), kamcmdRunner('/nonexistent/kamcmd', '/nonexistent/ctl.sock'), false);
    expect(o.kamailio).toMatchObject({ up: false, kamcmdMissing: true });
    const screen = formatStatus('twilio-relay', o);
    expect(screen).toMatch(/^Kamailio\s+UNKNOWN \(\/nonexistent\/kamcmd not found: the ctl socket cannot be asked/m);
    expect(screen).not.toMatch(/DOWN/);
  });
  it('kamcmd present but no answer on the ctl socket: DOWN', async () => {
    const o = await observeStatus(await emptyRoot(), () => Promise.reject(new Error('connect: No such file or directory')), false);
    expect(formatStatus('twilio-relay', o)).toMatch(/^Kamailio\s+DOWN \(connect: No such file or directory\)/m);
  });
});
