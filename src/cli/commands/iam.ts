import { defineCommand } from '../command.js';
import { explainPolicy, explainText } from '../../iam/explain.js';
import { policyFor } from '../../iam/policies.js';

export default defineCommand({
  command: 'iam <role>',
  describe: 'Print a least-privilege IAM policy for build (bake), roll (roll, rollback, status, history) or instance (the instance role: boot secrets, drain)',
  builder: (y) =>
    y
      .positional('role', {
        choices: ['build', 'roll', 'instance'] as const,
        demandOption: true,
        describe: 'Which job the policy is for',
      })
      .option('image', {
        type: 'string',
        describe: 'Scope to this image (build: bake.region + bake.amiRegions; roll, instance: deploy.region and ASG)',
      })
      .option('account', { type: 'string', default: '*', describe: 'AWS account id for the resource ARNs' })
      .option('region', {
        type: 'string',
        describe: 'Region (default: the image bake.region for build, deploy.region otherwise, else *)',
      })
      .option('launch-template', {
        type: 'string',
        describe: 'roll: the group’s launch template id (lt-…); launches and new versions only through it',
      })
      .option('instance-role', {
        type: 'string',
        describe: 'roll: the role the launch template’s instance profile holds (name or ARN); the only role the roll may pass',
      })
      .option('explain', { type: 'boolean', default: false, describe: 'Print each statement with the calls it serves' }),
  run: async (o, ctx) => {
    const { loadImageOrThrow } = await import('../../definition/load.js');
    const def = o.image ? (await loadImageOrThrow(ctx.root, o.image)).image : undefined;
    const policy = policyFor(o.role, def, {
      account: o.account,
      ...(o.region ? { region: o.region } : {}),
      ...(o['launch-template'] ? { launchTemplate: o['launch-template'] } : {}),
      ...(o['instance-role'] ? { instanceRole: o['instance-role'] } : {}),
    });
    if (o.explain) {
      if (ctx.reporter.json) ctx.reporter.result(explainPolicy(policy));
      else ctx.reporter.line(explainText(policy));
      return;
    }
    if (ctx.reporter.json) ctx.reporter.result(policy);
    else ctx.reporter.line(JSON.stringify(policy, null, 2));
  },
});
