// SIPp on the host's end of a booted image's veth: the far side (UAS) and a caller (UAC), with try's scenarios.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSipp } from '../../src/try/sipp.js';
import type { ManagedProcess } from '../../src/try/process.js';
import { FAR_PORT, type BootImage } from './images.js';

export async function farEnd(b: BootImage, dir: string): Promise<ManagedProcess> {
  return startSipp({ dir, name: `far-${b.seed}`, role: 'uas', localIp: b.net.hostIp, localPort: FAR_PORT, timeoutS: 600 });
}

let n = 0;
/** One call from the host's end to the guest's SIP port; resolves with SIPp's exit (0: the call completed). */
export async function call(b: BootImage, o: { holdMs?: number } = {}): Promise<{ sipp: ManagedProcess; dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sipbake-boot-call-'));
  const sipp = await startSipp({
    dir,
    name: `caller-${b.seed}-${++n}`,
    role: 'uac',
    localIp: b.net.hostIp,
    localPort: 5061 + n,
    remote: `${b.net.guestIp}:${b.port}`,
    calls: 1,
    timeoutS: 60,
    recvTimeoutMs: 10_000,
    uac: { holdMs: o.holdMs ?? 200 },
  });
  return { sipp, dir };
}
