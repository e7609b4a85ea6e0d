// EC2 commands the amazon-ebs builder calls (modelled in bake-model.ts): key pair, security group, the build
// instance, CreateImage, CopyImage (encrypted, across regions), deprecation, sharing, snapshots.
// Sources: hashicorp/packer-plugin-amazon builder/common/step_*.go, builder/ebs/step_create_ami.go, and the EC2
// API reference for each call's errors. README.md in this folder lists what is modelled.
import type { Region } from './region.js';
import { awsError } from './faults.js';
import type { FakeImage } from './model.js';

type In = Record<string, any>;
const sec = 1000;
/** The AWS managed key EBS uses when encryption is asked for without a KmsKeyId. */
const AWS_MANAGED_EBS_KEY = 'alias/aws/ebs';

const tagsOf = (specs: { ResourceType?: string; Tags?: { Key: string; Value: string }[] }[] | undefined, type: string) =>
  Object.fromEntries(
    (specs ?? [])
      .filter((s) => s.ResourceType === type)
      .flatMap((s) => s.Tags ?? [])
      .map((t) => [t.Key, t.Value]),
  );

function newImage(f: Region, o: Partial<FakeImage> & { Name: string; Tags: Record<string, string>; Architecture: FakeImage['Architecture'] }): FakeImage {
  const snap = f.nextId('snap');
  f.snapshots.set(snap, {
    SnapshotId: snap,
    encrypted: !!o.encrypted,
    ...(o.kmsKeyId ? { kmsKeyId: o.kmsKeyId } : {}),
    Tags: {},
  });
  return f.addImage({
    ...o,
    State: 'pending',
    availableAt: f.nowMs + f.opts.amiSeconds * sec,
    visibleAt: f.nowMs + f.opts.consistencyLagSeconds * sec,
    snapshotIds: [snap],
    OwnerId: f.account,
    RootDeviceType: 'ebs',
    VirtualizationType: 'hvm',
    CreationDate: new Date(f.nowMs).toISOString(),
  });
}

