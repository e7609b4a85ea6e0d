// Debian's Kamailio source tarball, the rehearsal's stand-in for the pinned upstream source.
// kamailio_5.6.3.orig.tar.gz is kamailio.org's kamailio-5.6.3_src.tar.gz unmodified; its sha256 comes from
// Debian's signed .dsc. Fetched once with apt (deb-src) and cached under .cache/ (gitignored), never committed.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot, sha256File } from './helpers.js';

export const DEBIAN_KAMAILIO = {
  version: '5.6.3',
  file: 'kamailio_5.6.3.orig.tar.gz',
  sha256: '2a45e561895f38e933993662dd67f60c6821efc1ba6e50b4559e152c22ff4526',
};

const cacheDir = path.join(repoRoot, '.cache/bake');
const SRC_LIST = '/etc/apt/sources.list.d/sipbake-deb-src.sources';

async function ensureDebSrc(): Promise<void> {
  const { stdout } = await execa('bash', ['-c', 'grep -rhs "^Types:.*deb-src\\|^deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/ || true']);
  if (stdout.trim()) return;
  // Same archive and suites as the machine's own Debian sources, for source packages.
  const main = await readFile('/etc/apt/sources.list.d/debian.sources', 'utf8').catch(() => '');
  const uri = /URIs:\s*(\S+)/.exec(main)?.[1] ?? 'http://deb.debian.org/debian';
  await writeFile(
    SRC_LIST,
    `Types: deb-src\nURIs: ${uri}\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
  );
  await execa('apt-get', ['update', '-q']);
}

/** Path of the verified tarball; downloads it with `apt-get source --download-only kamailio` when missing. */
export async function debianKamailioTarball(): Promise<string> {
  const file = path.join(cacheDir, DEBIAN_KAMAILIO.file);
  if (!existsSync(file)) {
    await mkdir(cacheDir, { recursive: true });
    await ensureDebSrc();
    const tmp = path.join(cacheDir, 'apt-source');
    await mkdir(tmp, { recursive: true });
    await execa('apt-get', ['source', '--download-only', `kamailio=${DEBIAN_KAMAILIO.version}-2`], { cwd: tmp }).catch(() =>
      execa('apt-get', ['source', '--download-only', 'kamailio'], { cwd: tmp }),
    );
    await rename(path.join(tmp, DEBIAN_KAMAILIO.file), file);
  }
  const actual = await sha256File(file);
  if (actual !== DEBIAN_KAMAILIO.sha256) throw new Error(`${file}: sha256 ${actual}, expected ${DEBIAN_KAMAILIO.sha256} (from Debian's .dsc)`);
  return file;
}
