// Kamailio's ctl socket path must fit its 104 bytes (src/try/run-dir.ts). A path that does not is named as such,
// before Kamailio starts, never "kamailio rejected the rendered config".
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kamailioStart } from '../../src/check/kamailio-start.js';
import { CTL_SOCKET_IN_TREE, shortRunDir, socketPathProblem } from '../../src/try/run-dir.js';

const longBase = `/tmp/${'t'.repeat(85)}`; // 90 characters, as a CI runner's nested TMPDIR can be

describe('ctl socket paths', () => {
  it('a path of 104 bytes fits; 105 is named with its length, the limit and the fix', () => {
    expect(socketPathProblem(`unix:/${'a'.repeat(103)}`)).toBeNull();
    const e = socketPathProblem(`unix:/${'a'.repeat(104)}`);
    expect(e?.message).toBe(`socket path /${'a'.repeat(104)} is 105 bytes, over the 104 Kamailio's ctl socket allows (the kernel's limit is 107)`);
    expect(e?.fix).toMatch(/set TMPDIR shorter/);
  });

  it('a 90-character TMPDIR: the run directory goes under /tmp, and its socket fits', async () => {
    const dir = await shortRunDir('sipbake-check-', path.join('tree', CTL_SOCKET_IN_TREE), longBase);
    try {
      expect(path.dirname(dir)).toBe('/tmp');
      expect(socketPathProblem(path.join(dir, 'tree', CTL_SOCKET_IN_TREE))).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a short TMPDIR is kept', async () => {
    const dir = await shortRunDir('sipbake-check-', path.join('tree', CTL_SOCKET_IN_TREE), '/tmp');
    await rm(dir, { recursive: true, force: true });
    expect(dir.startsWith('/tmp/sipbake-check-')).toBe(true);
  });

  it('a path too long even under /tmp is refused by name, and nothing is created', async () => {
    await expect(shortRunDir(`sipbake-try-${'x'.repeat(80)}-`, path.join('tree', CTL_SOCKET_IN_TREE), longBase)).rejects.toThrow(
      /^socket path \/.*\/tree\/run\/kamailio\/kamailio_ctl is \d+ bytes, over the 104 Kamailio's ctl socket allows/,
    );
  });

  it('check --start names a long socket before starting Kamailio', async () => {
    await expect(kamailioStart('/nonexistent/etc/kamailio/kamailio.cfg', { ctlSocket: `unix:${longBase}/${'d'.repeat(20)}/kamailio_ctl` })).rejects.toThrow(
      /^socket path .* is 124 bytes, over the 104/,
    );
  });
});
