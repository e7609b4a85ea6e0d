// Where .ci/upstream.sh takes the pinned sources from when ../shared/upstream is absent (issue 20): the pinned git
// sources if reachable, else one line and Debian's Kamailio with the stand-in. The choice is pure; the probe and
// the one line are checked against local git repositories (file:// URLs: nothing leaves this machine).
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePins } from '../../src/bake/pins.js';
import { chooseSource, gitPins, needsProbe, type GitPin } from '../../src/bake/local/upstream-source.js';
import { repoRoot } from './helpers.js';

const K: GitPin = {
  name: 'KAMAILIO',
  version: '5.5.7',
  url: 'https://github.com/kamailio/kamailio.git',
  tag: '5.5.7',
  commit: '43eb13442166e1293b2188aa410173de9f9837fb',
};
const R: GitPin = {
  name: 'RTPPROXY',
  version: '3.2.0',
  url: 'https://github.com/sippy/rtpproxy.git',
  tag: 'v3.2.0',
  commit: 'b26b09b32481e4cb6350075a73784bc1a2503ca0',
};

describe('choosing the pinned sources', () => {
  it('the archives when they are there, without probing git', () => {
    expect(needsProbe({ archives: true, pins: [K, R] })).toBe(false);
    expect(chooseSource({ archivesDir: '/s', archives: true, pins: [K, R], reachable: {} }).source).toBe('archives');
  });

  it('no archives, both pinned tags reachable: the git sources, named by version and commit', () => {
    expect(needsProbe({ archives: false, pins: [K, R] })).toBe(true);
    const c = chooseSource({ archivesDir: '/s', archives: false, pins: [K, R], reachable: { KAMAILIO: true, RTPPROXY: true } });
    expect(c).toEqual({
      source: 'git',
      line: '==> pinned sources: no archives at /s; compiling Kamailio 5.5.7 (43eb13442166) and RTPProxy 3.2.0 (b26b09b32481) from the pinned git sources',
    });
  });

  it('no archives, one tag out of reach: none, saying which and what the tests keep', () => {
    const c = chooseSource({ archivesDir: '/s', archives: false, pins: [K, R], reachable: { KAMAILIO: true, RTPPROXY: false }, debianKamailio: '5.6.3' });
    expect(c.source).toBe('none');
    expect(c.line).toBe(
      "==> pinned sources: no archives at /s and github.com/sippy/rtpproxy not reachable; the live tests keep Debian's Kamailio 5.6.3 and the Node RTPProxy stand-in, not the pinned Kamailio 5.5.7, RTPProxy 3.2.0",
    );
  });

  it('a tarball pin without archives: none, without probing', () => {
    const pins = gitPins(
      parsePins(
        'KAMAILIO_VERSION=5.5.7\nKAMAILIO_SOURCE=tarball\nKAMAILIO_TARBALL_URL=https://x/k.tgz\n' +
          `RTPPROXY_VERSION=3.2.0\nRTPPROXY_SOURCE=git\nRTPPROXY_GIT_URL=${R.url}\nRTPPROXY_GIT_TAG=v3.2.0\n`,
      ),
    );
    expect(pins.map((p) => p.name)).toEqual(['RTPPROXY']);
    expect(needsProbe({ archives: false, pins })).toBe(false);
    expect(chooseSource({ archivesDir: '/s', archives: false, pins, reachable: {} }).line).toMatch(
      /pins a tarball, which only the archives provide; .* stand-in/,
    );
  });

  it("the bake's own pins are git pins of both sources", async () => {
    expect(gitPins(parsePins(await readFile(path.join(repoRoot, 'scripts/pins.env'), 'utf8'))).map((p) => [p.name, p.tag])).toEqual([
      ['KAMAILIO', '5.5.7'],
      ['RTPPROXY', 'v3.2.0'],
    ]);
  });
});

describe('.ci/upstream.sh without ../shared/upstream', () => {
  let dir: string;
  const pinsFile = (k: string, r: string) =>
    `KAMAILIO_VERSION=5.5.7\nKAMAILIO_SOURCE=git\nKAMAILIO_GIT_URL=${k}\nKAMAILIO_GIT_TAG=5.5.7\nKAMAILIO_GIT_COMMIT=${K.commit}\n` +
    `RTPPROXY_VERSION=3.2.0\nRTPPROXY_SOURCE=git\nRTPPROXY_GIT_URL=${r}\nRTPPROXY_GIT_TAG=v3.2.0\nRTPPROXY_GIT_COMMIT=${R.commit}\n`;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sipbake-upstream-source-'));
    // Two local repositories carrying the pinned tags: "reachable" without leaving the machine.
    for (const [repo, tag] of [
      ['k', '5.5.7'],
      ['r', 'v3.2.0'],
    ] as const) {
      const at = path.join(dir, repo);
      const git = (...a: string[]) => execa('git', ['-C', at, '-c', 'user.email=t@t', '-c', 'user.name=t', ...a]);
      await execa('git', ['init', '-q', at]);
      await git('commit', '-q', '--allow-empty', '-m', 'x');
      await git('tag', tag);
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('pinned sources out of reach: exactly one line, exit 0, nothing compiled', async () => {
    await writeFile(path.join(dir, 'gone.env'), pinsFile(`file://${dir}/absent-k`, `file://${dir}/absent-r`));
    const r = await execa('bash', ['.ci/upstream.sh'], {
      cwd: repoRoot,
      reject: false,
      env: {
        SIPBAKE_SHARED_UPSTREAM: path.join(dir, 'no-shared'),
        SIPBAKE_UPSTREAM_PINS: path.join(dir, 'gone.env'),
        SIPBAKE_UPSTREAM_CACHE: path.join(dir, 'cache'),
      },
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(
      /^==> pinned sources: no archives at .*no-shared and .*absent-k and .*absent-r not reachable; the live tests keep .* and the Node RTPProxy stand-in/,
    );
    expect(r.stderr).toBe('');
  }, 60_000);

  it('pinned tags reachable: git is chosen (the probe, on local repositories)', async () => {
    await writeFile(path.join(dir, 'here.env'), pinsFile(`file://${dir}/k`, `file://${dir}/r`));
    const r = await execa('npx', ['--no-install', 'tsx', 'src/bake/local/upstream-source.ts', path.join(dir, 'no-shared'), path.join(dir, 'here.env')], {
      cwd: repoRoot,
    });
    expect(r.stdout.split('\n')[0]).toBe('source=git');
  }, 60_000);
});
