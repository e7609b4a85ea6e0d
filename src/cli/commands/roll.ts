import { defineCommand } from '../command.js';
import { realClock } from '../../aws/clock.js';
import { destroyAwsClients } from '../../aws/clients.js';
import { clientsFor, loadDeploy, rendererFor, withAwsOptions } from '../aws-support.js';
import { runRoll } from '../../roll/run.js';
import { aws } from '../../aws/errors.js';

export default defineCommand({
  command: 'roll <image>',
  describe: 'Roll the ASG onto a new AMI with a health-gated instance refresh (rolls back by itself when the gate fails)',
  builder: (y) =>
    withAwsOptions(
      y
        .positional('image', { type: 'string', demandOption: true, describe: 'Image name (images/NAME.yaml) or path' })
        .option('ami', { type: 'string', describe: 'AMI to roll to (default: the newest AMI of the image)' })
        .option('plan', { type: 'boolean', default: false, describe: 'Dry run: show the AMI and launch template diff, batches, duration and every refusal; change nothing' }),
    ),
  run: async (o, ctx) => {
    const t = await loadDeploy(ctx, o.image, o.region);
    const clients = clientsFor(t.deploy, o);
    try {
      const r = await aws(`rolling ${t.image} onto ${t.deploy.asgName}`, () =>
        runRoll(
        { kind: 'roll', image: t.image, deploy: t.deploy, drainMaxSeconds: t.drainMaxSeconds, ...(o.ami ? { ami: o.ami } : {}), planOnly: o.plan },
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
