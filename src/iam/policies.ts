// Least-privilege IAM policies for baking (Packer amazon-ebs), rolling, and the instance role (pure).
// The test suite evaluates every call the AWS fake serves against these (test/fakes/aws/iam.ts).
import type { SecretRef } from '../definition/primitives.js';
import type { ImageDefinition } from '../definition/schema.js';

export type IamRole = 'build' | 'roll' | 'instance';

interface PolicyScope {
  /** Every region the role acts in: build = bake.region + bake.amiRegions, roll/instance = deploy.region. '*' = any. */
  regions: string[];
  account: string;
  asgName: string;
  image: string;
  /** aws, aws-us-gov or aws-cn: follows the first region. */
  partition: string;
}

type ConditionBlock = Record<string, Record<string, string | string[]>>;
type Statement = {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
  Condition?: ConditionBlock;
};
export interface Policy {
  Version: '2012-10-17';
  Statement: Statement[];
}

/** The ARN partition of a region (GovCloud and China have their own). '*' and unknown: aws. */
export function partitionOf(region: string): 'aws' | 'aws-us-gov' | 'aws-cn' {
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('cn-')) return 'aws-cn';
  return 'aws';
}

const hasWildcard = (v: string | string[]) => (Array.isArray(v) ? v : [v]).some((x) => /[*?]/.test(x));
const one = (v: string[]): string | string[] => {
  const [only, ...more] = v;
  return only !== undefined && more.length === 0 ? only : v;
};

/** StringEquals is exact: any value with * or ? needs StringLike, or it matches nothing. */
function stringCondition(key: string, values: string | string[]): ConditionBlock {
  const v = Array.isArray(values) ? one([...new Set(values)]) : values;
  return { [hasWildcard(v) ? 'StringLike' : 'StringEquals']: { [key]: v } };
}

function asgArn(s: PolicyScope, region: string): string {
  return `arn:${s.partition}:autoscaling:${region}:${s.account}:autoScalingGroup:*:autoScalingGroupName/${s.asgName}`;
}
const each = (s: PolicyScope, f: (region: string) => string) => one(s.regions.map(f));

function rollPolicy(s: PolicyScope): Policy {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadState',
        Effect: 'Allow',
        // Describe calls cannot be scoped to a resource.
        Action: [
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeInstanceRefreshes',
          'autoscaling:DescribeLifecycleHooks',
          'ec2:DescribeImages',
          'ec2:DescribeLaunchTemplateVersions',
          'ec2:DescribeInstances',
          'elasticloadbalancing:DescribeTargetGroups',
          'elasticloadbalancing:DescribeTargetGroupAttributes',
          'elasticloadbalancing:DescribeTargetHealth',
          'cloudwatch:DescribeAlarms',
        ],
        Resource: '*',
        Condition: stringCondition('aws:RequestedRegion', s.regions),
      },
      {
        Sid: 'RefreshThisGroup',
        Effect: 'Allow',
        Action: [
          'autoscaling:StartInstanceRefresh',
          'autoscaling:RollbackInstanceRefresh',
          'autoscaling:CancelInstanceRefresh',
          'autoscaling:PutLifecycleHook',
          'autoscaling:CreateOrUpdateTags',
          'autoscaling:DeleteTags',
        ],
        Resource: each(s, (r) => asgArn(s, r)),
      },
      {
        Sid: 'NewLaunchTemplateVersion',
        Effect: 'Allow',
        Action: ['ec2:CreateLaunchTemplateVersion'],
        Resource: each(s, (r) => `arn:${s.partition}:ec2:${r}:${s.account}:launch-template/*`),
      },
      {
        Sid: 'LaunchWithTheTemplate',
        Effect: 'Allow',
        // Auto Scaling checks the caller may launch what the launch template describes ("Control Amazon EC2 launch
        // template usage in Auto Scaling groups"): StartInstanceRefresh with a DesiredConfiguration needs it.
        Action: ['ec2:RunInstances', 'ec2:CreateTags'],
        Resource: '*',
        Condition: stringCondition('aws:RequestedRegion', s.regions),
      },
      {
        Sid: 'PassTheInstanceRole',
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: `arn:${s.partition}:iam::${s.account}:role/*`,
        Condition: stringCondition('iam:PassedToService', 'ec2.amazonaws.com'),
      },
    ],
  };
}

