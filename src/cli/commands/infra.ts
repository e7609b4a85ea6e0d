import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defineCommand } from '../command.js';
import { UserError } from '../../core/errors.js';
import type { FleetNetworkProps } from '../../infra/network.js';

const ids = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** --vpc-id and friends together name existing subnets; none of them: new ones. */
function networkOf(o: { 'vpc-id'?: string; 'vpc-cidr'?: string; 'public-subnets'?: string; 'private-subnets'?: string; azs: number }): FleetNetworkProps {
  const given = [o['vpc-id'], o['vpc-cidr'], o['public-subnets'], o['private-subnets']].filter((v) => v !== undefined).length;
  if (given === 0) return { kind: 'new', maxAzs: o.azs };
  const pub = ids(o['public-subnets']);
  const priv = ids(o['private-subnets']);
  if (!o['vpc-id'] || !o['vpc-cidr'] || pub.length === 0 || priv.length === 0)
    throw new UserError(
      'existing subnets need --vpc-id, --vpc-cidr, --public-subnets and --private-subnets together',
      'pass all four (subnet ids comma-separated), or none of them for a new VPC',
      { exitCode: 2 },
    );
  return { kind: 'existing', vpcId: o['vpc-id'], vpcCidr: o['vpc-cidr'], publicSubnetIds: pub, privateSubnetIds: priv };
}

export default defineCommand({
  command: 'infra <image>',
  describe: 'Synthesize the CloudFormation template of the infrastructure a roll needs (NLB, target group, launch template, ASG, roles), offline',
  builder: (y) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'Name under images/ or a path to a YAML file (needs a deploy: section)' })
      .option('out', { type: 'string', describe: 'Directory to write sipbake-IMAGE.template.json to (default: print it)' })
      .option('ami', { type: 'string', describe: 'The AMI the group starts on (default: an ImageId stack parameter)' })
      .option('vpc-id', { type: 'string', describe: 'Existing VPC (with --vpc-cidr, --public-subnets, --private-subnets)' })
      .option('vpc-cidr', { type: 'string', describe: "The existing VPC's CIDR (the NLB health checks come from it)" })
      .option('public-subnets', { type: 'string', describe: 'Existing subnet ids for the NLB, comma-separated' })
      .option('private-subnets', { type: 'string', describe: 'Existing subnet ids for the instances, comma-separated' })
      .option('azs', { type: 'number', default: 2, describe: 'Availability zones of a new VPC' })
      .option('nlb-eip', { type: 'string', describe: "Elastic IP allocation id for the NLB (eipalloc-…), e.g. advertise.elasticIp's" })
      .option('internal', { type: 'boolean', default: false, describe: 'An internal NLB (no Elastic IP)' })
      .option('min', { type: 'number', default: 2, describe: 'Auto Scaling group MinSize' })
      .option('max', { type: 'number', default: 10, describe: 'Auto Scaling group MaxSize' })
      .option('ci-principal', { type: 'string', describe: 'ARN allowed to assume the build and roll roles (default: the account root)' })
      .example('$0 infra twilio-relay --out infra', 'write infra/sipbake-twilio-relay.template.json')
      .example(
        'aws cloudformation deploy --template-file infra/sipbake-twilio-relay.template.json --stack-name sipbake-twilio-relay --capabilities CAPABILITY_IAM --parameter-overrides ImageId=ami-…',
        'deploy it (docs/infra.md)',
      ),
  run: async (o, ctx) => {
    const { loadImageOrThrow } = await import('../../definition/load.js');
    const { image } = await loadImageOrThrow(ctx.root, o.image);
    if (!image.deploy)
      throw new UserError(`image ${image.name} has no deploy: section`, 'add deploy: { region, asgName, targetGroupArns } (docs/infra.md shows one)');
    if (o.ami !== undefined && !/^ami-[0-9a-f]{8,17}$/.test(o.ami))
      throw new UserError(`--ami ${o.ami} is not an AMI id`, 'pass one such as ami-0123456789abcdef0 (sipbake history IMAGE lists them)', { exitCode: 2 });
    const network = networkOf(o);
    // aws-cdk-lib is large: only this command loads it.
    const { synthesizeFleet } = await import('../../infra/synth.js');
    const template = synthesizeFleet({
      image,
      network,
      minSize: o.min,
      maxSize: o.max,
      ...(o.ami ? { imageId: o.ami } : {}),
      ...(o.internal ? { scheme: 'internal' as const } : {}),
      ...(o['nlb-eip'] ? { nlbEipAllocationId: o['nlb-eip'] } : {}),
      ...(o['ci-principal'] ? { ciPrincipalArn: o['ci-principal'] } : {}),
    });
    const text = `${JSON.stringify(template, null, 1)}\n`;
    if (!o.out) {
      if (ctx.reporter.json) ctx.reporter.result(template);
      else process.stdout.write(text);
      return;
    }
    const file = path.resolve(o.out, `sipbake-${image.name}.template.json`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
    if (ctx.reporter.json) ctx.reporter.result({ template: file });
    else {
      ctx.reporter.line(`wrote ${file}`, 'success');
      ctx.reporter.line(
        `deploy: aws cloudformation deploy --template-file ${path.relative(process.cwd(), file)} --stack-name sipbake-${image.name} --capabilities CAPABILITY_IAM${o.ami ? '' : ' --parameter-overrides ImageId=AMI'}`,
      );
      ctx.reporter.line('then copy the TargetGroupArn0 output into deploy.targetGroupArns (docs/infra.md)');
    }
  },
});
