// Where .ci/upstream.sh takes the pinned Kamailio and RTPProxy from (issue 20): the archives in ../shared/upstream
// when they are there (CI), else the pinned git sources when this machine reaches them (a user's clone with
// network), else none: the live tests then run Debian's Kamailio and the Node RTPProxy stand-in, and setup says so
// in one line. The choice is pure (chooseSource); the probe (`git ls-remote` of each pinned tag) is the effect.
// Run by .ci/upstream.sh: `tsx src/bake/local/upstream-source.ts ARCHIVES_DIR PINS_FILE [DEBIAN_KAMAILIO]` prints
// `source=…` and `line=…` as shell assignments.
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePins, type Pins } from '../pins.js';

export interface GitPin {
  name: 'KAMAILIO' | 'RTPPROXY';
  version: string;
  url: string;
  tag: string;
  commit: string;
}

export type Source = 'archives' | 'git' | 'none';

/** The git pins of the two sources (a tarball pin has none: only the archives can stand in for it). */
export function gitPins(p: Pins): GitPin[] {
  return (['KAMAILIO', 'RTPPROXY'] as const).flatMap((name) => {
    const url = p[`${name}_GIT_URL`];
    const tag = p[`${name}_GIT_TAG`];
    if (p[`${name}_SOURCE`] !== 'git' || !url || !tag) return [];
    return [{ name, version: p[`${name}_VERSION`] ?? '?', url, tag, commit: p[`${name}_GIT_COMMIT`] ?? '' }];
  });
}

export interface SourceInputs {
  archivesDir: string;
  /** archivesDir/SHA256SUMS exists. */
  archives: boolean;
  pins: GitPin[];
  /** Per pin name: `git ls-remote` found its tag (absent: not probed). */
  reachable: Partial<Record<GitPin['name'], boolean>>;
  /** Debian's Kamailio version on this machine, if any. */
  debianKamailio?: string;
}

/** Does the choice need the probe? Only when there are no archives and both sources are git pins. */
export const needsProbe = (i: Pick<SourceInputs, 'archives' | 'pins'>): boolean => !i.archives && i.pins.length === 2;

const short = (u: string): string => u.replace(/^[a-z+]+:\/\//, '').replace(/\.git$/, '');

export function chooseSource(i: SourceInputs): { source: Source; line: string } {
  if (i.archives) return { source: 'archives', line: `==> pinned sources: the archives in ${i.archivesDir}` };
  const pinned = i.pins.map((p) => `${p.name === 'KAMAILIO' ? 'Kamailio' : 'RTPProxy'} ${p.version}`).join(', ');
  if (i.pins.length === 2 && i.pins.every((p) => i.reachable[p.name]))
    return {
      source: 'git',
      line: `==> pinned sources: no archives at ${i.archivesDir}; compiling ${i.pins.map((p) => `${p.name === 'KAMAILIO' ? 'Kamailio' : 'RTPProxy'} ${p.version} (${p.commit.slice(0, 12)})`).join(' and ')} from the pinned git sources`,
    };
  const why =
    i.pins.length < 2
      ? 'scripts/pins.env pins a tarball, which only the archives provide'
      : `${i.pins
          .filter((p) => !i.reachable[p.name])
          .map((p) => short(p.url))
          .join(' and ')} not reachable`;
  const kamailio = i.debianKamailio ? `Debian's Kamailio ${i.debianKamailio}` : "this machine's kamailio (none found)";
  return {
    source: 'none',
    line: `==> pinned sources: no archives at ${i.archivesDir} and ${why}; the live tests keep ${kamailio} and the Node RTPProxy stand-in, not the pinned ${pinned || 'sources'}`,
  };
}

/** `git ls-remote` of the pinned tag, bounded, never prompting for credentials. */
async function probe(p: GitPin): Promise<boolean> {
  const r = await execa('git', ['ls-remote', '--exit-code', p.url, `refs/tags/${p.tag}`], {
    reject: false,
    timeout: 20_000,
    env: { GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '/bin/true' },
    stdin: 'ignore',
  });
  return r.exitCode === 0;
}

const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

async function main(archivesDir: string, pinsFile: string, debianKamailio: string | undefined): Promise<void> {
  const pins = gitPins(parsePins(readFileSync(pinsFile, 'utf8')));
  const archives = existsSync(path.join(archivesDir, 'SHA256SUMS'));
  const reachable: SourceInputs['reachable'] = {};
  if (needsProbe({ archives, pins })) for (const p of pins) reachable[p.name] = await probe(p);
  const c = chooseSource({ archivesDir, archives, pins, reachable, ...(debianKamailio ? { debianKamailio } : {}) });
  console.log(`source=${c.source}\nline=${sh(c.line)}`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const [dir, pins, deb] = process.argv.slice(2);
  if (!dir || !pins) {
    console.error('usage: tsx src/bake/local/upstream-source.ts ARCHIVES_DIR PINS_FILE [DEBIAN_KAMAILIO_VERSION]');
    process.exit(2);
  }
  await main(dir, pins, deb);
}
