// npm run bench:bake → bench/bake.json
// 1. Compile time of Kamailio with each image's module set (the rehearsal's 20-kamailio.sh, install included)
//    against a full default build (make cfg && make all && make install, same source, same -j) in the same run.
//    "ratio" is module-set time / full-build time, per image; the top-level ratio is the worst image.
//    Both wall-clock and CPU (user+sys of the children, bash `times`) are recorded; the ratio uses CPU time,
//    which other work on a shared machine does not inflate. Target: <= 0.5 for every image.
// 2. The unchanged-image decision (validate, render, hash, DescribeImages per region; no Packer) against the
//    stateful EC2 fake. Target: < 2 s.
// Source: Debian's kamailio_5.6.3.orig.tar.gz (kamailio.org's 5.6.3 tarball), the rehearsal's stand-in.
import { execa } from 'execa';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildImage } from '../src/bake/index.js';
import { RecordingReporter } from '../src/core/reporter.js';
import { AMI_TAG as TAG } from '../src/contract/tags.js';
import { DEBIAN_KAMAILIO, debianKamailioTarball } from '../test/bake/debian-source.js';
import { buildFixture } from '../test/bake/build-support.js';
import { prepareRehearsal, runBake, transcript } from '../test/bake/rehearse.js';
import { repoRoot } from '../test/bake/helpers.js';

const IMAGES = ['twilio-relay', 'recorder-lb'];
const JOBS = Number(process.env.SIPBAKE_JOBS ?? cpus().length);
const seconds = (ms: number) => Math.round(ms / 10) / 100;

interface Timing {
  seconds: number;
  cpuSeconds: number;
}

