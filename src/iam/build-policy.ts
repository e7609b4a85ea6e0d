// The build role: what Packer's amazon-ebs builder calls for the generated template (pure). Each statement
// names the builder step that needs it (hashicorp/packer-plugin-amazon builder/ebs/builder.go step list); what
// Packer tags at create (run_tags, run_volume_tags) is tag-conditioned.
import { AMI_TAG } from '../contract/tags.js';
import { allOf, each, ec2Arns, inRegions, isRestricted, stringCondition, type Policy, type PolicyScope, type Statement } from './scope.js';

/** The run tags the template gives the build instance, its volumes, the temporary AMI and its snapshot. */
const runTagName = (image: string) => `sipbake-bake-${image}`;

const imageTag = (s: PolicyScope) => stringCondition(`aws:ResourceTag/${AMI_TAG.image}`, s.image);

function readStatement(s: PolicyScope): Statement {
  return {
    Sid: 'PackerReads',
    Effect: 'Allow',
    // Describe calls cannot be scoped to a resource.
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
    ],
    Resource: '*',
    Condition: inRegions(s),
  };
}

function temporaryAccess(s: PolicyScope): Statement[] {
  return [
    {
      Sid: 'TemporaryKeyPair',
      Effect: 'Allow',
      // step_key_pair.go names it packer_<uuid>.
      Action: ['ec2:CreateKeyPair', 'ec2:DeleteKeyPair'],
      Resource: ec2Arns(s, 'key-pair', 'packer_*'),
      Condition: inRegions(s),
    },
    {
      Sid: 'TemporarySecurityGroup',
      Effect: 'Allow',
      Action: ['ec2:CreateSecurityGroup', 'ec2:AuthorizeSecurityGroupIngress', 'ec2:DeleteSecurityGroup'],
      Resource: [ec2Arns(s, 'security-group'), ec2Arns(s, 'vpc')].flat(),
      Condition: inRegions(s),
    },
  ];
}

function buildInstance(s: PolicyScope): Statement[] {
  const restricted = isRestricted(s);
  const out: Statement[] = [
    {
      Sid: 'LaunchTheBuildInstance',
      Effect: 'Allow',
      // Outside GovCloud and China the instance and its volumes must carry the run tag at launch.
      Action: ['ec2:RunInstances'],
      Resource: [ec2Arns(s, 'instance'), ec2Arns(s, 'volume')].flat(),
      Condition: restricted ? inRegions(s) : allOf(inRegions(s), stringCondition(`aws:RequestTag/${AMI_TAG.image}`, s.image)),
    },
    {
      Sid: 'LaunchFromTheSourceAmi',
      Effect: 'Allow',
      Action: ['ec2:RunInstances'],
      Resource: ['image', 'subnet', 'network-interface', 'security-group', 'key-pair'].flatMap((t) => ec2Arns(s, t)),
      Condition: inRegions(s),
    },
    {
      Sid: 'StopImageAndTerminateTheBuildInstance',
      Effect: 'Allow',
      // Only an instance that carries this image's run tag.
      Action: ['ec2:StopInstances', 'ec2:TerminateInstances', 'ec2:CreateImage'],
      Resource: ec2Arns(s, 'instance'),
      Condition: allOf(inRegions(s), imageTag(s)),
    },
  ];
  out.push(
    restricted
      ? {
          Sid: 'TagTheBuildInstanceAfterLaunch',
          Effect: 'Allow',
          // GovCloud/China: step_run_source_instance.go tags the instance and volumes with CreateTags after launch.
          Action: ['ec2:CreateTags'],
          Resource: [ec2Arns(s, 'instance'), ec2Arns(s, 'volume')].flat(),
          Condition: allOf(inRegions(s), stringCondition(`aws:RequestTag/${AMI_TAG.image}`, s.image), {
            'ForAllValues:StringEquals': { 'aws:TagKeys': ['Name', AMI_TAG.image] },
          }),
        }
      : {
          Sid: 'TagOnlyOnCreate',
          Effect: 'Allow',
          Action: ['ec2:CreateTags'],
          Resource: ['instance', 'volume', 'image', 'snapshot'].flatMap((t) => ec2Arns(s, t)),
          Condition: allOf(inRegions(s), stringCondition('ec2:CreateAction', ['RunInstances', 'CreateImage'])),
        },
  );
  return out;
}

