import { defineCommand } from '../command.js';
import { loadImageOrThrow } from '../../definition/load.js';
import { buildPolicy, instancePolicy, rollPolicy, type SecretScope } from '../../roll/iam.js';
import type { ImageDefinition } from '../../definition/schema.js';
import type { SecretRef } from '../../definition/primitives.js';

export default defineCommand({
  command: 'iam <role>',
  describe: 'Print a least-privilege IAM policy for build (bake), roll (roll, rollback, status, history) or instance (the instance role: boot secrets, drain)',
  builder: (y) =>
    y
      .positional('role', { choices: ['build', 'roll', 'instance'] as const, demandOption: true, describe: 'Which job the policy is for' })
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
    const policy = o.role === 'build' ? buildPolicy(scope) : o.role === 'roll' ? rollPolicy(scope) : instancePolicy(scope, def ? secretsOf(def) : { ssm: ['*'], secretsmanager: [] });
    if (ctx.reporter.json) ctx.reporter.result(policy);
    else ctx.reporter.line(JSON.stringify(policy, null, 2));
  },
});

/** Every secret the image's agent reads at boot. */
function secretsOf(image: ImageDefinition): SecretScope {
  const refs: SecretRef[] = [];
  const b = image.dispatcher?.backend;
  if (b?.type === 'postgres') refs.push(b.password);
  if (image.tls.certificateSecret) refs.push(image.tls.certificateSecret);
  if (image.tls.privateKeySecret) refs.push(image.tls.privateKeySecret);
  return {
    ssm: [...new Set(refs.filter((r) => r.source === 'ssm').map((r) => r.name))],
    secretsmanager: [...new Set(refs.filter((r) => r.source === 'secretsmanager').map((r) => r.name))],
  };
}
