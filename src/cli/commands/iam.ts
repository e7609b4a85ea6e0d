import { defineCommand } from '../command.js';
import { loadImageOrThrow } from '../../definition/load.js';
import { buildPolicy, rollPolicy } from '../../roll/iam.js';

export default defineCommand({
  command: 'iam <role>',
  describe: 'Print a least-privilege IAM policy for build (bake) or roll (roll, rollback, status, history)',
  builder: (y) =>
    y
      .positional('role', { choices: ['build', 'roll'] as const, demandOption: true, describe: 'Which job the policy is for' })
      .option('image', { type: 'string', describe: 'Scope to this image (its deploy: region and ASG)' })
      .option('account', { type: 'string', default: '*', describe: 'AWS account id for the resource ARNs' })
      .option('region', { type: 'string', describe: 'Region (default: the image deploy.region, else *)' }),
  run: async (o, ctx) => {
    const def = o.image ? (await loadImageOrThrow(ctx.root, o.image)).image : undefined;
    const scope = {
      region: o.region ?? def?.deploy?.region ?? '*',
      account: o.account,
      asgName: def?.deploy?.asgName ?? '*',
      image: def?.name ?? '*',
    };
    const policy = o.role === 'build' ? buildPolicy(scope) : rollPolicy(scope);
    if (ctx.reporter.json) ctx.reporter.result(policy);
    else ctx.reporter.line(JSON.stringify(policy, null, 2));
  },
});
