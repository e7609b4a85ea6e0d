// Runs the real bake scripts against a local root (a prefix directory), as the Packer build would on the
// instance: same scripts, SIPBAKE_ROOT pointing at a directory instead of /.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderImage } from '../../src/render/index.js';
import { placeholderBootInclude } from '../../src/bake/placeholder.js';
import { pinsFile, repoRoot, runScript, type Pin, type RunResult } from './helpers.js';

export const BAKE_SCRIPTS = ['00-base.sh', '10-sources.sh', '20-kamailio.sh', '30-rtpproxy.sh', '40-config.sh', '90-cleanup.sh'];

export interface Rehearsal {
  dir: string;
  root: string;
  tree: string;
  work: string;
  env: Record<string, string>;
  modules: string[];
  cleanup(): Promise<void>;
}

/**
 * A repository-shaped directory with one image definition: `base` from images/ with `edit` applied to its text,
 * so tests can bake a seed with, say, loopback allowed.
 */
export async function imageVariant(dir: string, base: string, name: string, edit: (yaml: string) => string = (s) => s): Promise<string> {
  const text = await readFile(path.join(repoRoot, 'images', `${base}.yaml`), 'utf8');
  await mkdir(path.join(dir, 'images'), { recursive: true });
  await writeFile(path.join(dir, 'images', `${name}.yaml`), edit(text.replace(/^name: .*$/m, `name: ${name}`)));
  return dir;
}

export async function prepareRehearsal(o: { imageRoot: string; image: string; pins: Record<string, Pin>; jobs?: number }): Promise<Rehearsal> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sipbake-rehearsal-'));
  const root = path.join(dir, 'root');
  const tree = path.join(dir, 'upload/tree');
  const work = path.join(dir, 'work');
  await mkdir(root, { recursive: true });
  const r = await renderImage(o.imageRoot, o.image, { out: tree });
  const placeholder = path.join(dir, 'upload/boot-placeholder.cfg');
  await writeFile(placeholder, placeholderBootInclude(r.plan.image, root));
  const pins = path.join(dir, 'pins.env');
  await writeFile(pins, pinsFile(o.pins));
  return {
    dir,
    root,
    tree,
    work,
    modules: r.plan.modules,
    env: {
      SIPBAKE_ROOT: root,
      SIPBAKE_TREE: tree,
      SIPBAKE_PINS: pins,
      SIPBAKE_WORK: work,
      SIPBAKE_BOOT_PLACEHOLDER: placeholder,
      ...(o.jobs ? { SIPBAKE_JOBS: String(o.jobs) } : {}),
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs the scripts in order and stops at the first failure, like Packer's shell provisioner. */
export async function runBake(r: Rehearsal, scripts = BAKE_SCRIPTS): Promise<{ ok: boolean; results: (RunResult & { script: string })[] }> {
  const results: (RunResult & { script: string })[] = [];
  for (const script of scripts) {
    const res = await runScript(script, r.env);
    results.push({ ...res, script });
    if (res.exitCode !== 0) return { ok: false, results };
  }
  return { ok: true, results };
}

export function transcript(res: { results: (RunResult & { script: string })[] }): string {
  return res.results.map((x) => `--- ${x.script} (exit ${x.exitCode})\n${x.output.split('\n').slice(-40).join('\n')}`).join('\n');
}