function images(s: PolicyScope): Statement[] {
  return [
    {
      Sid: 'CreateAndCopyTheAmi',
      Effect: 'Allow',
      // step_create_ami.go (the temporary AMI) and step_ami_region_copy.go (encrypted copies, every region).
      Action: ['ec2:CreateImage', 'ec2:CopyImage'],
      Resource: [ec2Arns(s, 'image'), ec2Arns(s, 'snapshot')].flat(),
      Condition: inRegions(s),
    },
    {
      Sid: 'DeprecateAndShareTheCopies',
      Effect: 'Allow',
      // The copies carry no tags yet here (CopyImage does not copy them; step_create_tags.go runs last), so these
      // cannot be tag-conditioned.
      Action: ['ec2:EnableImageDeprecation', 'ec2:ModifyImageAttribute'],
      Resource: ec2Arns(s, 'image'),
      Condition: inRegions(s),
    },
    {
      Sid: 'TagThisImagesAmis',
      Effect: 'Allow',
      // step_create_tags.go: only sipbake:* tags, and sipbake:image must name this image.
      Action: ['ec2:CreateTags'],
      Resource: [ec2Arns(s, 'image'), ec2Arns(s, 'snapshot')].flat(),
      Condition: allOf(inRegions(s), stringCondition(`aws:RequestTag/${AMI_TAG.image}`, s.image), {
        'ForAllValues:StringLike': { 'aws:TagKeys': 'sipbake:*' },
      }),
    },
    {
      Sid: 'RetireOnlyThisImagesAmis',
      Effect: 'Allow',
      Action: ['ec2:DeregisterImage', 'ec2:DisableImage', 'ec2:EnableImage'],
      Resource: ec2Arns(s, 'image'),
      Condition: allOf(inRegions(s), imageTag(s)),
    },
    isRestricted(s)
      ? {
          Sid: 'RemoveTheUntaggedTemporaryAmi',
          Effect: 'Allow',
          // GovCloud/China: Packer cannot tag the temporary AMI (IsRestricted, step_create_ami.go), and its id is
          // random. The narrowest form left: AMIs and snapshots with neither sipbake:image nor Name. Every released
          // AMI and its snapshots carry sipbake:image (step_create_tags.go), so none of them matches.
          Action: ['ec2:DeregisterImage', 'ec2:DeleteSnapshot'],
          Resource: [ec2Arns(s, 'image'), ec2Arns(s, 'snapshot')].flat(),
          Condition: allOf(inRegions(s), { Null: { [`aws:ResourceTag/${AMI_TAG.image}`]: 'true', 'aws:ResourceTag/Name': 'true' } }),
        }
      : {
          Sid: 'RemoveTheTemporaryAmi',
          Effect: 'Allow',
          // The unencrypted temporary AMI and its snapshot carry the run tag Name, which only CreateImage sets.
          Action: ['ec2:DeregisterImage', 'ec2:DeleteSnapshot'],
          Resource: [ec2Arns(s, 'image'), ec2Arns(s, 'snapshot')].flat(),
          Condition: allOf(inRegions(s), stringCondition('aws:ResourceTag/Name', runTagName(s.image))),
        },
  ];
}

/** kms key ARNs for bake.kmsKeyId: an ARN as given, a key id in each region, an alias by kms:ResourceAliases. */
function kmsStatement(s: PolicyScope, key: string): Statement {
  const alias = key.startsWith('alias/') ? key : undefined;
  const resource = key.startsWith('arn:')
    ? key
    : alias
      ? each(s, (r) => `arn:${s.partition}:kms:${r}:${s.account}:key/*`)
      : each(s, (r) => `arn:${s.partition}:kms:${r}:${s.account}:key/${key}`);
  const via = stringCondition(
    'kms:ViaService',
    s.regions.map((r) => `ec2.${r}.amazonaws.com`),
  );
  return {
    Sid: 'EncryptWithTheCustomerManagedKey',
    Effect: 'Allow',
    // EBS on the caller's behalf: encrypted copies (CopyImage with KmsKeyId) and volumes ("Required AWS KMS key
    // policy for use with encrypted volumes", Amazon EC2 Auto Scaling user guide; "How Amazon EBS uses AWS KMS").
    Action: ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
    Resource: resource,
    Condition: allOf(via, alias ? { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': alias } } : {}),
  };
}

export function buildPolicy(s: PolicyScope): Policy {
  const statements = [readStatement(s), ...temporaryAccess(s), ...buildInstance(s), ...images(s)];
  if (s.kmsKeyId) statements.push(kmsStatement(s, s.kmsKeyId));
  return { Version: '2012-10-17', Statement: statements };
}
