// `sipbake build IMAGE`: validate and render, hash, look the hash up per region, and only when some target
// region lacks it, run Packer (init, build) and read the AMI per region from its manifest.
import { AMI_TAG } from '../contract/tags.js';
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '../core/errors.js';
import type { Reporter } from '../core/reporter.js';
import type { InterruptHooks } from '../core/interrupt.js';
import { withStageEvents } from './progress.js';
import { loadImageOrThrow } from '../definition/load.js';
import { renderDefinition } from '../render/index.js';
import { templateFor } from './generate.js';
import { execaPacker, type PackerRunner } from './packer-run.js';
import { checkPacker } from './packer-check.js';
import { stageOf, uiText } from './machine-readable.js';
import { PLUGINS_FILE, TEMPLATE_FILE } from './template.js';
import { packerVars, varFile } from './vars.js';
import { changedParts, combineParts, contentParts, partsTag, type PartName } from './hash.js';
import { decideBake, targetRegions } from './decide.js';
import { findByContent, latestOfImage, type Ec2ForRegion } from './lookup.js';
import { readManifest } from './manifest.js';
import { parsePins } from './pins.js';
import { bakeProblems, type BakeProblem } from './preflight.js';
import { placeholderBootInclude } from './placeholder.js';
import { need, type BuildState } from './state.js';
import { taskList, type Renderer, type Step } from './tasks.js';

export interface BuildOptions {
  image: string;
  force?: boolean;
  plan?: boolean;
  /** Overrides bake.region. */
  region?: string;
  profile?: string;
}

export interface BuildDeps {
  root: string;
  reporter: Reporter;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  ec2For: Ec2ForRegion;
  renderer: Renderer;
  packer?: PackerRunner;
  /** Where Packer's manifest and its log (packer.log) are kept after the bake (default: .sipbake/IMAGE under root). */
  outDir?: string;
  /** The interrupt path's registry: what Packer left in AWS is reported through it. */
  onInterrupt?: InterruptHooks['onInterrupt'];
  onForcedExit?: InterruptHooks['onForcedExit'];
}

export interface BuildResult {
  image: string;
  contentHash: string;
  parts: Record<PartName, string>;
  regions: string[];
  action: 'skipped' | 'built' | 'planned';
  bake: boolean;
  reasons: string[];
  amis: Record<string, string>;
  /** --plan: how the content differs from the newest AMI of this image in the build region. */
  changedSince?: { imageId: string; builtAt?: string; parts: PartName[] | 'unknown' } | null;
  /** A bake: Packer's manifest and its whole output, kept after the bake. */
  manifest?: string;
  packerLog?: string;
}

const MANIFEST = 'packer-manifest.json';
const PACKER_LOG = 'packer.log';
const VARS = 'sipbake.pkrvars.hcl';

