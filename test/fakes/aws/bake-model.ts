// The amazon-ebs builder's AWS calls, modelled from hashicorp/packer-plugin-amazon for the options the generated
// packer.pkr.hcl sets, and sent through the fake's SDK clients so every one is IAM-evaluated in its region:
//   builder/ebs/builder.go                       the step order
//   builder/common/step_pre_validate.go          DescribeImages by ami_name (must be unused)
//   builder/common/step_source_ami_info.go       DescribeImages with source_ami_filter
//   builder/common/step_key_pair.go              CreateKeyPair … DeleteKeyPair (cleanup)
//   builder/common/step_security_group.go        CreateSecurityGroup, AuthorizeSecurityGroupIngress (port 22 from
//                                                temporary_security_group_source_public_ip: this host's /32), DescribeSecurityGroups
//   builder/common/step_run_source_instance.go   RunInstances (run_tags, run_volume_tags, metadata_options), DescribeInstances
//   builder/common/step_stop_ebs_instance.go     StopInstances
//   builder/ebs/step_create_ami.go               encrypt_boot: CreateImage under a random temporary name, run tags on
//                                                image + snapshot ("intermediary_image"); wait; DescribeImages
//   builder/common/step_ami_region_copy.go       intermediary: CopyImage (Encrypted, KmsKeyId from kms_key_id /
//                                                region_kms_key_ids; tags are not copied) into the build region AND every
//                                                ami_regions region; cleanup deregisters the temporary AMI and deletes its snapshots
//   builder/common/step_enable_deprecation.go    EnableImageDeprecation per region (deprecate_at)
//   builder/common/step_modify_ami_attributes.go ModifyImageAttribute LaunchPermission per region (ami_users)
//   builder/common/step_create_tags.go           CreateTags on each AMI and its snapshots (tags, snapshot_tags)
// then the remaining cleanups in reverse: TerminateInstances, DeleteSecurityGroup, DeleteKeyPair.
// GovCloud and China (IsRestricted in the plugin's step_create_ami.go, step_run_source_instance.go): nothing is
// tagged on create; the instance gets its run tags by CreateTags after launch, and the temporary AMI none at all.
import {
  AuthorizeSecurityGroupIngressCommand,
  CopyImageCommand,
  CreateImageCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeRegionsCommand,
  DescribeSecurityGroupsCommand,
  EnableImageDeprecationCommand,
  ModifyImageAttributeCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';
import type { PackerRunner } from '../../../src/bake/packer-run.js';
import { partitionOf } from '../../../src/iam/policies.js';
import type { FakeAwsHandle } from './index.js';

export interface BakeVars {
  region: string;
  ami_regions: string[];
  ami_users: string[];
  deprecate_after_days: number;
  image_name: string;
  content_hash: string;
  content_parts: string;
  kamailio_version: string;
  rtpproxy_version: string;
  git_commit: string;
  architecture: string;
  instance_type: string;
  manifest_path: string;
  kms_key_id?: string;
}

/** What the generated template asks of the builder (read from packer.pkr.hcl, not assumed). */
export interface TemplateOptions {
  encryptBoot: boolean;
  imdsSupport?: string;
  httpTokens?: string;
  sourcePublicIp: boolean;
  sourceOwner: string;
}

/** The builder's public address as checkip.amazonaws.com would report it (documentation range, RFC 5737). */
export const BUILDER_PUBLIC_IP = '203.0.113.7';

/** The part of @cdktf/hcl2json's output for packer.pkr.hcl that templateOptions reads (every block is a list). */
interface ParsedTemplate {
  source: { 'amazon-ebs': { sipbake: AmazonEbsSource[] } };
}
interface AmazonEbsSource {
  encrypt_boot?: boolean;
  imds_support?: string;
  metadata_options?: { http_tokens?: string }[];
  temporary_security_group_source_public_ip?: boolean;
  source_ami_filter: { owners: string[] }[];
}

export async function templateOptions(file: string): Promise<TemplateOptions> {
  const j = (await parse(path.basename(file), await readFile(file, 'utf8'))) as ParsedTemplate;
  const src = j.source['amazon-ebs'].sipbake[0];
  const owner = src?.source_ami_filter[0]?.owners[0];
  if (src === undefined || owner === undefined) throw new Error(`${file}: no source "amazon-ebs" "sipbake" with a source_ami_filter owner`);
  return {
    encryptBoot: src.encrypt_boot === true,
    imdsSupport: src.imds_support,
    httpTokens: src.metadata_options?.[0]?.http_tokens,
    sourcePublicIp: src.temporary_security_group_source_public_ip === true,
    sourceOwner: owner,
  };
}

function parseVarFile(text: string): BakeVars {
  const str = (k: string) => new RegExp(`^${k}\\s*=\\s*"([^"]*)"`, 'm').exec(text)?.[1] ?? '';
  const num = (k: string) => Number(new RegExp(`^${k}\\s*=\\s*(\\d+)`, 'm').exec(text)?.[1] ?? '0');
  const list = (k: string) => JSON.parse(new RegExp(`^${k}\\s*=\\s*(\\[.*\\])`, 'm').exec(text)?.[1] ?? '[]') as string[];
  return {
    region: str('region'),
    ami_regions: list('ami_regions'),
    ami_users: list('ami_users'),
    deprecate_after_days: num('deprecate_after_days'),
    image_name: str('image_name'),
    content_hash: str('content_hash'),
    content_parts: str('content_parts'),
    kamailio_version: str('kamailio_version'),
    rtpproxy_version: str('rtpproxy_version'),
    git_commit: str('git_commit'),
    architecture: str('architecture') || 'x86_64',
    instance_type: str('instance_type'),
    manifest_path: str('manifest_path'),
    kms_key_id: str('kms_key_id'),
  };
}

/** Adds the official Debian 12 base AMI the source_ami_filter finds, in a region's fake. */
export function seedDebianBase(h: FakeAwsHandle, owner = '136693071363'): string {
  return h.fake.addImage({
    Name: 'debian-12-amd64-20251201-1234',
    OwnerId: owner,
    Tags: {},
    ImdsSupport: undefined,
    RootDeviceType: 'ebs',
    VirtualizationType: 'hvm',
  }).ImageId;
}

type Log = (line: string) => void;

/** Polls like the plugin's WaitUntilAMIAvailable: NotFound (eventual consistency) and pending are retried. */
async function waitAvailable(h: FakeAwsHandle, ec2: EC2Client, id: string): Promise<void> {
  for (let n = 0; n < 240; n++) {
    try {
      const r = await ec2.send(new DescribeImagesCommand({ ImageIds: [id] }));
      const state = r.Images?.[0]?.State;
      if (state === 'available') return;
      if (state === 'failed') throw new Error(`AMI ${id} failed`);
    } catch (e) {
      if ((e as Error).name !== 'InvalidAMIID.NotFound') throw e;
    }
    await h.fake.clock.sleep(15_000);
  }
  throw new Error(`AMI ${id} never became available`);
}

/** Runs the builder's call sequence against the per-region fakes. Returns the AMI id per region. */
export async function amazonEbsBuild(
  regions: Map<string, FakeAwsHandle>,
  v: BakeVars,
  t: TemplateOptions,
  log: Log = () => {},
): Promise<Record<string, string>> {
  const home = regions.get(v.region);
  if (!home) throw new Error(`bake model: no fake for build region ${v.region}`);
  const ec2 = home.clients.ec2;
  const stamp = new Date(home.fake.nowMs).toISOString().replace(/\D/g, '').slice(0, 14);
  const amiName = `sipbake-${v.image_name}-${v.content_hash.slice(0, 12)}-${stamp}`;
  const runTags = { Name: `sipbake-bake-${v.image_name}`, 'sipbake:image': v.image_name };
  const tagList = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
  const cleanups: (() => Promise<unknown>)[] = [];
  const restricted = partitionOf(v.region) !== 'aws';
  const onCreate = (specs: { ResourceType: 'instance' | 'volume' | 'image' | 'snapshot'; Tags: { Key: string; Value: string }[] }[]) =>
    restricted ? {} : { TagSpecifications: specs };
  try {
    // Prevalidate: the AMI name must be free in the build region.
    const taken = await ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [amiName] }] }));
    if (taken.Images?.length) throw new Error(`Error: AMI Name: '${amiName}' is used by an existing AMI`);
    if (v.ami_regions.length) await ec2.send(new DescribeRegionsCommand({ AllRegions: true }));
    const src = await ec2.send(
      new DescribeImagesCommand({
        Owners: [t.sourceOwner],
        Filters: [
          { Name: 'name', Values: [`debian-12-${v.architecture === 'arm64' ? 'arm64' : 'amd64'}-*`] },
          { Name: 'root-device-type', Values: ['ebs'] },
          { Name: 'virtualization-type', Values: ['hvm'] },
        ],
      }),
    );
    const sourceAmi = src.Images?.sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''))[0]?.ImageId;
    if (!sourceAmi) throw new Error('No AMI was found matching filters');
    log(`==> amazon-ebs.sipbake: Found Image ID: ${sourceAmi}`);

    const keyName = `packer_${crypto.randomUUID()}`;
    await ec2.send(new CreateKeyPairCommand({ KeyName: keyName }));
    cleanups.push(() => ec2.send(new DeleteKeyPairCommand({ KeyName: keyName })));
    const sg = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: `packer_${crypto.randomUUID()}`,
        Description: 'Temporary group for Packer',
      }),
    );
    cleanups.push(() => ec2.send(new DeleteSecurityGroupCommand({ GroupId: sg.GroupId! })));
    const cidr = t.sourcePublicIp ? `${BUILDER_PUBLIC_IP}/32` : '0.0.0.0/0';
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: sg.GroupId!,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: cidr }] }],
      }),
    );
    await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [sg.GroupId!] }));

    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: sourceAmi,
        InstanceType: v.instance_type as never,
        MinCount: 1,
        MaxCount: 1,
        KeyName: keyName,
        SecurityGroupIds: [sg.GroupId!],
        MetadataOptions: {
          HttpEndpoint: 'enabled',
          HttpTokens: (t.httpTokens ?? 'optional') as never,
          HttpPutResponseHopLimit: 1,
        },
        ...onCreate([
          { ResourceType: 'instance', Tags: tagList(runTags) },
          { ResourceType: 'volume', Tags: tagList({ 'sipbake:image': v.image_name }) },
        ]),
      }),
    );
    const instanceId = run.Instances![0]!.InstanceId!;
    cleanups.push(() => ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })));
    await describeInstanceWithRetry(home, instanceId);
    if (restricted) await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: tagList(runTags) }));
    log('==> amazon-ebs.sipbake: Provisioning (modelled: no AWS calls)');
    await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));

    // encrypt_boot: a temporary, unencrypted AMI under a random name, with the run tags on image and snapshot.
    const firstName = t.encryptBoot ? Math.random().toString(36).slice(2, 9) : amiName;
    const created = await ec2.send(
      new CreateImageCommand({
        InstanceId: instanceId,
        Name: firstName,
        ...onCreate([
          { ResourceType: 'image', Tags: tagList(runTags) },
          { ResourceType: 'snapshot', Tags: tagList(runTags) },
        ]),
      }),
    );
    const firstAmi = created.ImageId!;
    await waitAvailable(home, ec2, firstAmi);
    const first = (await ec2.send(new DescribeImagesCommand({ ImageIds: [firstAmi] }))).Images![0]!;
    const amis: Record<string, string> = { [v.region]: firstAmi };
    if (t.encryptBoot) {
      cleanups.push(async () => {
        await ec2.send(new DeregisterImageCommand({ ImageId: firstAmi }));
        for (const b of first.BlockDeviceMappings ?? []) if (b.Ebs?.SnapshotId) await ec2.send(new DeleteSnapshotCommand({ SnapshotId: b.Ebs.SnapshotId }));
      });
    }
    // Region copy: with an intermediary image the build region is copied too (DeduplicateRegions).
    const copyTo = [...new Set([...(t.encryptBoot ? [v.region] : []), ...v.ami_regions.filter((r) => r !== v.region || t.encryptBoot)])];
    for (const r of copyTo) {
      const h = regions.get(r);
      if (!h) throw new Error(`bake model: no fake for ami_regions region ${r}`);
      log(`==> amazon-ebs.sipbake: Copying/Encrypting AMI (${firstAmi}) to other regions... ${r}`);
      const c = await h.clients.ec2.send(
        new CopyImageCommand({
          SourceRegion: v.region,
          SourceImageId: firstAmi,
          Name: amiName,
          Encrypted: t.encryptBoot,
          ...(v.kms_key_id ? { KmsKeyId: v.kms_key_id } : {}),
        }),
      );
      await waitAvailable(h, h.clients.ec2, c.ImageId!);
      amis[r] = c.ImageId!;
    }
    if (v.deprecate_after_days > 0) {
      const at = new Date(home.fake.nowMs + v.deprecate_after_days * 86400_000);
      for (const [r, id] of Object.entries(amis)) await regions.get(r)!.clients.ec2.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: at }));
    }
    if (v.ami_users.length) {
      for (const [r, id] of Object.entries(amis))
        await regions.get(r)!.clients.ec2.send(
          new ModifyImageAttributeCommand({
            ImageId: id,
            LaunchPermission: { Add: v.ami_users.map((UserId) => ({ UserId })) },
          }),
        );
    }
    const tags = {
      'sipbake:image': v.image_name,
      'sipbake:content-hash': v.content_hash,
      'sipbake:content-parts': v.content_parts,
      'sipbake:kamailio-version': v.kamailio_version,
      'sipbake:rtpproxy-version': v.rtpproxy_version,
      'sipbake:git-commit': v.git_commit,
      'sipbake:built-at': new Date(home.fake.nowMs).toISOString(),
      'sipbake:source-ami': sourceAmi,
    };
    for (const [r, id] of Object.entries(amis)) {
      const e = regions.get(r)!.clients.ec2;
      const img = (await e.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0]!;
      const snaps = (img.BlockDeviceMappings ?? []).flatMap((b) => (b.Ebs?.SnapshotId ? [b.Ebs.SnapshotId] : []));
      await e.send(new CreateTagsCommand({ Resources: [id], Tags: tagList(tags) }));
      if (snaps.length) await e.send(new CreateTagsCommand({ Resources: snaps, Tags: tagList(tags) }));
    }
    return amis;
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

