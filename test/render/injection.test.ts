import { describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { loadImage } from '../../src/definition/load.js';
import { planImage } from '../../src/render/index.js';
import { UserError } from '../../src/core/errors.js';
import { repoRoot } from './fixtures.js';
import { BASES, PAYLOADS, runMatrix, summarise, type Cell } from './injection-matrix.js';

// Issue 11 item 5: every string field × hostile payloads. Each cell is refused by validate at that
// field, or rendered so that each file differs from the clean render only by the value in its own
// escaped form and the dispatcher list holds exactly the intended rows. Never a crash (exit 70).
// The live half (injection.live.test.ts) runs the accepted cells through kamailio -c and PostgreSQL.

const deps = {
  loadImage: loadImage as never,
  planImage: planImage as never,
  isUserError: (e: unknown) => e instanceof UserError,
  repoRoot,
};
const show = (c: Cell) => `${c.base} ${c.path.join('.')} + ${c.payload}: ${c.outcome} ${c.detail}`;

describe('injection matrix', () => {
  let cells: Cell[] = [];

  it('covers every string field with every payload', { timeout: 120_000 }, async () => {
    cells = await runMatrix(deps);
    const s = summarise(cells);
    expect(s.fields).toBeGreaterThanOrEqual(55);
    expect(s.cells).toBe(s.fields * Object.keys(PAYLOADS).length);
    // Fields that reach Kamailio, the dispatcher list, SQL or systemd are all present.
    const fields = new Set(cells.map((c) => c.path.join('.')));
    for (const f of [
      'dispatcher.destinations.0.host',
      'dispatcher.destinations.0.attrs.duid',
      'dispatcher.destinations.0.attrs.socket',
      'dispatcher.destinations.0.description',
      'dispatcher.backend.database',
      'dispatcher.backend.user',
      'dispatcher.backend.host',
      'relay.destination.domain',
      'drain.newInvites.reason',
      'dispatcher.probing.from',
      'tls.certificate',
      'tls.privateKey',
      'media.rtpproxy.controlSocket',
      'description',
      'name',
    ]) {
      expect(fields, f).toContain(f);
    }
  });

  it('never crashes render, and nothing is injected', () => {
    expect(cells.filter((c) => c.outcome === 'crash').map(show)).toEqual([]);
    expect(cells.filter((c) => c.outcome === 'injected').map(show)).toEqual([]);
  });

  it('refuses at validate, naming the field, or renders escaped; nothing is refused only at render', () => {
    expect(cells.filter((c) => c.outcome === 'refused-elsewhere' || c.outcome === 'render-refused').map(show)).toEqual([]);
    // Line breaks, NUL and bad bytes never get through anywhere.
    const hard = ['newline', 'CR LF', 'hash-bang', 'NUL', 'non-UTF-8'];
    expect(cells.filter((c) => hard.includes(c.payload) && c.outcome !== 'refused').map(show)).toEqual([]);
    // Whatever reaches a dispatcher destination, a Kamailio string or SQL identifier is refused outright.
    const strict = [
      'dispatcher.destinations.0.host',
      'dispatcher.destinations.0.attrs.duid',
      'dispatcher.destinations.0.attrs.socket',
      'relay.destination.domain',
      'dispatcher.backend.database',
      'dispatcher.backend.user',
      'media.rtpproxy.controlSocket',
    ];
    expect(cells.filter((c) => strict.includes(c.path.join('.')) && c.outcome !== 'refused').map(show)).toEqual([]);
  });
});

describe('through the CLI', () => {
  it('`sipbake render` exits 0 or 1 for every payload in the fields that reach Kamailio, the list and SQL: never 70', { timeout: 120_000 }, async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'sipbake-inject-cli-'));
    const codes: Record<string, number> = {};
    try {
      await mkdir(path.join(root, 'images'));
      const base = parse(BASES['dispatcher-postgres']!) as Record<string, Record<string, unknown>>;
      const fields: [string, (d: typeof base, v: string) => void][] = [
        ['host', (d, v) => ((d.dispatcher!.destinations as Record<string, unknown>[])[0]!.host = `10.0.0.3${v}`)],
        ['description', (d, v) => ((d.dispatcher!.destinations as Record<string, unknown>[])[0]!.description = `recorder0${v}`)],
        ['database', (d, v) => ((d.dispatcher!.backend as Record<string, unknown>).database = `kamailio${v}`)],
        ['reason', (d, v) => (d.drain = { newInvites: { reason: `Draining${v}` } })],
      ];
      for (const [field, set] of fields) {
        for (const [pname, payload] of Object.entries(PAYLOADS)) {
          if (pname === 'non-UTF-8') continue; // covered by the matrix through files; YAML text here
          const d = structuredClone(base);
          set(d, payload);
          await writeFile(path.join(root, 'images', 'img.yaml'), stringify(d));
          const out = path.join(root, 'out', `${field}-${pname.replace(/\W/g, '')}`);
          codes[`${field}+${pname}`] = await main(['render', 'img', '--out', out, '--root', root], {
            reporter: new RecordingReporter(),
            env: {},
          });
        }
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
    expect(Object.entries(codes).filter(([, c]) => c !== 0 && c !== 1)).toEqual([]);
    expect(Object.values(codes).filter((c) => c === 1).length).toBeGreaterThan(30); // most are refused at validate
  });
});
