import { EC2Client } from '@aws-sdk/client-ec2';
import { defineCommand } from '../command.js';
import { clientConfig } from '../../aws/clients.js';
import { buildImage } from '../../bake/index.js';
import { pickRenderer } from '../../bake/tasks.js';

export default defineCommand({
  command: 'build <image>',
  describe: 'Bake the golden AMI with Packer (skips when an AMI of the same content exists in every target region)',
  builder: (y) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'Image name under images/, or a path to its YAML' })
      .option('force', { type: 'boolean', default: false, describe: 'Bake even when an AMI of this content exists' })
      .option('plan', { type: 'boolean', default: false, describe: 'Change nothing, run no Packer: print the hash, the decision and what changed' })
      .option('profile', { type: 'string', describe: 'AWS profile (default credential chain otherwise)' })
      .option('region', { type: 'string', describe: 'Build region (default: bake.region of the image)' })
      .example('$0 build twilio-relay', 'bake, or print the existing AMI when nothing changed')
      .example('$0 build recorder-lb --plan', 'show the content hash and what changed since the last AMI')
      .example('$0 build recorder-lb --json', 'for CI: one JSON document with the AMI per region'),
  run: async (opts, ctx) => {
    const clients = new Map<string, EC2Client>();
    const ec2For = (region: string): EC2Client => {
      let c = clients.get(region);
      if (!c) clients.set(region, (c = new EC2Client(clientConfig({ region, ...(opts.profile ? { profile: opts.profile } : {}) }))));
      return c;
    };
    try {
      const r = await buildImage(
        { image: opts.image as string, force: opts.force, plan: opts.plan, ...(opts.region ? { region: opts.region } : {}), ...(opts.profile ? { profile: opts.profile } : {}) },
        {
          root: ctx.root,
          reporter: ctx.reporter,
          signal: ctx.signal,
          env: ctx.env,
          ec2For,
          renderer: pickRenderer({ json: opts.json, env: ctx.env, isTTY: Boolean(process.stdout.isTTY) }),
        },
      );
      ctx.reporter.result({ ok: true, ...r });
    } finally {
      for (const c of clients.values()) c.destroy();
    }
  },
});