async function describeInstanceWithRetry(h: FakeAwsHandle, id: string): Promise<void> {
  for (let n = 0; n < 40; n++) {
    try {
      await h.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      return;
    } catch (e) {
      // The plugin retries InvalidInstanceID.NotFound right after RunInstances (eventual consistency).
      if ((e as Error).name !== 'InvalidInstanceID.NotFound') throw e;
      await h.fake.clock.sleep(5000);
    }
  }
  throw new Error(`instance ${id} never became visible`);
}

/**
 * A PackerRunner for buildImage: `init` does nothing, `build` reads the var file and the generated template in
 * its working directory, runs amazonEbsBuild against the fakes, and writes the manifest as the post-processor would.
 */
export function modelledPacker(regions: Map<string, FakeAwsHandle>, o: { log?: Log } = {}): PackerRunner & { runs: BakeVars[] } {
  const runs: BakeVars[] = [];
  return {
    runs,
    async run(args, ro) {
      if (args[0] !== 'build') return { output: [] };
      const varArg = args.find((a) => a.startsWith('-var-file='))!.slice('-var-file='.length);
      const v = parseVarFile(await readFile(path.resolve(ro.cwd, varArg), 'utf8'));
      runs.push(v);
      const t = await templateOptions(path.join(ro.cwd, 'packer.pkr.hcl'));
      const amis = await amazonEbsBuild(regions, v, t, o.log);
      const artifact = Object.entries(amis)
        .map(([r, id]) => `${r}:${id}`)
        .join(',');
      await writeFile(
        path.resolve(ro.cwd, v.manifest_path),
        JSON.stringify({
          builds: [
            {
              name: 'sipbake',
              builder_type: 'amazon-ebs',
              artifact_id: artifact,
              packer_run_uuid: 'model',
              custom_data: { content_hash: v.content_hash, image: v.image_name },
            },
          ],
          last_run_uuid: 'model',
        }),
      );
      return { output: [] };
    },
  };
}
