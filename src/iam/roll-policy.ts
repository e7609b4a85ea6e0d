// The roll role: roll, rollback, status and history (pure). Launching is scoped to the group's launch template,
// PassRole to the role that template's instance profile holds.
import { allOf, asgArn, each, ec2Arns, inRegions, stringCondition, type Policy, type PolicyScope, type Statement } from './scope.js';

/** The instance role's ARN: a name (optionally with a path) or a full ARN. */
function roleArn(s: PolicyScope, role: string): string {
  return role.startsWith('arn:') ? role : `arn:${s.partition}:iam::${s.account}:role/${role.replace(/^\/+/, '')}`;
}

function launchStatements(s: PolicyScope): Statement[] {
  const lt = ec2Arns(s, 'launch-template', s.launchTemplate);
  const out: Statement[] = [
    {
      Sid: 'NewLaunchTemplateVersion',
      Effect: 'Allow',
      Action: ['ec2:CreateLaunchTemplateVersion'],
      Resource: lt,
    },
    {
      Sid: 'LaunchOnlyThroughTheGroupsTemplate',
      Effect: 'Allow',
      // StartInstanceRefresh with a DesiredConfiguration: Auto Scaling checks the caller may launch what the launch
      // template describes ("Control Amazon EC2 launch template usage in Auto Scaling groups"). ec2:LaunchTemplate
      // is set on every resource of a launch from a template, so nothing can be launched any other way.
      Action: ['ec2:RunInstances'],
      Resource: '*',
      Condition: allOf(inRegions(s), { ArnLike: { 'ec2:LaunchTemplate': lt } }),
    },
    {
      Sid: 'TagOnlyAtLaunch',
      Effect: 'Allow',
      // The launch template's TagSpecifications: tags on create only, never on an existing resource.
      Action: ['ec2:CreateTags'],
      Resource: [ec2Arns(s, 'instance'), ec2Arns(s, 'volume'), ec2Arns(s, 'network-interface')].flat(),
      Condition: allOf(inRegions(s), stringCondition('ec2:CreateAction', 'RunInstances')),
    },
  ];
  if (s.instanceRole)
    out.push({
      Sid: 'PassOnlyTheInstanceRole',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: roleArn(s, s.instanceRole),
      Condition: stringCondition('iam:PassedToService', 'ec2.amazonaws.com'),
    });
  return out;
}

export function rollPolicy(s: PolicyScope): Policy {
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
        Condition: inRegions(s),
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
        Sid: 'DrainOneInstanceOfThisGroup',
        Effect: 'Allow',
        // `sipbake drain INSTANCE-ID`: the termination hook and the agent's drain, then a replacement (the desired
        // capacity is kept). Scoped to the group like the refresh actions.
        Action: ['autoscaling:TerminateInstanceInAutoScalingGroup'],
        Resource: each(s, (r) => asgArn(s, r)),
      },
      ...launchStatements(s),
    ],
  };
}