function buildPolicy(s: PolicyScope): Policy {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'PackerReadAndLaunch',
        Effect: 'Allow',
        // The amazon-ebs builder's documented minimum, plus what sipbake's options make it call:
        // encrypt_boot copies the temporary AMI encrypted (CopyImage, in the build region too), ami_regions copy it
        // on (CopyImage in each), deprecate_at calls EnableImageDeprecation, ami_users ModifyImageAttribute.
        Action: [
          'ec2:DescribeImages',
          'ec2:DescribeImageAttribute',
          'ec2:DescribeInstances',
          'ec2:DescribeInstanceStatus',
          'ec2:DescribeRegions',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSnapshots',
          'ec2:DescribeSubnets',
          'ec2:DescribeTags',
          'ec2:DescribeVolumes',
          'ec2:DescribeVpcs',
          'ec2:GetPasswordData',
          'ec2:RunInstances',
          'ec2:StopInstances',
          'ec2:TerminateInstances',
          'ec2:CreateKeyPair',
          'ec2:DeleteKeyPair',
          'ec2:CreateSecurityGroup',
          'ec2:DeleteSecurityGroup',
          'ec2:AuthorizeSecurityGroupIngress',
          'ec2:CreateVolume',
          'ec2:DeleteVolume',
          'ec2:AttachVolume',
          'ec2:DetachVolume',
          'ec2:CreateSnapshot',
          'ec2:DeleteSnapshot',
          'ec2:CreateImage',
          'ec2:CopyImage',
          'ec2:RegisterImage',
          'ec2:EnableImageDeprecation',
          'ec2:ModifyImageAttribute',
          'ec2:ModifyInstanceAttribute',
          'ec2:ModifySnapshotAttribute',
          'ec2:CreateTags',
        ],
        Resource: '*',
        Condition: stringCondition('aws:RequestedRegion', s.regions),
      },
      {
        Sid: 'RetireOnlyThisImagesAmis',
        Effect: 'Allow',
        // Also Packer's deregistration of the unencrypted temporary AMI: it carries the run tags (sipbake:image).
        Action: ['ec2:DeregisterImage', 'ec2:DisableImage', 'ec2:EnableImage'],
        Resource: each(s, (r) => `arn:${s.partition}:ec2:${r}::image/*`),
        Condition: stringCondition('aws:ResourceTag/sipbake:image', s.image),
      },
    ],
  };
}

/** Secrets an image reads at boot, by reference (never values). */
interface SecretScope {
  ssm: string[]; // parameter names
  secretsmanager: string[]; // secret ids or ARNs
}

function ssmArn(s: PolicyScope, region: string, name: string): string {
  return name.startsWith('arn:') ? name : `arn:${s.partition}:ssm:${region}:${s.account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}
function secretArn(s: PolicyScope, region: string, id: string): string {
  // Secrets Manager appends a random 6-character suffix to a secret's ARN.
  return id.startsWith('arn:') ? id : `arn:${s.partition}:secretsmanager:${region}:${s.account}:secret:${id}-??????`;
}

/**
 * The instance role: what the on-instance agent calls at boot (secrets) and while draining
 * (lifecycle hook, and the group's serving peers for the INVITE hand-off). Attach AmazonSSMManagedInstanceCore beside it for Session Manager.
 */
function instancePolicy(s: PolicyScope, secrets: SecretScope): Policy {
  const statements: Statement[] = [
    {
      Sid: 'FindOwnGroupAndHook',
      Effect: 'Allow',
      // Describe calls cannot be scoped to a resource (Service Authorization Reference: Amazon EC2 Auto Scaling
      // and Amazon EC2, "Resource types" column empty). The group's serving peers and their private addresses
      // are where a draining instance hands new INVITEs.
      Action: [
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeLifecycleHooks',
        'autoscaling:DescribeAutoScalingGroups',
        'ec2:DescribeInstances',
      ],
      Resource: '*',
    },
    {
      Sid: 'DrainLifecycleHook',
      Effect: 'Allow',
      Action: ['autoscaling:RecordLifecycleActionHeartbeat', 'autoscaling:CompleteLifecycleAction'],
      Resource: each(s, (r) => asgArn(s, r)),
    },
  ];
  const ssm = s.regions.flatMap((r) => secrets.ssm.map((n) => ssmArn(s, r, n)));
  const sm = s.regions.flatMap((r) => secrets.secretsmanager.map((n) => secretArn(s, r, n)));
  if (ssm.length > 0)
    statements.push({
      Sid: 'BootSecretsFromParameterStore',
      Effect: 'Allow',
      Action: ['ssm:GetParameter'],
      Resource: [...new Set(ssm)],
    });
  if (sm.length > 0)
    statements.push({
      Sid: 'BootSecretsFromSecretsManager',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [...new Set(sm)],
    });
  if (ssm.length > 0 || sm.length > 0) {
    const via = s.regions.flatMap((r) => [
      ...(ssm.length > 0 ? [`ssm.${r}.amazonaws.com`] : []),
      ...(sm.length > 0 ? [`secretsmanager.${r}.amazonaws.com`] : []),
    ]);
    statements.push({
      Sid: 'DecryptBootSecrets',
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: each(s, (r) => `arn:${s.partition}:kms:${r}:${s.account}:key/*`),
      Condition: stringCondition('kms:ViaService', via),
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

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

/**
 * Where each role acts: build in bake.region (or --region) plus bake.amiRegions; roll and instance in
 * deploy.region (or --region). Without an image, any region ('*', matched with StringLike).
 */
function scopeFor(role: IamRole, def: ImageDefinition | undefined, o: { account?: string; region?: string } = {}): PolicyScope {
  const home = role === 'build' ? (o.region ?? def?.bake.region ?? '*') : (o.region ?? def?.deploy?.region ?? '*');
  // home stays first: the partition follows it.
  const regions = role === 'build' ? [home, ...(def?.bake.amiRegions ?? [])].filter((r, i, a) => a.indexOf(r) === i) : [home];
  return {
    regions,
    account: o.account ?? '*',
    asgName: def?.deploy?.asgName ?? '*',
    image: def?.name ?? '*',
    partition: partitionOf(home),
  };
}

/** The policy `sipbake iam ROLE [--image NAME]` prints. */
export function policyFor(role: IamRole, def: ImageDefinition | undefined, o: { account?: string; region?: string } = {}): Policy {
  const scope = scopeFor(role, def, o);
  if (role === 'build') return buildPolicy(scope);
  if (role === 'roll') return rollPolicy(scope);
  return instancePolicy(scope, def ? secretsOf(def) : { ssm: ['*'], secretsmanager: [] });
}
