// EC2 commands of the fake: images (DescribeImages with tag filters, deregister, disable) and launch templates.
import type { Region } from './region.js';
import { awsError } from './faults.js';
import type { FakeImage } from './model.js';
import { ec2BakeHandlers } from './handlers-ec2-bake.js';

type In = Record<string, any>;
const HOUR = 3600_000;

const tagList = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));

function imageView(img: FakeImage) {
  return {
    ImageId: img.ImageId,
    Name: img.Name,
    State: img.State,
    Architecture: img.Architecture,
    CreationDate: img.CreationDate,
    Tags: tagList(img.Tags),
    ...(img.OwnerId ? { OwnerId: img.OwnerId } : {}),
    ...(img.ImdsSupport ? { ImdsSupport: img.ImdsSupport } : {}),
    ...(img.DeprecationTime ? { DeprecationTime: img.DeprecationTime } : {}),
    ...(img.snapshotIds
      ? {
          BlockDeviceMappings: img.snapshotIds.map((SnapshotId, n) => ({
            DeviceName: n === 0 ? '/dev/xvda' : `/dev/xvd${'bcdefgh'[n - 1]}`,
            Ebs: { SnapshotId, Encrypted: !!img.encrypted },
          })),
        }
      : {}),
  };
}

function filterMatch(img: FakeImage, f: { Name: string; Values: string[] }): boolean {
  const pattern = (v: string) =>
    new RegExp(
      `^${v
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
  const any = (value: string | undefined) => value !== undefined && f.Values.some((v) => pattern(v).test(value));
  if (f.Name.startsWith('tag:')) return any(img.Tags[f.Name.slice(4)]);
  if (f.Name === 'tag-key') return Object.keys(img.Tags).some((k) => f.Values.includes(k));
  if (f.Name === 'state') return any(img.State);
  if (f.Name === 'name') return any(img.Name);
  if (f.Name === 'architecture') return any(img.Architecture);
  if (f.Name === 'image-id') return any(img.ImageId);
  if (f.Name === 'root-device-type') return any(img.RootDeviceType ?? 'ebs');
  if (f.Name === 'virtualization-type') return any(img.VirtualizationType ?? 'hvm');
  if (f.Name === 'owner-id') return any(img.OwnerId);
  throw awsError('InvalidParameterValue', `The filter '${f.Name}' is not supported by the fake; add it in handlers-ec2.ts`);
}

function ltVersionView(f: Region, ltId: string, n: number) {
  const { lt, v } = f.ltVersion(ltId, n)!;
  const { HttpTokens, ...rest } = v.data;
  return {
    LaunchTemplateId: lt.LaunchTemplateId,
    LaunchTemplateName: lt.LaunchTemplateName,
    VersionNumber: v.VersionNumber,
    VersionDescription: v.VersionDescription,
    CreateTime: v.CreateTime,
    DefaultVersion: lt.DefaultVersionNumber === v.VersionNumber,
    LaunchTemplateData: {
      ...rest,
      MetadataOptions: { ...(HttpTokens ? { HttpTokens } : {}), HttpEndpoint: 'enabled' },
    },
  };
}

export function ec2Handlers(f: Region): Record<string, (input: In) => unknown> {
  return {
    ...ec2BakeHandlers(f),
    DescribeImages(input) {
      const visible = (img: FakeImage, byId: boolean) => {
        if (img.State === 'deregistered') return byId && img.deregisteredAt !== undefined && f.nowMs - img.deregisteredAt < HOUR;
        if (img.State === 'disabled') return byId || input.IncludeDisabled === true;
        return true;
      };
      // Eventual consistency: a fresh AMI is unknown for consistencyLagSeconds ("Eventual consistency in the
      // Amazon EC2 API"); by id that is InvalidAMIID.NotFound, in listings it is simply absent.
      const known = (img: FakeImage) => img.visibleAt === undefined || f.nowMs >= img.visibleAt;
      const owned = (img: FakeImage) => {
        const owners = input.Owners as string[] | undefined;
        if (!owners?.length) return true;
        return owners.some((o) => (o === 'self' ? (img.OwnerId ?? f.account) === f.account : (img.OwnerId ?? f.account) === o));
      };
      let imgs: FakeImage[];
      if (input.ImageIds?.length) {
        const missing = (input.ImageIds as string[]).filter((id) => {
          const i = f.images.get(id);
          return !i || !known(i);
        });
        if (missing.length) throw awsError('InvalidAMIID.NotFound', `The image id '[${missing.join(', ')}]' does not exist`);
        imgs = (input.ImageIds as string[]).map((id) => f.images.get(id)).filter((i): i is FakeImage => !!i && visible(i, true));
      } else imgs = [...f.images.values()].filter((i) => visible(i, false) && known(i) && owned(i));
      for (const flt of (input.Filters ?? []) as { Name: string; Values: string[] }[]) imgs = imgs.filter((i) => filterMatch(i, flt));
      return { Images: imgs.map(imageView) };
    },
    DeregisterImage(input) {
      const img = f.images.get(input.ImageId);
      if (!img || img.State === 'deregistered') throw awsError('InvalidAMIID.NotFound', `The image id '[${input.ImageId}]' does not exist`);
      img.State = 'deregistered';
      img.deregisteredAt = f.nowMs;
      return { Return: true };
    },
    DisableImage(input) {
      const img = f.images.get(input.ImageId);
      if (!img) throw awsError('InvalidAMIID.NotFound', `The image id '[${input.ImageId}]' does not exist`);
      img.State = 'disabled';
      return { Return: true };
    },
    EnableImage(input) {
      const img = f.images.get(input.ImageId);
      if (!img) throw awsError('InvalidAMIID.NotFound', `The image id '[${input.ImageId}]' does not exist`);
      img.State = 'available';
      return { Return: true };
    },
    CreateTags(input) {
      for (const id of input.Resources as string[]) {
        const target = f.images.get(id)?.Tags ?? f.snapshots.get(id)?.Tags ?? f.ec2Instances.get(id)?.Tags;
        if (target) for (const t of input.Tags as { Key: string; Value: string }[]) target[t.Key] = t.Value;
      }
      return {};
    },
    DescribeLaunchTemplateVersions(input) {
      const found = f.ltVersion(input.LaunchTemplateId ?? input.LaunchTemplateName, 1);
      if (!found)
        throw awsError('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${input.LaunchTemplateId}, does not exist.`);
      const versions = (input.Versions as string[] | undefined) ?? found.lt.versions.map((v) => String(v.VersionNumber));
      const out = versions.map((v) => {
        const r = f.ltVersion(found.lt.LaunchTemplateId, v);
        if (!r) throw awsError('InvalidLaunchTemplateId.VersionNotFound', `Could not find launch template version ${v} of ${found.lt.LaunchTemplateId}`);
        return ltVersionView(f, r.lt.LaunchTemplateId, r.v.VersionNumber);
      });
      return { LaunchTemplateVersions: out.sort((a, b) => b.VersionNumber - a.VersionNumber) };
    },
    CreateLaunchTemplateVersion(input) {
      const src = f.ltVersion(input.LaunchTemplateId ?? input.LaunchTemplateName, input.SourceVersion ?? '$Latest');
      if (!src) throw awsError('InvalidLaunchTemplateId.NotFound', `launch template ${input.LaunchTemplateId} or version ${input.SourceVersion} not found`);
      const data: typeof src.v.data = input.SourceVersion ? { ...src.v.data } : { ImageId: '', InstanceType: 't3.small' };
      const { MetadataOptions, ...given } = (input.LaunchTemplateData ?? {}) as In;
      Object.assign(data, given);
      if (MetadataOptions?.HttpTokens) data.HttpTokens = MetadataOptions.HttpTokens;
      const n = Math.max(...src.lt.versions.map((v) => v.VersionNumber)) + 1;
      src.lt.versions.push({
        VersionNumber: n,
        VersionDescription: input.VersionDescription,
        CreateTime: new Date(f.nowMs),
        data,
      });
      return { LaunchTemplateVersion: ltVersionView(f, src.lt.LaunchTemplateId, n) };
    },
    DescribeInstances(input) {
      const ids = (input.InstanceIds as string[] | undefined) ?? [...f.instances.keys(), ...f.ec2Instances.keys()];
      const lag = f.opts.consistencyLagSeconds * 1000;
      const instances = ids.map((id) => {
        const plain = f.ec2Instances.get(id);
        if (plain && f.nowMs >= plain.launchedAt + lag)
          return {
            InstanceId: id,
            ImageId: plain.ImageId,
            LaunchTime: new Date(plain.launchedAt),
            State: { Name: plain.State },
            Tags: tagList(plain.Tags),
            MetadataOptions: plain.MetadataOptions,
          };
        const i = f.instances.get(id);
        // Eventual consistency: an instance just launched is not yet known to DescribeInstances.
        if (!i || f.nowMs < (i.knownAt ?? i.launchedAt + lag)) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
        const state = i.LifecycleState === 'Terminated' ? 'terminated' : i.LifecycleState === 'Pending' ? 'pending' : 'running';
        return {
          InstanceId: i.InstanceId,
          ImageId: i.ImageId,
          LaunchTime: new Date(i.launchedAt),
          State: { Name: state },
          // A terminated instance has released its network interface: no private address any more.
          ...(state !== 'terminated' && i.PrivateIpAddress ? { PrivateIpAddress: i.PrivateIpAddress } : {}),
        };
      });
      return { Reservations: instances.length ? [{ Instances: instances }] : [] };
    },
  };
}
