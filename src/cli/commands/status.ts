import { defineCommand } from '../command.js';
import { loadDeploy, withAwsClients, withAwsOptions } from '../aws-support.js';
import { aws } from '../../aws/errors.js';
import { UserError } from '../../core/errors.js';

export default defineCommand({
  command: 'status <image>',
  describe: 'Show the live AMI, every instance, last-known-good and the instance refresh state',
  builder: (y) =>
    withAwsOptions(y.positional('image', { type: 'string', demandOption: true, describe: 'Image name (images/NAME.yaml) or path' }))
      .option('call', {
        type: 'string',
        describe: 'Which instance holds a call: its Record-Route (or sbinst=PRIVATE_IP) from a trace; a bare Call-ID lists how to ask each instance',
      })
      .example("$0 status twilio-relay --call 'sbinst=10.0.1.23'", 'the instance that holds the call whose Record-Route carries this token'),
  run: async (o, ctx) => {
    const t = await loadDeploy(ctx, o.image, o.region);
    if (o.call !== undefined) {
      const token = o.call;
      if (!token.trim()) throw new UserError('--call is empty', "give the call's Record-Route, its sbinst=PRIVATE_IP, or a Call-ID", { exitCode: 2 });
      const { findCallOwner, formatCallOwner } = await import('../../roll/status-call.js');
      await withAwsClients(t.deploy, o, async (clients) => {
        const owner = await aws(`finding the instance of ${t.deploy.asgName} that holds the call`, () => findCallOwner(clients, t.deploy.asgName, token));
        const f = formatCallOwner(t.deploy.asgName, owner);
        if (!f.found) throw new UserError(f.lines[0] ?? 'no instance found', undefined, { details: f.lines.slice(1).map((l) => l.trim()) });
        for (const l of f.lines) ctx.reporter.line(l);
        ctx.reporter.result({ ok: true, call: owner });
      });
      return;
    }
    // The AWS SDK loads only when the command runs: --help and completion stay fast.
    const { formatStatus, status } = await import('../../roll/status.js');
    await withAwsClients(t.deploy, o, async (clients) => {
      const s = await aws(`reading the state of ${t.deploy.asgName}`, () => status(clients, t.deploy.asgName, o.region ?? t.deploy.region));
      for (const l of formatStatus(s)) ctx.reporter.line(l);
      ctx.reporter.result({ ok: true, status: s });
    });
  },
});