async function gitCommit(root: string): Promise<string> {
  const head = await execa('git', ['rev-parse', 'HEAD'], { cwd: root, reject: false });
  if (head.exitCode !== 0) return 'unknown';
  const dirty = await execa('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, reject: false });
  return `${String(head.stdout).trim()}${String(dirty.stdout).trim() ? '-dirty' : ''}`;
}

function prepareSteps(o: BuildOptions, d: BuildDeps): Step[] {
  return [
    {
      // Before any AWS call, for --plan too: the plan never promises a bake this machine's Packer cannot run.
      title: 'Check Packer',
      run: async (_s, out) => {
        const p = await checkPacker(d.env, d.signal);
        out(`Packer ${p.version} (${p.path}), amazon plugin ${p.amazonPlugin}`);
      },
    },
    {
      title: `Validate and render ${o.image}`,
      run: async (s, out) => {
        const { image } = await loadImageOrThrow(d.root, o.image);
        const r = await renderDefinition(d.root, image, { out: path.join(s.bakeDir, 'tree') });
        const template = await templateFor(d.root);
        await writeFile(path.join(s.bakeDir, TEMPLATE_FILE), template.template);
        await writeFile(path.join(s.bakeDir, PLUGINS_FILE), template.plugins);
        await writeFile(path.join(s.bakeDir, 'boot-placeholder.cfg'), placeholderBootInclude(image));
        s.rendered = { image, modules: r.plan.modules, template };
        out(`${r.plan.modules.length} Kamailio modules: ${r.plan.modules.join(' ')}`);
      },
    },
    {
      title: 'Content hash',
      run: async (s, out) => {
        const r = need(s.rendered, 'Validate and render');
        const parts = await contentParts({
          image: r.image,
          treeDir: path.join(s.bakeDir, 'tree'),
          scriptsDir: path.join(d.root, 'scripts'),
          template: r.template.template,
          plugins: r.template.plugins,
        });
        s.prepared = { ...r, parts, hash: combineParts(parts) };
        out(`content ${s.prepared.hash} (${partsTag(parts)})`);
      },
    },
    {
      title: 'Look up AMIs with this content',
      run: async (s, out) => {
        const p = need(s.prepared, 'Content hash');
        const home = o.region ?? p.image.bake.region;
        const regions = targetRegions(home, p.image.bake.amiRegions);
        const found = await findByContent(d.ec2For, regions, p.image.name, p.hash, d.signal);
        const decision = decideBake({ regions, found, hash: p.hash, force: o.force ?? false });
        const previous = o.plan ? await latestOfImage(d.ec2For(home), p.image.name, d.signal) : undefined;
        s.decided = { ...p, regions, region: regions[0] ?? home, found, decision, ...(previous ? { previous } : {}) };
        out(decision.reasons.at(-1) ?? '');
      },
    },
  ];
}

function packerSteps(o: BuildOptions, d: BuildDeps, packer: PackerRunner, keep: { manifest: string; log: string; region: string }): Step[] {
  const env = { ...d.env, ...(o.profile ? { AWS_PROFILE: o.profile } : {}), CHECKPOINT_DISABLE: '1' };
  const common = {
    env,
    signal: d.signal,
    logFile: keep.log,
    region: keep.region,
    ...(d.onInterrupt ? { onInterrupt: d.onInterrupt } : {}),
  };
  return [
    {
      title: 'packer init',
      run: async (s) => {
        await packer.run(['init', '.'], { cwd: s.bakeDir, ...common });
      },
    },
    {
      title: 'packer build',
      run: async (s, out, title) => {
        // In a terminal, listr2 repaints over plain lines: the interrupt shows in the task's own title.
        const stopping = 'interrupted, Packer is cleaning up (Ctrl-C again to quit at once)';
        d.signal.addEventListener('abort', () => title(`packer build: ${stopping}`), { once: true });
        await packer.run(['build', '-machine-readable', '-color=false', '-on-error=cleanup', `-var-file=${VARS}`, '.'], {
          cwd: s.bakeDir,
          ...common,
          onLine: (l) => {
            const text = uiText(l);
            if (text === undefined) return;
            const stage = stageOf(text);
            d.reporter.event({ event: 'packer', ...(stage ? { stage } : {}), kind: l.data[0] ?? 'say', text });
            if (stage && stage !== s.stages.at(-1)) {
              s.stages.push(stage);
              title(`packer build: ${d.signal.aborted ? `${stopping}: ` : ''}${stage}`);
              d.reporter.line(`packer: ${stage}`, 'debug');
            }
            out((text.split('\n', 1)[0] ?? '').slice(0, 200));
          },
        });
        s.amis = await readManifest(keep.manifest, need(s.prepared, 'Content hash').hash);
      },
    },
  ];
}

function refusal(problems: BakeProblem[]): UserError {
  const [first] = problems;
  if (!first) throw new Error('internal: a refusal needs a problem');
  const what = first.where.startsWith('scripts/pins.env') ? 'scripts/pins.env is not ready for a bake' : `${first.where}: ${first.problem}`;
  return new UserError(`${what}; nothing was launched`, first.fix, {
    details: problems.map((p) => `${p.where}: ${p.problem}; ${p.fix}`),
  });
}

export async function buildImage(o: BuildOptions, d: BuildDeps): Promise<BuildResult> {
  const bakeDir = await mkdtemp(path.join(tmpdir(), 'sipbake-bake-'));
  const s: BuildState = { bakeDir, stages: [] };
  // A second Ctrl-C exits at once, past the finally below: the work directory goes then too.
  const unregister = d.onForcedExit?.(() => rmSync(bakeDir, { recursive: true, force: true }));
  try {
    await taskList(withStageEvents(prepareSteps(o, d), d.reporter), s, d.renderer).run();
    const dd = need(s.decided, 'Look up AMIs with this content');
    const { decision, image } = dd;
    for (const r of decision.reasons) d.reporter.line(r);
    const base = {
      image: image.name,
      contentHash: dd.hash,
      parts: dd.parts,
      regions: dd.regions,
      bake: decision.bake,
      reasons: decision.reasons,
    };

    // The same preflight for build and --plan, and only when something would be baked.
    const problems = decision.bake ? bakeProblems(image, parsePins(await readFile(path.join(d.root, 'scripts/pins.env'), 'utf8'))) : [];

    if (o.plan) {
      const prev = dd.previous;
      const changedSince = prev
        ? {
            imageId: prev.imageId,
            ...(prev.tags[AMI_TAG.builtAt] ? { builtAt: prev.tags[AMI_TAG.builtAt] } : {}),
            parts: changedParts(dd.parts, prev.tags[AMI_TAG.contentParts]),
          }
        : null;
      d.reporter.line(`content hash ${dd.hash}`);
      if (!changedSince) d.reporter.line(`no earlier AMI of ${image.name} in ${dd.region}`);
      else if (changedSince.parts === 'unknown') d.reporter.line(`last AMI ${changedSince.imageId} has no sipbake:content-parts tag; cannot say what changed`);
      else d.reporter.line(`changed since ${changedSince.imageId}: ${changedSince.parts.length ? changedSince.parts.join(', ') : 'nothing'}`);
      if (problems.length) throw refusal(problems);
      d.reporter.line(decision.bake ? 'plan: would run packer init and packer build' : 'plan: would build nothing');
      return { ...base, action: 'planned', amis: decision.present, changedSince };
    }
    if (!decision.bake) {
      for (const [region, ami] of Object.entries(decision.present)) d.reporter.line(`${region}: ${ami}`, 'success');
      return { ...base, action: 'skipped', amis: decision.present };
    }

    if (problems.length) throw refusal(problems);
    // The manifest and Packer's log outlive the work directory; a stale manifest must not be read as this run's.
    const keep = d.outDir ?? path.join(d.root, '.sipbake', image.name);
    await mkdir(keep, { recursive: true });
    const manifest = path.join(keep, MANIFEST);
    const packerLog = path.join(keep, PACKER_LOG);
    await rm(manifest, { force: true });
    await rm(packerLog, { force: true });
    const pins = parsePins(await readFile(path.join(d.root, 'scripts/pins.env'), 'utf8'));
    const vars = packerVars({
      image,
      contentHash: dd.hash,
      contentParts: partsTag(dd.parts),
      kamailioVersion: pins.KAMAILIO_VERSION ?? 'unknown',
      rtpproxyVersion: pins.RTPPROXY_VERSION ?? 'unknown',
      gitCommit: await gitCommit(d.root),
      region: dd.region,
      treeDir: path.join(bakeDir, 'tree'),
      scriptsDir: path.join(d.root, 'scripts'),
      bootPlaceholder: path.join(bakeDir, 'boot-placeholder.cfg'),
      manifestPath: manifest,
    });
    await writeFile(path.join(bakeDir, VARS), varFile(vars));
    await taskList(
      withStageEvents(packerSteps(o, d, d.packer ?? execaPacker, { manifest, log: packerLog, region: dd.region }), d.reporter),
      s,
      d.renderer,
    ).run();
    const amis = need(s.amis, 'packer build');
    for (const [region, ami] of Object.entries(amis)) d.reporter.line(`${region}: ${ami}`, 'success');
    d.reporter.line(`Packer's manifest: ${manifest}; its log: ${packerLog}`);
    return { ...base, action: 'built', amis, manifest, packerLog };
  } finally {
    unregister?.();
    await rm(bakeDir, { recursive: true, force: true });
  }
}
