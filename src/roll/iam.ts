// Least-privilege IAM policies for baking (Packer amazon-ebs) and rolling (pure).
export interface PolicyScope {
  region: string;
  account: string;
  asgName: string;
  image: string;
}

type Statement = { Sid: string; Effect: 'Allow'; Action: string[]; Resource: string | string[]; Condition?: Record<string, Record<string, string | string[]>> };
export interface Policy {
  Version: '2012-10-17';
  Statement: Statement[];
}

export function rollPolicy(s: PolicyScope): Policy {
  const asg = `arn:aws:autoscaling:${s.region}:${s.account}:autoScalingGroup:*:autoScalingGroupName/${s.asgName}`;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadState',
        Effect: 'Allow',
        // Describe calls cannot be scoped to a resource.
        Action: [
          'autoscaling:DescribeAutoScalingGroups',
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
        ],
        Resource: asg,
      },
      {
        Sid: 'NewLaunchTemplateVersion',
        Effect: 'Allow',
        Action: ['ec2:CreateLaunchTemplateVersion'],
        Resource: `arn:aws:ec2:${s.region}:${s.account}:launch-template/*`,
      },
      {
        Sid: 'LaunchWithTheTemplate',
        Effect: 'Allow',
        // Auto Scaling checks the caller may launch what the launch template describes.
        Action: ['ec2:RunInstances', 'ec2:CreateTags'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:RequestedRegion': s.region } },
      },
      {
        Sid: 'PassTheInstanceRole',
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: `arn:aws:iam::${s.account}:role/*`,
        Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      },
    ],
  };
}

export function buildPolicy(s: PolicyScope): Policy {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'PackerReadAndLaunch',
        Effect: 'Allow',
        // The amazon-ebs builder's documented minimum.
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
          'ec2:RegisterImage',
          'ec2:ModifyImageAttribute',
          'ec2:ModifyInstanceAttribute',
          'ec2:ModifySnapshotAttribute',
          'ec2:CreateTags',
        ],
        Resource: '*',
        Condition: { StringEquals: { 'aws:RequestedRegion': s.region } },
      },
      {
        Sid: 'RetireOnlyThisImagesAmis',
        Effect: 'Allow',
        Action: ['ec2:DeregisterImage', 'ec2:DisableImage', 'ec2:EnableImage'],
        Resource: `arn:aws:ec2:${s.region}::image/*`,
        Condition: { StringEquals: { 'aws:ResourceTag/sipbake:image': s.image } },
      },
    ],
  };
}

/** Secrets an image reads at boot, by reference (never values). */
export interface SecretScope {
  ssm: string[]; // parameter names
  secretsmanager: string[]; // secret ids or ARNs
}

function ssmArn(s: PolicyScope, name: string): string {
  return name.startsWith('arn:') ? name : `arn:aws:ssm:${s.region}:${s.account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}
function secretArn(s: PolicyScope, id: string): string {
  // Secrets Manager appends a random 6-character suffix to a secret's ARN.
  return id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${s.region}:${s.account}:secret:${id}-??????`;
}

/**
 * The instance role: what the on-instance agent calls at boot (secrets) and while draining
 * (lifecycle hook). Attach AmazonSSMManagedInstanceCore beside it for Session Manager.
 */
export function instancePolicy(s: PolicyScope, secrets: SecretScope): Policy {
  const asg = `arn:aws:autoscaling:${s.region}:${s.account}:autoScalingGroup:*:autoScalingGroupName/${s.asgName}`;
  const statements: Statement[] = [
    {
      Sid: 'FindOwnGroupAndHook',
      Effect: 'Allow',
      // Describe calls cannot be scoped to a resource.
      Action: ['autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeLifecycleHooks'],
      Resource: '*',
    },
    {
      Sid: 'DrainLifecycleHook',
      Effect: 'Allow',
      Action: ['autoscaling:RecordLifecycleActionHeartbeat', 'autoscaling:CompleteLifecycleAction'],
      Resource: asg,
    },
  ];
  if (secrets.ssm.length > 0) {
    statements.push({ Sid: 'BootSecretsFromParameterStore', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: secrets.ssm.map((n) => ssmArn(s, n)) });
  }
  if (secrets.secretsmanager.length > 0) {
    statements.push({ Sid: 'BootSecretsFromSecretsManager', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: secrets.secretsmanager.map((n) => secretArn(s, n)) });
  }
  if (secrets.ssm.length > 0 || secrets.secretsmanager.length > 0) {
    const via = [...(secrets.ssm.length > 0 ? [`ssm.${s.region}.amazonaws.com`] : []), ...(secrets.secretsmanager.length > 0 ? [`secretsmanager.${s.region}.amazonaws.com`] : [])];
    statements.push({
      Sid: 'DecryptBootSecrets',
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: `arn:aws:kms:${s.region}:${s.account}:key/*`,
      Condition: { StringEquals: { 'kms:ViaService': via.length === 1 ? via[0]! : via } },
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}
