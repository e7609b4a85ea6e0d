import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { loadImage } from '../../src/definition/load.js';
import { planImage, renderImage } from '../../src/render/index.js';
import { UserError } from '../../src/core/errors.js';
import { kamailioCheck } from '../../src/check/kamailio-check.js';
import { readKamailioUnit } from '../../src/contract/kamailio-args.js';
import { dispatcherRows } from '../../src/render/dispatcher.js';
import type { ImageDefinition } from '../../src/definition/schema.js';
import { freePort } from '../../src/try/ports.js';
import { startPostgres, type Postgres } from '../support/postgres.js';
import { repoRoot } from './fixtures.js';
import { runMatrix, type Cell } from './injection-matrix.js';

// The accepted cells of the injection matrix, run through what really reads the files: `kamailio -c`
// on every tree whose kamailio.cfg or dispatcher.list the payload changed, the dispatcher SQL on a
// real PostgreSQL (the table must hold exactly the intended rows, byte for byte), and a real
// Kamailio loading a dispatcher.list whose descriptions carry every accepted payload.

const deps = {
  loadImage: loadImage as never,
  planImage: planImage as never,
  isUserError: (e: unknown) => e instanceof UserError,
  repoRoot,
};
let cells: Cell[] = [];
let work: string;

beforeAll(async () => {
  cells = (await runMatrix(deps)).filter((c) => c.outcome === 'escaped');
  work = await mkdtemp(path.join(os.tmpdir(), 'sipbake-inject-live-'));
  await chmod(work, 0o755); // psql runs as postgres and reads the SQL from here
}, 120_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function tree(c: Cell, i: number): Promise<string> {
  const root = path.join(work, `cell${i}`);
  await mkdir(path.join(root, 'images'), { recursive: true });
  await writeFile(path.join(root, 'images', 'img.yaml'), c.yaml!);
  const out = path.join(root, 'tree');
  await renderImage(root, 'img', { out, local: { privateIp: '127.0.0.1', publicIp: '127.0.0.1' } });
  return out;
}

describe('accepted payloads, as Kamailio and PostgreSQL read them', () => {
  it('kamailio -c passes on every tree whose config or dispatcher list a payload changed', async () => {
    const kam = cells.filter((c) => c.changed!.some((f) => f === 'etc/kamailio/kamailio.cfg' || f === 'etc/kamailio/dispatcher.list'));
    expect(kam.length).toBeGreaterThan(5); // reasons, SIP URIs with parameters, descriptions in the list
    const failed: string[] = [];
    for (const [i, c] of kam.entries()) {
      const out = await tree(c, i);
      const r = await kamailioCheck(path.join(out, 'etc/kamailio/kamailio.cfg'));
      if (!r.ok) failed.push(`${c.base} ${c.path.join('.')} + ${c.payload}: ${r.errors.join(' | ')}`);
    }
    expect(failed).toEqual([]);
  });

  describe('on PostgreSQL', () => {
    let pg: Postgres;
    beforeAll(async () => {
      pg = await startPostgres();
      await pg.createUserDb('kamailio', 'pw', 'kamailio');
    }, 60_000);
    afterAll(async () => pg?.stop());

    it('the dispatcher table holds exactly the intended rows for every payload that reaches the SQL', async () => {
      const sqlCells = cells.filter((c) => c.changed!.includes('usr/share/sipbake/dispatcher.sql'));
      expect(sqlCells.length).toBeGreaterThanOrEqual(7); // every accepted description payload
      for (const [i, c] of sqlCells.entries()) {
        const file = path.join(work, `cell-sql-${i}.sql`);
        await writeFile(file, c.files!.get('usr/share/sipbake/dispatcher.sql')!, { mode: 0o644 });
        await pg.psql(['-f', file], 'kamailio');
        const json = await pg.psql(
          [
            '-A',
            '-t',
            '-c',
            "SELECT coalesce(json_agg(json_build_array(setid, destination, flags, priority, attrs, description) ORDER BY id), '[]') FROM dispatcher",
          ],
          'kamailio',
        );
        const got = JSON.parse(json.trim()) as unknown[];
        const want = dispatcherRows(c.image as ImageDefinition).map((r) => [r.setId, r.uri, r.flags, r.priority, r.attrs, r.description]);
        expect(got, `${c.path.join('.')} + ${c.payload}`).toEqual(want);
        // No other table appeared.
        const tables = await pg.psql(
          ['-A', '-t', '-c', "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"],
          'kamailio',
        );
        expect(tables.trim()).toBe('dispatcher,version');
      }
    });
  });

  it('a real Kamailio loads exactly the intended destinations when every description carries a payload', async () => {
    const payloads = [
      ...new Set(cells.filter((c) => c.base === 'dispatcher-file' && c.path.join('.') === 'dispatcher.destinations.0.description').map((c) => c.value)),
    ];
    expect(payloads.length).toBeGreaterThanOrEqual(7);
    const port = await freePort('127.0.0.1');
    const destinations = payloads.map((d, i) => ({
      host: `127.0.0.${60 + i}`,
      port: 5090,
      transport: 'udp',
      description: d,
    }));
    const root = path.join(work, 'load');
    await mkdir(path.join(root, 'images'), { recursive: true });
    const def = {
      name: 'img',
      listen: { udp: port },
      dispatcher: { destinations, probing: { mode: 0 } },
      antiflood: { enabled: false },
      drain: { healthCheck: { port: await freePort('127.0.0.1') } },
    };
    await writeFile(path.join(root, 'images', 'img.yaml'), JSON.stringify(def));
    const out = path.join(root, 'tree');
    await renderImage(root, 'img', { out, local: { privateIp: '127.0.0.1', publicIp: '127.0.0.1' } });
    const sock = `unix:${out}/run/kamailio/kamailio_ctl`;
    // The image unit's own command line (the definition's default memory), as on an instance.
    const [kamBin = 'kamailio', ...kamArgs] = await readKamailioUnit(out);
    const kam = execa(kamBin, kamArgs, { reject: false, all: true });
    try {
      let listing = '';
      for (let i = 0; i < 75 && !listing; i++) {
        const r = await execa('kamcmd', ['-s', sock, 'dispatcher.list'], { reject: false, timeout: 2000 });
        if (r.exitCode === 0) listing = r.stdout;
        else await new Promise((res) => setTimeout(res, 200));
      }
      const uris = [...listing.matchAll(/URI: (\S+)/g)].map((m) => m[1]);
      expect(uris.sort()).toEqual(destinations.map((d) => `sip:${d.host}:5090;transport=udp`).sort());
      expect(listing).not.toContain('attacker');
    } finally {
      kam.kill('SIGTERM');
      const t = setTimeout(() => kam.kill('SIGKILL'), 5000);
      await kam;
      clearTimeout(t);
    }
    expect(await readFile(path.join(out, 'etc/kamailio/dispatcher.list'), 'utf8')).toContain('# recorder0$(ru)');
  });
});
