import { defineCommand } from '../command.js';
import { loadDeploy, withAwsClients, withAwsOptions } from '../aws-support.js';
import { aws } from '../../aws/errors.js';

export default defineCommand({
  command: 'history <image>',
  describe: "List this image's AMIs, newest first, marking the live one and the last-known-good one",
  builder: (y) => withAwsOptions(y.positional('image', { type: 'string', demandOption: true, describe: 'Image name (images/NAME.yaml) or path' })),
  run: async (o, ctx) => {
    const t = await loadDeploy(ctx, o.image, o.region);
    // The AWS SDK loads only when the command runs: --help and completion stay fast.
    const { formatHistory, history } = await import('../../roll/status.js');
    await withAwsClients(t.deploy, o, async (clients) => {
      const h = await aws(`listing the AMIs of ${t.image}`, () => history(clients, t.image, t.deploy.asgName, o.region ?? t.deploy.region));
      for (const l of formatHistory(t.image, h)) ctx.reporter.line(l);
      ctx.reporter.result({ ok: true, image: t.image, amis: h });
    });
  },
});
