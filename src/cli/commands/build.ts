import { existsSync } from 'node:fs';
import path from 'node:path';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { defineCommand } from '../command.js';
import { UsageError, UserError } from '../../core/errors.js';
import { scriptsFix } from '../repository.js';
import { EXIT } from '../exit-codes.js';

export default defineCommand({
  command: 'build <image>',
  describe: 'Bake the golden AMI with Packer (skips when an AMI of the same content exists in every target region)',
  builder: (y) =>
    y
      .positional('image', {
        type: 'string',
        demandOption: true,
        describe: 'Image name under images/, or a path to its YAML',
      })
      .option('force', { type: 'boolean', default: false, describe: 'Bake even when an AMI of this content exists' })
      .option('plan', {
        type: 'boolean',
        default: false,
        describe: 'Change nothing, run no Packer: print the hash, the decision and what changed',
      })
      .option('detailed-exitcode', {
        type: 'boolean',
        default: false,
        describe: 'With --plan: exit 0 when nothing would be baked, 3 when a bake would run',
      })
      .option('out-dir', {
        type: 'string',
        describe: "Where Packer's manifest and log (packer.log) are kept (default: .sipbake/IMAGE in the repository)",
      })
      .option('local', {
        type: 'boolean',
        default: false,
        describe: 'No AWS: bake the root filesystem the AMI would hold on this machine (debootstrap + the same scripts, as root)',
      })
      .option('out', { type: 'string', describe: 'With --local: the bake directory (root in DIR/root; default /var/cache/sipbake/local/IMAGE)' })
      .option('sources', { type: 'string', describe: 'With --local: the pinned sources as archives + SHA256SUMS (default ../shared/upstream)' })
      .option('jobs', { type: 'number', describe: 'With --local: parallel make jobs for the compiles (default 2)' })
      .option('profile', { type: 'string', describe: 'AWS profile (default credential chain otherwise)' })
      .option('region', { type: 'string', describe: 'Build region (default: bake.region of the image)' })
      .check((a) => {
        if (a['detailed-exitcode'] && !a.plan) throw new UsageError('--detailed-exitcode goes with --plan');
        if (a.local && (a.plan || a.region || a.profile || a['out-dir']))
          throw new UsageError('--local bakes on this machine: --plan, --region, --profile and --out-dir are for AMI bakes');
        for (const k of ['out', 'sources', 'jobs'] as const) if (a[k] !== undefined && !a.local) throw new UsageError(`--${k} goes with --local`);
        return true;
      })
      .example('$0 build twilio-relay', 'bake, or print the existing AMI when nothing changed')
      .example('sudo $0 build twilio-relay --local', 'no AWS: the same root the AMI would hold, under /var/cache/sipbake/local/twilio-relay')
      .example('$0 build recorder-lb --plan --detailed-exitcode', 'show the content hash and what changed; exit 3 when a bake would run')
      .example(
        'npm run -s image:build -- recorder-lb --json > build.json',
        'for CI: one JSON document with the AMI per region; progress as JSON lines on stderr',
      ),
  run: async (opts, ctx) => {
    if (!existsSync(path.join(ctx.root, 'scripts'))) {
      throw new UserError(`${ctx.root} has no scripts/: a bake hashes and runs the provisioning scripts from there`, scriptsFix(ctx.root));
    }
    if (opts.local) {
      const { buildLocal } = await import('../../bake/local/index.js');
      const r = await buildLocal(
        {
          image: opts.image,
          force: opts.force,
          ...(opts.out ? { out: path.resolve(opts.out) } : {}),
          ...(opts.sources ? { sources: path.resolve(opts.sources) } : {}),
          ...(opts.jobs ? { jobs: opts.jobs } : {}),
        },
        { root: ctx.root, reporter: ctx.reporter, signal: ctx.signal, ...(ctx.env.SIPBAKE_CACHE_DIR ? { cacheDir: ctx.env.SIPBAKE_CACHE_DIR } : {}) },
      );
      ctx.reporter.result({ ok: true, ...r });
      return;
    }
    // The bake and the SDK load when a bake runs, never for --help and completion.
    const [{ EC2Client }, { clientConfig, packerProxyEnv }, { buildImage }, { pickRenderer }] = await Promise.all([
      import('@aws-sdk/client-ec2'),
      import('../../aws/clients.js'),
      import('../../bake/index.js'),
      import('../../bake/tasks.js'),
    ]);
    const clients = new Map<string, EC2Client>();
    const ec2For = (region: string): EC2Client => {
      let c = clients.get(region);
      if (!c) clients.set(region, (c = new EC2Client(clientConfig({ region, env: ctx.env, ...(opts.profile ? { profile: opts.profile } : {}) }))));
      return c;
    };
    try {
      const r = await buildImage(
        {
          image: opts.image,
          force: opts.force,
          plan: opts.plan,
          ...(opts.region ? { region: opts.region } : {}),
          ...(opts.profile ? { profile: opts.profile } : {}),
        },
        {
          root: ctx.root,
          reporter: ctx.reporter,
          signal: ctx.signal,
          // Packer reads the proxy variables itself (Go's net/http); pass both spellings on.
          env: { ...ctx.env, ...packerProxyEnv(ctx.env) },
          ec2For,
          renderer: pickRenderer({ json: opts.json, env: ctx.env, isTTY: ctx.isTTY }),
          onInterrupt: ctx.onInterrupt,
          onForcedExit: ctx.onForcedExit,
          ...(opts['out-dir'] ? { outDir: path.resolve(opts['out-dir']) } : {}),
        },
      );
      ctx.reporter.result({ ok: true, ...r });
      if (opts.plan && opts['detailed-exitcode']) return r.bake ? EXIT.planHasChanges : EXIT.ok;
    } finally {
      for (const c of clients.values()) c.destroy();
    }
  },
});
