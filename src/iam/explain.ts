// `sipbake iam ROLE --explain`: each statement of the printed policy with the calls it serves (pure).
import type { Policy } from './scope.js';

/** Who makes the calls a statement allows, by Sid. Packer steps are packer-plugin-amazon's file names. */
const SERVES: Record<string, string[]> = {
  // build
  PackerReads: ['Packer: every step looks up what it made (DescribeImages, DescribeInstances, DescribeRegions for ami_regions, …)'],
  TemporaryKeyPair: ['Packer step_key_pair.go: CreateKeyPair packer_<uuid>, DeleteKeyPair at cleanup'],
  TemporarySecurityGroup: ['Packer step_security_group.go: CreateSecurityGroup, AuthorizeSecurityGroupIngress (22/tcp from this host), DeleteSecurityGroup'],
  LaunchTheBuildInstance: ['Packer step_run_source_instance.go: RunInstances (the instance and its volumes, with run_tags)'],
  LaunchFromTheSourceAmi: ['Packer step_run_source_instance.go: RunInstances (the Debian AMI, subnet, interface, temporary group and key pair)'],
  StopImageAndTerminateTheBuildInstance: [
    'Packer step_stop_ebs_instance.go: StopInstances',
    'Packer step_create_ami.go: CreateImage',
    'Packer cleanup: TerminateInstances',
  ],
  TagOnlyOnCreate: ['Packer: run_tags on RunInstances and CreateImage (tags on create only)'],
  TagTheBuildInstanceAfterLaunch: ['Packer step_run_source_instance.go in GovCloud/China: CreateTags with run_tags after launch'],
  CreateAndCopyTheAmi: ['Packer step_create_ami.go: CreateImage (the temporary AMI)', 'Packer step_ami_region_copy.go: CopyImage (encrypted, every region)'],
  DeprecateAndShareTheCopies: [
    'Packer step_enable_deprecation.go: EnableImageDeprecation (deprecate_at)',
    'Packer step_modify_ami_attributes.go: ModifyImageAttribute (ami_users)',
  ],
  TagThisImagesAmis: ['Packer step_create_tags.go: CreateTags (sipbake:* on each AMI and its snapshots)'],
  RetireOnlyThisImagesAmis: ['sipbake: DeregisterImage, DisableImage, EnableImage of this image’s AMIs'],
  RemoveTheTemporaryAmi: ['Packer step_ami_region_copy.go cleanup: DeregisterImage and DeleteSnapshot of the temporary AMI'],
  RemoveTheUntaggedTemporaryAmi: ['Packer step_ami_region_copy.go cleanup in GovCloud/China: DeregisterImage and DeleteSnapshot of the untagged temporary AMI'],
  EncryptWithTheCustomerManagedKey: [
    'EBS for Packer (bake.kmsKeyId): CopyImage with KmsKeyId, encrypted volumes (CreateGrant, GenerateDataKeyWithoutPlaintext, Decrypt, ReEncrypt*)',
  ],
  // roll
  ReadState: [
    'sipbake roll, status, history: DescribeAutoScalingGroups, DescribeInstanceRefreshes, DescribeLaunchTemplateVersions, DescribeTargetHealth, DescribeAlarms, …',
  ],
  RefreshThisGroup: [
    'sipbake roll: StartInstanceRefresh, PutLifecycleHook, CreateOrUpdateTags/DeleteTags (lease, record)',
    'sipbake rollback: RollbackInstanceRefresh, CancelInstanceRefresh',
  ],
  NewLaunchTemplateVersion: ['sipbake roll: CreateLaunchTemplateVersion (the new AMI) on the group’s launch template'],
  LaunchOnlyThroughTheGroupsTemplate: ['Auto Scaling for StartInstanceRefresh: RunInstances from the desired launch template version'],
  TagOnlyAtLaunch: ['Auto Scaling for StartInstanceRefresh: the launch template’s TagSpecifications (CreateTags on create)'],
  PassOnlyTheInstanceRole: ['Auto Scaling for StartInstanceRefresh: iam:PassRole of the launch template’s instance profile role'],
  // instance
  FindOwnGroupAndHook: [
    'drain agent: DescribeAutoScalingInstances, DescribeLifecycleHooks; the hand-off peer (DescribeAutoScalingGroups, DescribeTargetHealth, DescribeInstances)',
  ],
  DrainLifecycleHook: ['drain agent: RecordLifecycleActionHeartbeat, CompleteLifecycleAction'],
  BootSecretsFromParameterStore: ['boot: ssm:GetParameter of the definition’s secrets'],
  BootSecretsFromSecretsManager: ['boot: secretsmanager:GetSecretValue of the definition’s secrets'],
  DecryptBootSecrets: ['boot: kms:Decrypt through SSM / Secrets Manager'],
};

export interface Explained {
  sid: string;
  actions: string[];
  serves: string[];
}

export function explainPolicy(p: Policy): Explained[] {
  return p.Statement.map((s) => ({ sid: s.Sid, actions: s.Action, serves: SERVES[s.Sid] ?? [] }));
}

/** Plain text: one block per statement. */
export function explainText(p: Policy): string {
  return explainPolicy(p)
    .map((e) => [`${e.sid}: ${e.actions.join(', ')}`, ...e.serves.map((c) => `  serves ${c}`)].join('\n'))
    .join('\n');
}
