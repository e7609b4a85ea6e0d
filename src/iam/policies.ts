// Least-privilege IAM policies for baking (Packer amazon-ebs), rolling, and the instance role (pure).
// The test suite evaluates every call the AWS fake serves against these (test/fakes/aws/iam.ts).
import type { SecretRef } from '../definition/primitives.js';
import type { ImageDefinition } from '../definition/schema.js';
import { buildPolicy } from './build-policy.js';
import { keySharing, type KeySharing } from './kms-sharing.js';
import { MEDIA_POOL_TAG } from '../contract/tags.js';
import { rollPolicy } from './roll-policy.js';
import { asgArn, each, partitionOf, stringCondition, type IamRole, type Policy, type PolicyScope, type Statement } from './scope.js';

export { partitionOf, type IamRole, type Policy } from './scope.js';

/** Secrets an image reads at boot, by reference (never values). */
interface SecretScope {
  ssm: string[]; // parameter names
  secretsmanager: string[]; // secret ids or ARNs
}

function ssmArn(s: PolicyScope, region: string, name: string): string {
  return name.startsWith('arn:') ? name : `arn:${s.partition}:ssm:${region}:${s.account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}
function secretArn(s: PolicyScope, region: string, id: string): string {
  // Secrets Manager appends a random 6-character suffix to a secret's ARN.
  return id.startsWith('arn:') ? id : `arn:${s.partition}:secretsmanager:${region}:${s.account}:secret:${id}-??????`;
}

/**
 * The instance role: what the on-instance agent calls at boot (secrets) and while draining
 * (lifecycle hook, and the group's serving peers for the INVITE hand-off). Attach AmazonSSMManagedInstanceCore beside it for Session Manager.
 */
function instancePolicy(s: PolicyScope, secrets: SecretScope, mediaPool: string | undefined): Policy {
  const statements: Statement[] = [
    {
      Sid: 'FindOwnGroupAndHook',
      Effect: 'Allow',
      // Describe calls cannot be scoped to a resource (Service Authorization Reference: Amazon EC2 Auto Scaling
      // and Amazon EC2, "Resource types" column empty). The group's serving peers and their private addresses
      // are where a draining instance hands new INVITEs.
      Action: [
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeLifecycleHooks',
        'autoscaling:DescribeAutoScalingGroups',
        'ec2:DescribeInstances',
        'elasticloadbalancing:DescribeTargetHealth',
      ],
      Resource: '*',
    },
    {
      Sid: 'DrainLifecycleHook',
      Effect: 'Allow',
      Action: ['autoscaling:RecordLifecycleActionHeartbeat', 'autoscaling:CompleteLifecycleAction'],
      Resource: each(s, (r) => asgArn(s, r)),
    },
  ];
  if (mediaPool !== undefined) statements.push(...mediaPoolStatements(s, mediaPool));
  const ssm = s.regions.flatMap((r) => secrets.ssm.map((n) => ssmArn(s, r, n)));
  const sm = s.regions.flatMap((r) => secrets.secretsmanager.map((n) => secretArn(s, r, n)));
  if (ssm.length > 0)
    statements.push({
      Sid: 'BootSecretsFromParameterStore',
      Effect: 'Allow',
      Action: ['ssm:GetParameter'],
      Resource: [...new Set(ssm)],
    });
  if (sm.length > 0)
    statements.push({
      Sid: 'BootSecretsFromSecretsManager',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [...new Set(sm)],
    });
  if (ssm.length > 0 || sm.length > 0) {
    const via = s.regions.flatMap((r) => [
      ...(ssm.length > 0 ? [`ssm.${r}.amazonaws.com`] : []),
      ...(sm.length > 0 ? [`secretsmanager.${r}.amazonaws.com`] : []),
    ]);
    statements.push({
      Sid: 'DecryptBootSecrets',
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: each(s, (r) => `arn:${s.partition}:kms:${r}:${s.account}:key/*`),
      Condition: stringCondition('kms:ViaService', via),
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * media.address elastic-ip-pool: boot claims an Elastic IP of the pool, the drain gives it back
 * (src/agent/media-address.ts). Only addresses tagged sipbake:media-pool=POOL; the instance side of
 * AssociateAddress cannot name "this instance" in a policy, so it is any instance of the account in the region.
 */
function mediaPoolStatements(s: PolicyScope, pool: string): Statement[] {
  return [
    // DescribeAddresses has no resource-level permissions (Service Authorization Reference, Amazon EC2).
    { Sid: 'MediaPoolFind', Effect: 'Allow', Action: ['ec2:DescribeAddresses'], Resource: '*' },
    {
      Sid: 'MediaPoolClaimAndRelease',
      Effect: 'Allow',
      Action: ['ec2:AssociateAddress', 'ec2:DisassociateAddress'],
      Resource: each(s, (r) => `arn:${s.partition}:ec2:${r}:${s.account}:elastic-ip/*`),
      Condition: stringCondition(`aws:ResourceTag/${MEDIA_POOL_TAG}`, pool),
    },
    {
      Sid: 'MediaPoolOntoInstance',
      Effect: 'Allow',
      Action: ['ec2:AssociateAddress'],
      Resource: each(s, (r) => `arn:${s.partition}:ec2:${r}:${s.account}:instance/*`),
    },
  ];
}

/** The pool the image's agent claims its media address from, if any. */
function mediaPoolOf(image: ImageDefinition | undefined): string | undefined {
  const a = image?.media.address;
  return image?.media.rtpproxy.enabled && a?.source === 'elastic-ip-pool' ? a.pool : undefined;
}

/** Every secret the image's agent reads at boot. */
function secretsOf(image: ImageDefinition): SecretScope {
  const refs: SecretRef[] = [];
  const b = image.dispatcher?.backend;
  if (b?.type === 'postgres') refs.push(b.password);
  if (image.tls.certificateSecret) refs.push(image.tls.certificateSecret);
  if (image.tls.privateKeySecret) refs.push(image.tls.privateKeySecret);
  return {
    ssm: [...new Set(refs.filter((r) => r.source === 'ssm').map((r) => r.name))],
    secretsmanager: [...new Set(refs.filter((r) => r.source === 'secretsmanager').map((r) => r.name))],
  };
}

/** What `sipbake iam` is told beyond the image definition. */
export interface PolicyOptions {
  account?: string;
  region?: string;
  /** roll: the group's launch template id (lt-…); default any launch template. */
  launchTemplate?: string;
  /** roll: the role the launch template's instance profile holds; none: the roll may pass no role. */
  instanceRole?: string;
}

/**
 * Where each role acts: build in bake.region (or --region) plus bake.amiRegions; roll and instance in
 * deploy.region (or --region). Without an image, any region ('*', matched with StringLike).
 */
function scopeFor(role: IamRole, def: ImageDefinition | undefined, o: PolicyOptions): PolicyScope {
  const home = role === 'build' ? (o.region ?? def?.bake.region ?? '*') : (o.region ?? def?.deploy?.region ?? '*');
  // home stays first: the partition follows it.
  const regions = role === 'build' ? [home, ...(def?.bake.amiRegions ?? [])].filter((r, i, a) => a.indexOf(r) === i) : [home];
  const kmsKeyId = def?.bake.kmsKeyId;
  return {
    regions,
    account: o.account ?? '*',
    asgName: def?.deploy?.asgName ?? '*',
    image: def?.name ?? '*',
    partition: partitionOf(home),
    launchTemplate: o.launchTemplate ?? '*',
    ...(o.instanceRole ? { instanceRole: o.instanceRole } : {}),
    ...(kmsKeyId ? { kmsKeyId } : {}),
  };
}

/** The policy `sipbake iam ROLE [--image NAME]` prints. */
export function policyFor(role: IamRole, def: ImageDefinition | undefined, o: PolicyOptions = {}): Policy {
  const scope = scopeFor(role, def, o);
  if (role === 'build') return buildPolicy(scope);
  if (role === 'roll') return rollPolicy(scope);
  return instancePolicy(scope, def ? secretsOf(def) : { ssm: ['*'], secretsmanager: [] }, mediaPoolOf(def));
}

/** What bake.amiUsers need of bake.kmsKeyId (key policy, their policy, their grant); undefined unless both are set. */
export function keySharingFor(def: ImageDefinition, o: PolicyOptions = {}): KeySharing | undefined {
  return keySharing(scopeFor('build', def, o), def.bake.amiUsers);
}
