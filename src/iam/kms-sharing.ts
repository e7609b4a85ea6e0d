// bake.kmsKeyId shared with bake.amiUsers (pure): an AMI encrypted with a customer managed key can be launched
// by another account only when that account may use the key. Three pieces, each printed by `sipbake iam build
// --image NAME` (and `--explain`) when both are set:
// - statements for the key's own key policy (in the key owner's account);
// - the identity policy each amiUsers account attaches to the principals that launch the AMI;
// - the CreateGrant each account runs for its Auto Scaling service-linked role, which launches its instances.
// Sources: AWS KMS "Allowing users in other accounts to use a KMS key"; Amazon EC2 Auto Scaling "Required AWS KMS
// key policy for use with encrypted volumes" (cross-account: a grant for AWSServiceRoleForAutoScaling).
import type { PolicyScope, Statement } from './scope.js';

export interface KeyPolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Principal: { AWS: string | string[] };
  Action: string[];
  Resource: '*';
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface KeySharing {
  /** The key as another account must name it: a key ARN (CreateGrant across accounts takes only a key ARN). */
  keyArns: string[];
  /** Add to the key policy of bake.kmsKeyId (the key owner's account). */
  keyPolicyStatements: KeyPolicyStatement[];
  /** Each amiUsers account attaches this to the principals that launch the AMI (both policies must allow). */
  userPolicy: { Version: '2012-10-17'; Statement: Statement[] };
  /** Each amiUsers account runs these once per region, with its own credentials. */
  grantCommands: string[];
}

/** The key policy's cross-account use of the key (the Auto Scaling guide's example 2). */
const USE_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'];
/** The operations of the grant for the Auto Scaling service-linked role (the same example's create-grant). */
const GRANT_OPERATIONS = [
  'Encrypt',
  'Decrypt',
  'ReEncryptFrom',
  'ReEncryptTo',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'DescribeKey',
  'CreateGrant',
];
const slrArn = (partition: string, account: string) =>
  `arn:${partition}:iam::${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`;

/**
 * The key in each region as a key ARN. An alias cannot be resolved offline: its ARN is written with the alias
 * in place of the key id, for the reader to replace (`aws kms describe-key --key-id alias/NAME`).
 */
function keyArns(s: PolicyScope, key: string): string[] {
  if (key.startsWith('arn:')) return [key];
  const id = key.startsWith('alias/') ? `<key id of ${key}>` : key;
  return s.regions.map((r) => `arn:${s.partition}:kms:${r}:${s.account}:key/${id}`);
}

/** What amiUsers need to launch this image's AMIs; undefined unless both bake.kmsKeyId and bake.amiUsers are set. */
export function keySharing(s: PolicyScope, amiUsers: readonly string[]): KeySharing | undefined {
  if (!s.kmsKeyId || amiUsers.length === 0) return undefined;
  const arns = keyArns(s, s.kmsKeyId);
  const roots = amiUsers.map((a) => `arn:${s.partition}:iam::${a}:root`);
  const one = (v: string[]): string | string[] => (v.length === 1 && v[0] !== undefined ? v[0] : v);
  const principal = { AWS: one(roots) };
  return {
    keyArns: arns,
    keyPolicyStatements: [
      { Sid: 'AmiUsersUseTheKey', Effect: 'Allow', Principal: principal, Action: USE_ACTIONS, Resource: '*' },
      {
        Sid: 'AmiUsersGrantToAwsServices',
        Effect: 'Allow',
        Principal: principal,
        Action: ['kms:CreateGrant'],
        Resource: '*',
        // EC2 creating a grant for a launch in their account (RunInstances from the shared AMI).
        Condition: { Bool: { 'kms:GrantIsForAWSResource': true } },
      },
      {
        Sid: 'AmiUsersGrantToTheirAutoScaling',
        Effect: 'Allow',
        Principal: principal,
        Action: ['kms:CreateGrant'],
        Resource: '*',
        // Their own create-grant, only to their Auto Scaling service-linked role: never to any other principal.
        Condition: { StringEquals: { 'kms:GranteePrincipal': one(amiUsers.map((a) => slrArn(s.partition, a))) } },
      },
    ],
    userPolicy: {
      Version: '2012-10-17',
      Statement: [{ Sid: 'UseTheSharedAmiKey', Effect: 'Allow', Action: [...USE_ACTIONS, 'kms:CreateGrant'], Resource: one(arns) }],
    },
    grantCommands: amiUsers.flatMap((a) =>
      arns.map(
        (arn) =>
          `[account ${a}] aws kms create-grant --region ${arn.split(':')[3]} --key-id ${arn} --grantee-principal ${slrArn(s.partition, a)} --operations ${GRANT_OPERATIONS.join(' ')}`,
      ),
    ),
  };
}

/** Plain text for `sipbake iam build`: the three pieces, each saying where it goes. */
export function keySharingText(k: KeySharing, explain: boolean): string {
  const why = explain
    ? [
        '  serves: an amiUsers account launching the shared AMI (EBS decrypts its snapshots with the key, through a grant)',
        '  both sides must allow a cross-account key use: the key policy (owner) and the caller’s identity policy (user)',
      ]
    : [];
  return [
    `bake.kmsKeyId is shared with amiUsers: the AMI launches in those accounts only with the key shared too.`,
    ...why,
    'Add to the key policy of bake.kmsKeyId (key owner):',
    JSON.stringify(k.keyPolicyStatements, null, 2),
    'Each amiUsers account attaches to its launching principals:',
    JSON.stringify(k.userPolicy, null, 2),
    'Each amiUsers account grants its Auto Scaling service-linked role the key (once per region):',
    ...k.grantCommands,
  ].join('\n');
}
