// EC2 commands of the fake: images (DescribeImages with tag filters, deregister, disable) and launch templates.
import type { FakeAws } from './fake-aws.js';
import { awsError } from './faults.js';
import type { FakeImage } from './model.js';

type In = Record<string, any>;
const HOUR = 3600_000;

const tagList = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));

function imageView(img: FakeImage) {
  return { ImageId: img.ImageId, Name: img.Name, State: img.State, Architecture: img.Architecture, CreationDate: img.CreationDate, Tags: tagList(img.Tags) };
}

function filterMatch(img: FakeImage, f: { Name: string; Values: string[] }): boolean {
  const pattern = (v: string) => new RegExp(`^${v.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  const any = (value: string | undefined) => value !== undefined && f.Values.some((v) => pattern(v).test(value));
  if (f.Name.startsWith('tag:')) return any(img.Tags[f.Name.slice(4)]);
  if (f.Name === 'tag-key') return Object.keys(img.Tags).some((k) => f.Values.includes(k));
  if (f.Name === 'state') return any(img.State);
  if (f.Name === 'name') return any(img.Name);
  if (f.Name === 'architecture') return any(img.Architecture);
  if (f.Name === 'image-id') return any(img.ImageId);
  throw awsError('InvalidParameterValue', `The filter '${f.Name}' is not supported by the fake; add it in handlers-ec2.ts`);
}

function ltVersionView(f: FakeAws, ltId: string, n: number) {
  const { lt, v } = f.ltVersion(ltId, n)!;
  const { HttpTokens, ...rest } = v.data;
  return {
    LaunchTemplateId: lt.LaunchTemplateId,
    LaunchTemplateName: lt.LaunchTemplateName,
    VersionNumber: v.VersionNumber,
    VersionDescription: v.VersionDescription,
    CreateTime: v.CreateTime,
    DefaultVersion: lt.DefaultVersionNumber === v.VersionNumber,
    LaunchTemplateData: { ...rest, MetadataOptions: { HttpTokens, HttpEndpoint: 'enabled' } },
  };
}

export function ec2Handlers(f: FakeAws): Record<string, (input: In) => unknown> {
  return {
    DescribeImages(input) {
      const visible = (img: FakeImage, byId: boolean) => {
        if (img.State === 'deregistered') return byId && img.deregisteredAt !== undefined && f.nowMs - img.deregisteredAt < HOUR;
        if (img.State === 'disabled') return byId || input.IncludeDisabled === true;
        return true;
      };
      let imgs: FakeImage[];
      if (input.ImageIds?.length) {
        imgs = (input.ImageIds as string[]).map((id) => f.images.get(id)).filter((i): i is FakeImage => !!i && visible(i, true));
      } else imgs = [...f.images.values()].filter((i) => visible(i, false));
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
        const img = f.images.get(id);
        if (img) for (const t of input.Tags as { Key: string; Value: string }[]) img.Tags[t.Key] = t.Value;
      }
      return {};
    },
    DescribeLaunchTemplateVersions(input) {
      const found = f.ltVersion(input.LaunchTemplateId ?? input.LaunchTemplateName, 1);
      if (!found) throw awsError('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${input.LaunchTemplateId}, does not exist.`);
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
      const data: typeof src.v.data = input.SourceVersion ? { ...src.v.data } : { ImageId: '', InstanceType: 't3.small', HttpTokens: 'optional' };
      const { MetadataOptions, ...given } = (input.LaunchTemplateData ?? {}) as In;
      Object.assign(data, given);
      if (MetadataOptions?.HttpTokens) data.HttpTokens = MetadataOptions.HttpTokens;
      const n = Math.max(...src.lt.versions.map((v) => v.VersionNumber)) + 1;
      src.lt.versions.push({ VersionNumber: n, VersionDescription: input.VersionDescription, CreateTime: new Date(f.nowMs), data });
      return { LaunchTemplateVersion: ltVersionView(f, src.lt.LaunchTemplateId, n) };
    },
    DescribeInstances(input) {
      const ids = (input.InstanceIds as string[] | undefined) ?? [...f.instances.keys()];
      const instances = ids.map((id) => {
        const i = f.instances.get(id);
        if (!i) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
        const state = i.LifecycleState === 'Terminated' ? 'terminated' : i.LifecycleState === 'Pending' ? 'pending' : 'running';
        return { InstanceId: i.InstanceId, ImageId: i.ImageId, LaunchTime: new Date(i.launchedAt), State: { Name: state } };
      });
      return { Reservations: instances.length ? [{ Instances: instances }] : [] };
    },
  };
}
