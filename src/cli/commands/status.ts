import { defineCommand } from '../command.js';
import { loadDeploy, withAwsClients, withAwsOptions } from '../aws-support.js';
import { aws } from '../../aws/errors.js';

export default defineCommand({
  command: 'status <image>',
  describe: 'Show the live AMI, every instance, last-known-good and the instance refresh state',
  builder: (y) => withAwsOptions(y.positional('image', { type: 'string', demandOption: true, describe: 'Image name (images/NAME.yaml) or path' })),
  run: async (o, ctx) => {
    const t = await loadDeploy(ctx, o.image, o.region);
    // The AWS SDK loads only when the command runs: --help and completion stay fast.
    const { formatStatus, status } = await import('../../roll/status.js');
    await withAwsClients(t.deploy, o, async (clients) => {
      const s = await aws(`reading the state of ${t.deploy.asgName}`, () => status(clients, t.deploy.asgName, o.region ?? t.deploy.region));
      for (const l of formatStatus(s)) ctx.reporter.line(l);
      ctx.reporter.result({ ok: true, status: s });
    });
  },
});
