// Can the `packer` on PATH bake? `build` and `build --plan` ask before any AWS call: Packer >= 1.8 (`packer init`,
// required_plugins and `packer plugins` came then; Debian's 1.6.6 can only check the template) with the amazon
// plugin installed. Two short queries (`packer version`, `packer plugins installed`), nothing installed.
import { execa } from 'execa';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { AbortError, UserError } from '../core/errors.js';
import { AMAZON_PLUGIN_MIN, PACKER_MIN } from './template.js';

export interface PackerReady {
  /** The binary PATH resolves `packer` to. */
  path: string;
  version: string;
  amazonPlugin: string;
}

/** A Packer that can bake: HashiCorp's build, from their apt repository or the release zip. */
export const INSTALL_PACKER =
  `install HashiCorp's Packer >= ${PACKER_MIN.replace(/\.0$/, '')} and put it first on PATH: their apt repository ` +
  '(https://developer.hashicorp.com/packer/install: add https://apt.releases.hashicorp.com, then `apt-get install packer`) ' +
  'or the release zip (https://releases.hashicorp.com/packer/: unzip `packer` into /usr/local/bin)';

const INSTALL_PLUGIN =
  'run `packer plugins install github.com/hashicorp/amazon`, or `packer init .` where packer-plugins.pkr.hcl is (`npx sipbake packer` writes it); ' +
  'Packer installs plugins under ~/.config/packer/plugins, or PACKER_PLUGIN_PATH when set';

const QUERY_MS = 30_000;

type Version = [number, number, number];

function parseVersion(text: string): Version | undefined {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function atLeast(v: Version, min: string): boolean {
  const m = parseVersion(min) ?? [0, 0, 0];
  for (let i = 0; i < 3; i++) if (v[i] !== m[i]) return (v[i] ?? 0) > (m[i] ?? 0);
  return true;
}

/** Where PATH finds `packer`, as the shell would (first executable match). */
function whichPacker(env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, 'packer');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function query(bin: string, args: string[], env: NodeJS.ProcessEnv, signal: AbortSignal) {
  // Its own process group: a Ctrl-C in the terminal reaches sipbake only, which stops the query itself.
  const r = await execa(bin, args, {
    env: { ...env, CHECKPOINT_DISABLE: '1' },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    detached: true,
    cancelSignal: signal,
    timeout: QUERY_MS,
    all: true,
  });
  if (signal.aborted || r.isCanceled) throw new AbortError('interrupted while checking Packer');
  if (r.timedOut) throw new UserError(`\`${bin} ${args.join(' ')}\` did not answer in ${QUERY_MS / 1000} s`, INSTALL_PACKER);
  return { ok: r.exitCode === 0, text: String(r.all ?? '') };
}

export async function checkPacker(env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<PackerReady> {
  const bin = whichPacker(env);
  if (!bin) throw new UserError('packer is not installed: no `packer` on PATH, and a bake runs Packer', INSTALL_PACKER);
  const v = await query(bin, ['version'], env, signal);
  const version = v.ok ? parseVersion(v.text) : undefined;
  if (!version) {
    throw new UserError(
      `${bin} is not a Packer sipbake can use: \`packer version\` answered ${JSON.stringify(v.text.trim().split('\n', 1)[0] ?? '')}`,
      INSTALL_PACKER,
    );
  }
  const shown = version.join('.');
  if (!atLeast(version, PACKER_MIN)) {
    throw new UserError(
      `${bin} is Packer ${shown}, which cannot bake: the template needs Packer >= ${PACKER_MIN} (packer init and the amazon plugin)` +
        (shown === '1.6.6' ? "; Debian's packer package is 1.6.6" : ''),
      INSTALL_PACKER,
    );
  }
  const p = await query(bin, ['plugins', 'installed'], env, signal);
  const amazon = p.text.split('\n').filter((l) => /github\.com\/hashicorp\/amazon\/packer-plugin-amazon_v/.test(l));
  const versions = amazon.map((l) => parseVersion(/packer-plugin-amazon_v(\d+\.\d+\.\d+)/.exec(l)?.[1] ?? '')).filter((x): x is Version => !!x);
  const usable = versions.filter((x) => atLeast(x, AMAZON_PLUGIN_MIN)).sort((a, b) => (atLeast(a, b.join('.')) ? -1 : 1));
  const best = usable[0];
  if (!p.ok || !best) {
    const found = versions.length ? ` (found ${versions.map((x) => x.join('.')).join(', ')}; the template needs >= ${AMAZON_PLUGIN_MIN})` : '';
    throw new UserError(`Packer ${shown} (${bin}) has no amazon plugin installed${found}: a bake needs github.com/hashicorp/amazon`, INSTALL_PLUGIN);
  }
  return { path: bin, version: shown, amazonPlugin: best.join('.') };
}
