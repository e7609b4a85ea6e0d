import { UserError } from '../../core/errors.js';
import { defineCommand } from '../command.js';
import { explainPolicy, explainText } from '../../iam/explain.js';
import { keySharingText } from '../../iam/kms-sharing.js';
import { keySharingFor, policyFor } from '../../iam/policies.js';

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
      .option('explain', { type: 'boolean', default: false, describe: 'Print each statement with the calls it serves' })
      .option('key-policy', {
        type: 'boolean',
        default: false,
        describe: 'build --image: what bake.amiUsers need of bake.kmsKeyId (key policy statements, their policy, their create-grant)',
      }),
  run: async (o, ctx) => {
    const { loadImageOrThrow } = await import('../../definition/load.js');
    const def = o.image ? (await loadImageOrThrow(ctx.root, o.image)).image : undefined;
    const policy = policyFor(o.role, def, {
      account: o.account,
      ...(o.region ? { region: o.region } : {}),
      ...(o['launch-template'] ? { launchTemplate: o['launch-template'] } : {}),
      ...(o['instance-role'] ? { instanceRole: o['instance-role'] } : {}),
    });
    const sharing = o.role === 'build' && def ? keySharingFor(def, { account: o.account, ...(o.region ? { region: o.region } : {}) }) : undefined;
    if (o['key-policy']) {
      if (!sharing)
        throw new UserError(
          `iam --key-policy: ${def ? `images/${def.name}.yaml does not set both bake.kmsKeyId and bake.amiUsers` : 'no --image given'}, so no key is shared`,
          'run `sipbake iam build --image NAME --key-policy` for an image whose bake sets kmsKeyId and amiUsers',
        );
      if (ctx.reporter.json) ctx.reporter.result(sharing);
      else ctx.reporter.line(keySharingText(sharing, o.explain));
      return;
    }
    if (o.explain) {
      if (ctx.reporter.json) ctx.reporter.result(explainPolicy(policy));
      else ctx.reporter.line([explainText(policy), ...(sharing ? ['', keySharingText(sharing, true)] : [])].join('\n'));
      return;
    }
    if (ctx.reporter.json) ctx.reporter.result(policy);
    else ctx.reporter.line(JSON.stringify(policy, null, 2));
    if (sharing)
      ctx.reporter.line(
        `bake.kmsKeyId is shared with amiUsers: \`sipbake iam build --image ${def?.name ?? ''} --key-policy\` prints what the key policy and those accounts need`,
        'note',
      );
  },
});
