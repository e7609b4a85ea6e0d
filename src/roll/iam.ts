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