/** Runs a bash command line (argv-quoted by the caller) and returns wall and children's CPU time. */
async function timed(script: string, env: NodeJS.ProcessEnv = process.env): Promise<Timing & { output: string; exitCode: number }> {
  const t0 = performance.now();
  const r = await execa('bash', ['-c', `${script}\nstatus=$?\ntimes >&3\nexit $status`], {
    env,
    reject: false,
    all: true,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const ms = performance.now() - t0;
  // `times` prints two lines: the shell's, then its children's "XmY.YYYs XmY.YYYs" (user, sys).
  const lines = String(r.stdio[3] ?? '')
    .trim()
    .split('\n');
  const cpu = (lines[1] ?? '')
    .split(/\s+/)
    .map((t) => /^(\d+)m([\d.]+)s$/.exec(t))
    .reduce((sum, m) => sum + (m ? Number(m[1]) * 60 + Number(m[2]) : 0), 0);
  return {
    seconds: seconds(ms),
    cpuSeconds: Math.round(cpu * 100) / 100,
    output: String(r.all ?? ''),
    exitCode: r.exitCode ?? -1,
  };
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function fullDefaultBuild(tgz: string): Promise<Timing & { modules: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sipbake-bench-full-'));
  try {
    const src = path.join(dir, 'src');
    await mkdir(src);
    await execa('tar', ['-xzf', tgz, '-C', src, '--strip-components=1']);
    const prefix = path.join(dir, 'root/usr/local');
    const t = await timed(`make -C ${q(src)} cfg prefix=${q(prefix)} && make -C ${q(src)} -j${JOBS} all && make -C ${q(src)} install`);
    if (t.exitCode !== 0) throw new Error(t.output.slice(-3000));
    const { stdout } = await execa('bash', ['-c', `ls "${prefix}"/lib64/kamailio/modules/*.so | wc -l`]);
    return { seconds: t.seconds, cpuSeconds: t.cpuSeconds, modules: Number(stdout.trim()) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function moduleSetBuild(tgz: string, image: string): Promise<Timing & { modules: number }> {
  const r = await prepareRehearsal({
    imageRoot: repoRoot,
    image,
    pins: {
      KAMAILIO: {
        source: 'tarball',
        url: `file://${tgz}`,
        sha256: DEBIAN_KAMAILIO.sha256,
        version: DEBIAN_KAMAILIO.version,
      },
      RTPPROXY: { source: 'tarball', url: `file://${tgz}`, sha256: DEBIAN_KAMAILIO.sha256 },
    },
    jobs: JOBS,
  });
  try {
    // Fetch and verify first (not timed), then time the compile script alone.
    const fetched = await runBake(r, ['10-sources.sh']);
    if (!fetched.ok) throw new Error(transcript(fetched));
    const t = await timed(`bash ${q(path.join(repoRoot, 'scripts/20-kamailio.sh'))}`, { ...process.env, ...r.env });
    if (t.exitCode !== 0) throw new Error(t.output.slice(-3000));
    return { seconds: t.seconds, cpuSeconds: t.cpuSeconds, modules: r.modules.length };
  } finally {
    await r.cleanup();
  }
}

async function decisionTime(image: string): Promise<{ ms: number; action: string }> {
  const fx = await buildFixture({ regions: ['us-east-1'] });
  try {
    const run = () =>
      buildImage(
        { image },
        {
          root: fx.root,
          reporter: new RecordingReporter(),
          signal: new AbortController().signal,
          env: fx.env(),
          ec2For: fx.ec2For,
          renderer: 'silent',
        },
      );
    const plan = await buildImage(
      { image, plan: true },
      {
        root: fx.root,
        reporter: new RecordingReporter(),
        signal: new AbortController().signal,
        env: fx.env(),
        ec2For: fx.ec2For,
        renderer: 'silent',
      },
    );
    fx.regions.get('us-east-1')!.fake.addImage({ Tags: { [TAG.image]: image, [TAG.contentHash]: plan.contentHash } });
    await run(); // warm (module loading, esbuild)
    const samples: number[] = [];
    let action = '';
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      action = (await run()).action;
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    return { ms: Math.round(samples[Math.floor(samples.length / 2)]!), action };
  } finally {
    await fx.cleanup();
  }
}

const tgz = await debianKamailioTarball();
console.error(`full default build (-j${JOBS}) ...`);
const full = await fullDefaultBuild(tgz);
console.error(`  ${full.seconds} s wall, ${full.cpuSeconds} s CPU, ${full.modules} modules`);
const images: Record<string, unknown> = {};
let worst = 0;
for (const image of IMAGES) {
  console.error(`${image}: module-set build ...`);
  const m = await moduleSetBuild(tgz, image);
  const ratio = Math.round((m.cpuSeconds / full.cpuSeconds) * 1000) / 1000;
  const wallRatio = Math.round((m.seconds / full.seconds) * 1000) / 1000;
  worst = Math.max(worst, ratio);
  const d = await decisionTime(image);
  images[image] = {
    modules: m.modules,
    compileSeconds: m.seconds,
    compileCpuSeconds: m.cpuSeconds,
    ratio,
    wallRatio,
    ratioTarget: 0.5,
    ratioOk: ratio <= 0.5,
    unchangedDecisionMs: d.ms,
    decisionAction: d.action,
    decisionTargetMs: 2000,
    decisionOk: d.ms < 2000,
  };
  console.error(
    `  ${m.seconds} s wall, ${m.cpuSeconds} s CPU for ${m.modules} modules (ratio ${ratio}, wall ${wallRatio}); unchanged decision ${d.ms} ms (${d.action})`,
  );
}
const out = {
  generatedAt: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', jobs: JOBS },
  source: `Debian kamailio_${DEBIAN_KAMAILIO.version}.orig.tar.gz (kamailio.org ${DEBIAN_KAMAILIO.version} tarball; sha256 ${DEBIAN_KAMAILIO.sha256})`,
  fullDefaultBuild: full,
  ratio: worst,
  ratioTarget: 0.5,
  images,
  loadAverage: loadavg(),
  notes:
    'ratio = CPU seconds (user+sys of make and the compilers) of the module-set build / the full default build; wall-clock times are shared-machine dependent; compile times include make install; the module-set time is 20-kamailio.sh (make cfg with group_include + include_modules, make all, make install); decision is the median of 5 runs of sipbake build on an unchanged image against the stateful EC2 fake (validate, render, hash, DescribeImages)',
};
await writeFile(path.join(repoRoot, 'bench/bake.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out, null, 2));
