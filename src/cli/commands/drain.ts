import { defineCommand } from '../command.js';
import { loadDeploy, withAwsClients, withAwsOptions } from '../aws-support.js';
import { confirm } from '../confirm.js';
import { aws } from '../../aws/errors.js';
import { UserError } from '../../core/errors.js';

// Thin: argv → load the image's deploy section → drain-run.ts (plan, then the one AWS call). The SDK loads only
// when the command runs, so --help and completion stay fast.
export default defineCommand({
  command: 'drain <instance>',
  describe: 'Drain one instance by hand: its calls end (or move to a peer), then Auto Scaling replaces it',
  builder: (y) =>
    withAwsOptions(
      y
        .positional('instance', { type: 'string', demandOption: true, describe: 'Instance id (i-…), as sipbake status lists them' })
        .option('image', { type: 'string', demandOption: true, describe: 'Image name (images/NAME.yaml): its group, hook and drain bound' })
        .option('yes', { type: 'boolean', default: false, describe: 'Do not ask before terminating (required off a terminal and in CI)' }),
    ).example('$0 drain i-0123456789abcdef0 --image twilio-relay', 'show the plan, confirm, then start the drain'),
  run: async (o, ctx) => {
    if (!/^i-[0-9a-f]{8,17}$/.test(o.instance))
      throw new UserError(`${JSON.stringify(o.instance)} is not an instance id`, `give one as sipbake status ${o.image} lists it: i- and 8 or 17 hex digits`, {
        exitCode: 2,
      });
    const t = await loadDeploy(ctx, o.image, o.region);
    const region = o.region ?? t.deploy.region;
    const { applyDrain, observeDrain, planDrain } = await import('./drain-run.js');
    await withAwsClients(t.deploy, o, async (clients) => {
      const seen = await aws(`reading ${o.instance} and its group`, () => observeDrain(clients, o.instance));
      const plan = planDrain(seen, {
        image: t.image,
        asgName: t.deploy.asgName,
        region,
        drainMaxSeconds: t.drainMaxSeconds,
        hookName: t.deploy.lifecycleHook.name,
      });
      if (!plan.ok) throw new UserError(`refusing to drain: ${plan.refusal}`, plan.fix);
      for (const l of plan.lines) ctx.reporter.line(l);
      const go = await confirm(`Drain ${plan.instanceId} now?`, {
        yes: o.yes,
        isTTY: ctx.isTTY,
        env: ctx.env,
        retry: `sipbake drain ${plan.instanceId} --image ${t.image} --yes`,
        signal: ctx.signal,
      });
      if (!go) {
        ctx.reporter.line('not drained: nothing was changed');
        ctx.reporter.result({ ok: true, drained: false, plan });
        return;
      }
      const activity = await aws(`terminating ${plan.instanceId} in ${plan.asgName}`, () => applyDrain(clients, plan.instanceId));
      ctx.reporter.line(`draining: ${activity.description ?? plan.instanceId} (activity ${activity.activityId ?? '?'}, ${activity.statusCode ?? '?'})`);
      ctx.reporter.result({ ok: true, drained: true, plan, activity });
    });
  },
});
