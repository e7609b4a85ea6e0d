// Per-image values for the one template, as a .pkrvars.hcl file (pure).
import type { ImageDefinition } from '../definition/schema.js';
import { attr, writeHcl, type HclValue } from './hcl.js';

export interface PackerVarsInput {
  image: ImageDefinition;
  contentHash: string;
  contentParts: string;
  kamailioVersion: string;
  rtpproxyVersion: string;
  gitCommit: string;
  region: string;
  treeDir: string;
  scriptsDir: string;
  bootPlaceholder: string;
  manifestPath: string;
}

export function packerVars(i: PackerVarsInput): Record<string, HclValue> {
  const b = i.image.bake;
  return {
    image_name: i.image.name,
    content_hash: i.contentHash,
    content_parts: i.contentParts,
    kamailio_version: i.kamailioVersion,
    rtpproxy_version: i.image.media.rtpproxy.enabled ? i.rtpproxyVersion : 'none',
    git_commit: i.gitCommit,
    region: i.region,
    instance_type: b.instanceType,
    architecture: b.architecture,
    subnet_id: b.subnetId ?? '',
    vpc_id: b.vpcId ?? '',
    ami_regions: b.amiRegions.filter((r) => r !== i.region),
    ami_users: b.amiUsers,
    deprecate_after_days: b.deprecateAfterDays ?? 0,
    kms_key_id: b.kmsKeyId ?? '',
    tree_dir: i.treeDir,
    scripts_dir: i.scriptsDir,
    boot_placeholder: i.bootPlaceholder,
    manifest_path: i.manifestPath,
  };
}

export function varFile(vars: Record<string, HclValue>): string {
  return writeHcl(Object.entries(vars).map(([k, v]) => attr(k, v)));
}
