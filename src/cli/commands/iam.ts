import { defineCommand } from '../command.js';
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
      }),
  run: async (o, ctx) => {
    const { loadImageOrThrow } = await import('../../definition/load.js');
    const def = o.image ? (await loadImageOrThrow(ctx.root, o.image)).image : undefined;
    const policy = policyFor(o.role, def, { account: o.account, ...(o.region ? { region: o.region } : {}) });
    if (ctx.reporter.json) ctx.reporter.result(policy);
    else ctx.reporter.line(JSON.stringify(policy, null, 2));
  },
});
