import { defineCommand } from '../command.js';
import { UsageError } from '../../core/errors.js';
import { realClock } from '../../aws/clock.js';
import { destroyAwsClients } from '../../aws/clients.js';
import { clientsFor, loadDeploy, rendererFor, withAwsOptions } from '../aws-support.js';
import { runRoll } from '../../roll/run.js';
import { aws } from '../../aws/errors.js';

export default defineCommand({
  command: 'rollback <image>',
  describe: 'Roll the ASG back to a pinned earlier AMI (--to ami-…) or the previous one (--previous)',
  builder: (y) =>
    withAwsOptions(
      y
        .positional('image', { type: 'string', demandOption: true, describe: 'Image name (images/NAME.yaml) or path' })
        .option('to', { type: 'string', describe: 'The AMI to roll back to (must be an AMI of this image, available)' })
        .option('previous', { type: 'boolean', default: false, describe: 'The AMI the live version was rolled from (else last-known-good, else the next older AMI)' })
        .option('plan', { type: 'boolean', default: false, describe: 'Dry run: show what the rollback would do; change nothing' })
        .check((a) => {
          if (Boolean(a.to) === Boolean(a.previous)) throw new UsageError('name exactly one of --to ami-… or --previous');
          if (a.to && !/^ami-[0-9a-f]{8,17}$/.test(a.to)) throw new UsageError(`--to ${a.to} is not an AMI id (ami-…)`);
          return true;
        }),
    ),
  run: async (o, ctx) => {
    const t = await loadDeploy(ctx, o.image, o.region);
    const clients = clientsFor(t.deploy, o);
    try {
      const r = await aws(`rolling ${t.image} back on ${t.deploy.asgName}`, () =>
        runRoll(
        { kind: 'rollback', image: t.image, deploy: t.deploy, drainMaxSeconds: t.drainMaxSeconds, ...(o.to ? { ami: o.to } : {}), previous: o.previous, planOnly: o.plan },
          { clients, clock: realClock, reporter: ctx.reporter, signal: ctx.signal, renderer: rendererFor(o.json, ctx.env) },
        ),
      );
      ctx.reporter.result({ ok: r.exitCode === 0, ...(o.plan ? { plan: r.plan } : { summary: r.summary }) });
      return r.exitCode;
    } finally {
      destroyAwsClients(clients);
    }
  },
});