function imageOrThrow(f: Region, id: string): FakeImage {
  const img = f.images.get(id);
  if (!img || img.State === 'deregistered') throw awsError('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
  return img;
}

export function ec2BakeHandlers(f: Region): Record<string, (input: In) => unknown> {
  return {
    DescribeRegions() {
      return {
        Regions: ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'us-gov-west-1'].map((RegionName) => ({ RegionName })),
      };
    },
    DescribeVpcs(input) {
      return {
        Vpcs: ((input.VpcIds as string[] | undefined) ?? ['vpc-default']).map((VpcId) => ({
          VpcId,
          IsDefault: VpcId === 'vpc-default',
        })),
      };
    },
    DescribeSubnets(input) {
      return {
        Subnets: ((input.SubnetIds as string[] | undefined) ?? []).map((SubnetId) => ({
          SubnetId,
          VpcId: 'vpc-default',
          AvailabilityZone: `${f.opts.region}a`,
        })),
      };
    },
    CreateKeyPair(input) {
      if (f.keyPairs.has(input.KeyName)) throw awsError('InvalidKeyPair.Duplicate', `The keypair '${input.KeyName}' already exists.`);
      f.keyPairs.add(input.KeyName);
      return {
        KeyName: input.KeyName,
        KeyPairId: f.nextId('key'),
        KeyMaterial: '-----BEGIN RSA PRIVATE KEY-----\nfake\n-----END RSA PRIVATE KEY-----',
      };
    },
    DeleteKeyPair(input) {
      f.keyPairs.delete(input.KeyName);
      return { Return: true };
    },
    CreateSecurityGroup(input) {
      const GroupId = f.nextId('sg');
      f.securityGroups.set(GroupId, { GroupId, GroupName: input.GroupName, VpcId: input.VpcId, ingress: [] });
      return { GroupId };
    },
    AuthorizeSecurityGroupIngress(input) {
      const g = f.securityGroups.get(input.GroupId);
      if (!g) throw awsError('InvalidGroup.NotFound', `The security group '${input.GroupId}' does not exist`);
      for (const p of (input.IpPermissions ?? []) as In[])
        for (const r of (p.IpRanges ?? []) as In[]) g.ingress.push({ IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort, CidrIp: r.CidrIp });
      return { Return: true };
    },
    DescribeSecurityGroups(input) {
      return {
        SecurityGroups: ((input.GroupIds as string[] | undefined) ?? [...f.securityGroups.keys()]).flatMap((id) => {
          const g = f.securityGroups.get(id);
          return g
            ? [
                {
                  GroupId: g.GroupId,
                  GroupName: g.GroupName,
                  VpcId: g.VpcId,
                  IpPermissions: g.ingress.map((r) => ({
                    IpProtocol: r.IpProtocol,
                    FromPort: r.FromPort,
                    ToPort: r.ToPort,
                    IpRanges: [{ CidrIp: r.CidrIp }],
                  })),
                },
              ]
            : [];
        }),
      };
    },
    DeleteSecurityGroup(input) {
      if (!f.securityGroups.delete(input.GroupId)) throw awsError('InvalidGroup.NotFound', `The security group '${input.GroupId}' does not exist`);
      return { Return: true };
    },
    RunInstances(input) {
      const img = imageOrThrow(f, input.ImageId);
      if (img.State !== 'available') throw awsError('InvalidAMIID.Unavailable', `The image id '[${input.ImageId}]' is not available`);
      const InstanceId = f.nextId('i');
      f.ec2Instances.set(InstanceId, {
        InstanceId,
        ImageId: input.ImageId,
        State: 'running',
        Tags: tagsOf(input.TagSpecifications, 'instance'),
        launchedAt: f.nowMs,
        MetadataOptions: input.MetadataOptions,
        SecurityGroupIds: input.SecurityGroupIds ?? [],
        ...(input.KeyName ? { KeyName: input.KeyName } : {}),
      });
      return { Instances: [{ InstanceId, ImageId: input.ImageId, State: { Name: 'pending' } }] };
    },
    StopInstances(input) {
      for (const id of input.InstanceIds as string[]) f.ec2Instances.get(id)!.State = 'stopped';
      return {
        StoppingInstances: (input.InstanceIds as string[]).map((InstanceId) => ({
          InstanceId,
          CurrentState: { Name: 'stopping' },
        })),
      };
    },
    TerminateInstances(input) {
      for (const id of input.InstanceIds as string[]) {
        const i = f.ec2Instances.get(id);
        if (!i) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
        i.State = 'terminated';
      }
      return {
        TerminatingInstances: (input.InstanceIds as string[]).map((InstanceId) => ({
          InstanceId,
          CurrentState: { Name: 'shutting-down' },
        })),
      };
    },
    CreateImage(input) {
      const i = f.ec2Instances.get(input.InstanceId);
      if (!i) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${input.InstanceId}' does not exist`);
      if ([...f.images.values()].some((x) => x.Name === input.Name && x.State !== 'deregistered'))
        throw awsError(
          'InvalidAMIName.Duplicate',
          `AMI name ${input.Name} is already in use by AMI ${[...f.images.values()].find((x) => x.Name === input.Name)!.ImageId}`,
        );
      const src = f.images.get(i.ImageId);
      const img = newImage(f, {
        Name: input.Name,
        Tags: tagsOf(input.TagSpecifications, 'image'),
        Architecture: src?.Architecture ?? 'x86_64',
        encrypted: false,
        ...(src?.ImdsSupport ? { ImdsSupport: src.ImdsSupport } : {}),
      });
      for (const s of img.snapshotIds!) f.snapshots.get(s)!.Tags = tagsOf(input.TagSpecifications, 'snapshot');
      return { ImageId: img.ImageId };
    },
    CopyImage(input) {
      const from = input.SourceRegion === f.opts.region ? f : f.peers.get(input.SourceRegion);
      if (!from) throw awsError('InvalidRegion', `fake: no fake for source region ${input.SourceRegion} (link them with linkRegions)`);
      const src = imageOrThrow(from, input.SourceImageId);
      if (src.State !== 'available') throw awsError('InvalidAMIID.Unavailable', `The image id '[${input.SourceImageId}]' is not available`);
      if ([...f.images.values()].some((x) => x.Name === input.Name && x.State !== 'deregistered'))
        throw awsError('InvalidAMIName.Duplicate', `AMI name ${input.Name} is already in use`);
      const encrypted = input.Encrypted === true || !!src.encrypted;
      const img = newImage(f, {
        Name: input.Name,
        Tags: input.CopyImageTags ? { ...src.Tags } : {},
        Architecture: src.Architecture,
        encrypted,
        ...(encrypted
          ? {
              kmsKeyId: input.KmsKeyId || (input.Encrypted ? AWS_MANAGED_EBS_KEY : src.kmsKeyId) || AWS_MANAGED_EBS_KEY,
            }
          : {}),
        ...(src.ImdsSupport ? { ImdsSupport: src.ImdsSupport } : {}),
      });
      return { ImageId: img.ImageId };
    },
    DeleteSnapshot(input) {
      if (!f.snapshots.delete(input.SnapshotId)) throw awsError('InvalidSnapshot.NotFound', `The snapshot '${input.SnapshotId}' does not exist.`);
      return {};
    },
    EnableImageDeprecation(input) {
      const img = imageOrThrow(f, input.ImageId);
      img.DeprecationTime = new Date(input.DeprecateAt).toISOString();
      return { Return: true };
    },
    ModifyImageAttribute(input) {
      const img = imageOrThrow(f, input.ImageId);
      const add = ((input.LaunchPermission?.Add ?? []) as { UserId?: string; Group?: string }[]).map((p) => p.UserId ?? p.Group ?? '');
      // "You can't share an AMI that has volumes that are encrypted with an AWS managed key"
      // (AWS docs, Share an AMI with specific AWS accounts).
      if (add.length && img.encrypted && (img.kmsKeyId ?? AWS_MANAGED_EBS_KEY) === AWS_MANAGED_EBS_KEY)
        throw awsError('InvalidParameter', `Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot.`);
      img.launchPermissions = [...new Set([...(img.launchPermissions ?? []), ...add])];
      return {};
    },
  };
}
