// Every runner starts Kamailio with the unit's own command line, read from the rendered tree: the image's
// memory sizes (twilio-relay: -m 512 -M 16), not a number of the runner's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderImage } from '../../src/render/index.js';
import { KAMAILIO_UNIT, kamailioArgvFromUnit, kamailioCheckArgs, kamailioTreeArgv, readKamailioUnit } from '../../src/contract/kamailio-args.js';
import { kamailioArgv } from '../../src/try/kamailio.js';
import { repoRoot } from '../bake/helpers.js';

let dir: string;
const tree = (seed: string) => path.join(dir, seed);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sipbake-kamargs-'));
  for (const seed of ['twilio-relay', 'recorder-lb']) await renderImage(repoRoot, seed, { out: tree(seed) });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('Kamailio argv contract', () => {
  it.each([
    ['twilio-relay', '512', '16'],
    ['recorder-lb', '512', '16'],
  ])('%s: the unit runs -m %s -M %s, and try and the rehearsal run the same', async (seed, m, M) => {
    const unit = await readFile(path.join(tree(seed), KAMAILIO_UNIT), 'utf8');
    expect(unit).toContain(`ExecStart=/usr/local/sbin/kamailio -DD -f /etc/kamailio/kamailio.cfg -m ${m} -M ${M}\n`);
    expect(unit).toContain(`ExecStartPre=/usr/local/sbin/kamailio -c -f /etc/kamailio/kamailio.cfg -m ${m} -M ${M}\n`);
    const cfg = path.join(tree(seed), 'etc/kamailio/kamailio.cfg');
    const want = ['kamailio', '-DD', '-E', '-f', cfg, '-m', m, '-M', M];
    expect(kamailioArgv({ tree: tree(seed) })).toEqual(want);
    expect(await readKamailioUnit(tree(seed))).toEqual(want);
    // render --local's "run it" hint, and check's `kamailio -c` (the unit's ExecStartPre, less the memory sizes).
    expect(kamailioTreeArgv({ sharedMb: Number(m), privateMb: Number(M) }, tree(seed))).toEqual(want);
    expect(unit).toContain(`ExecStartPre=/usr/local/sbin/kamailio ${kamailioCheckArgs('/etc/kamailio/kamailio.cfg').join(' ')} -m`);
  });

  it('a unit without ExecStart= is an error, not a default', () => {
    expect(() => kamailioArgvFromUnit('[Service]\nType=simple\n', '/t')).toThrow(/no ExecStart=/);
  });
});
