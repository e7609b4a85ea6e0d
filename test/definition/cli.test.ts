import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { DISPATCHER, RELAY, testdir } from './testdir.js';

// `sipbake validate` in-process: exit codes, one line per error in the contract format, --json.

const GOOD = RELAY.replace('name: img', 'name: good');
const BAD = RELAY.replace('name: img', 'name: bad').replace('udp: 5060', 'udp: 99999') + 'tcp:\n  keepaliveIdel: 30\n';
const dirs: { cleanup: () => Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => d.cleanup()));
});

async function run(files: Record<string, string>, args: string[]) {
  const d = await testdir(files);
  dirs.push(d);
  const reporter = new RecordingReporter(args.includes('--json'));
  const code = await main(['validate', ...args], { reporter, cwd: d.root, env: {} });
  return { code, reporter, root: d.root };
}

describe('sipbake validate', () => {
  it('exits 0 and prints "ok" for every valid image when none is named', async () => {
    const { code, reporter } = await run({ 'good.yaml': GOOD, 'disp.yaml': DISPATCHER.replace('name: img', 'name: disp') }, []);
    expect(code).toBe(0);
    expect(reporter.lines.map((l) => l.message)).toEqual(['images/disp.yaml: ok', 'images/good.yaml: ok']);
  });

  it('exits 1 and prints every error, one per line, as FILE:LINE:COL FIELD: what; fix', async () => {
    const { code, reporter } = await run({ 'good.yaml': GOOD, 'bad.yaml': BAD }, []);
    expect(code).toBe(1);
    const text = reporter.text();
    expect(text).toContain('images/bad.yaml:3:8 listen.udp: must be an integer from 1 to 65535 (got 99999); use a port number from 1 to 65535');
    expect(text).toContain(`images/bad.yaml:7:3 tcp.keepaliveIdel: unknown field 'keepaliveIdel'; did you mean 'keepaliveIdle'?`);
    expect(text).toContain('images/good.yaml: ok');
    const issueLines = reporter.lines.filter((l) => l.message.startsWith('images/bad.yaml:'));
    expect(issueLines).toHaveLength(2);
  });

  it('validates only the images named, by name or by path', async () => {
    const byName = await run({ 'good.yaml': GOOD, 'bad.yaml': BAD }, ['good']);
    expect(byName.code).toBe(0);
    const byPath = await run({ 'good.yaml': GOOD, 'bad.yaml': BAD }, ['images/bad.yaml']);
    expect(byPath.code).toBe(1);
    expect(byPath.reporter.text()).toContain('images/bad.yaml:3:8 listen.udp:');
    expect(byPath.reporter.text()).not.toContain('good');
  });

  it('reports an image that does not exist, naming the ones that do', async () => {
    const { code, reporter } = await run({ 'good.yaml': GOOD }, ['godo']);
    expect(code).toBe(1);
    expect(reporter.text()).toContain('images/godo.yaml:1:1 (root): no such image definition (got "godo"); create images/godo.yaml, or name one of: good');
  });

  it('exits 1 when there is nothing to validate', async () => {
    const { code, reporter } = await run({}, []);
    expect(code).toBe(1);
    expect(reporter.text()).toContain('no image definitions under');
  });

  it('--json prints one document with every issue', async () => {
    const { code, reporter } = await run({ 'good.yaml': GOOD, 'bad.yaml': BAD }, ['--json']);
    expect(code).toBe(1);
    expect(reporter.results).toHaveLength(1);
    expect(reporter.results[0]).toEqual({
      ok: false,
      images: [
        {
          file: 'images/bad.yaml',
          ok: false,
          issues: [
            {
              file: 'images/bad.yaml',
              line: 3,
              col: 8,
              path: 'listen.udp',
              message: 'must be an integer from 1 to 65535',
              got: '99999',
              fix: 'use a port number from 1 to 65535',
            },
            {
              file: 'images/bad.yaml',
              line: 7,
              col: 3,
              path: 'tcp.keepaliveIdel',
              message: "unknown field 'keepaliveIdel'",
              got: null,
              fix: "did you mean 'keepaliveIdle'?",
            },
          ],
          warnings: [],
        },
        { file: 'images/good.yaml', ok: true, issues: [], warnings: [] },
      ],
    });
  });

  it('--json is ok:true when all are valid', async () => {
    const { code, reporter } = await run({ 'good.yaml': GOOD }, ['--json']);
    expect(code).toBe(0);
    expect(reporter.results).toEqual([{ ok: true, images: [{ file: 'images/good.yaml', ok: true, issues: [], warnings: [] }] }]);
  });

  it('warns, and still exits 0, when a dispatcher destination is a DNS name (Kamailio drops one that does not resolve at start)', async () => {
    const named = DISPATCHER.replace('name: img', 'name: named').replace('host: 10.0.0.4', 'host: rec1.example.com');
    const { code, reporter } = await run({ 'named.yaml': named }, []);
    expect(code).toBe(0);
    expect(reporter.lines.map((l) => l.message)).toEqual([
      'images/named.yaml: ok (1 warning)',
      'images/named.yaml:7:15 dispatcher.destinations.1.host: is a DNS name: Kamailio resolves it once at start-up, and if it does not resolve then, drops this destination without failing (pack_dest(): could not resolve) (got "rec1.example.com"); use the recorder\'s IP address, or make sure the name resolves from the instance at boot',
    ]);
    expect(reporter.lines[1]?.level).toBe('warn');
    const json = await run({ 'named.yaml': named }, ['--json']);
    expect((json.reporter.results[0] as { images: { warnings: { path: string }[] }[] }).images[0]?.warnings.map((w) => w.path)).toEqual([
      'dispatcher.destinations.1.host',
    ]);
  });
});
