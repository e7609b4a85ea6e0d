import { defineCommand } from '../command.js';
import { loadDeploy, withAwsClients, withAwsOptions } from '../aws-support.js';

export default defineCommand({
  command: 'unlock <image>',
  describe: "Release the roll lease a stopped roll left on the image's group, showing who held it",
  builder: (y) =>
    withAwsOptions(y.positional('image', { type: 'string', demandOption: true, describe: 'Image name (images/NAME.yaml) or path' })).example(
      '$0 unlock twilio-relay',
      'after a CI job was killed: free the group for the next roll or rollback',
    ),
  run: async (o, ctx) => {
    const t = await loadDeploy(ctx, o.image, o.region);
    // The AWS SDK loads only when the command runs: --help and completion stay fast.
    const { formatUnlocked, unlock } = await import('../../roll/unlock.js');
    await withAwsClients(t.deploy, o, async (clients) => {
      const u = await unlock(clients, t.deploy.asgName, Date.now());
      for (const l of formatUnlocked(u)) ctx.reporter.line(l, u.lease ? 'warn' : 'info');
      ctx.reporter.result({
        ok: true,
        unlocked: u.lease ? { asgName: u.asgName, owner: u.lease.owner, startedAt: u.lease.startedAt, expiresAt: u.lease.expiresAt } : null,
      });
    });
  },
});
