// What a printed policy is scoped to, and the small helpers every role's statements share (pure).
export type IamRole = 'build' | 'roll' | 'instance';

export interface PolicyScope {
  /** Every region the role acts in: build = bake.region + bake.amiRegions, roll/instance = deploy.region. '*' = any. */
  regions: string[];
  account: string;
  asgName: string;
  image: string;
  /** aws, aws-us-gov or aws-cn: follows the first region. */
  partition: 'aws' | 'aws-us-gov' | 'aws-cn';
  /** The group's launch template id (lt-…), or '*' when not given (`iam roll --launch-template`). */
  launchTemplate: string;
  /** The role the launch template's instance profile holds (`iam roll --instance-role`); none: no PassRole. */
  instanceRole?: string;
  /** bake.kmsKeyId: a customer managed key (id, ARN or alias) the AMIs are encrypted with. */
  kmsKeyId?: string;
}

type ConditionValue = string | string[];
export type ConditionBlock = Record<string, Record<string, ConditionValue>>;
export interface Statement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
  Condition?: ConditionBlock;
}
export interface Policy {
  Version: '2012-10-17';
  Statement: Statement[];
}

/** The ARN partition of a region (GovCloud and China have their own). '*' and unknown: aws. */
export function partitionOf(region: string): PolicyScope['partition'] {
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('cn-')) return 'aws-cn';
  return 'aws';
}

/**
 * GovCloud and China: Packer tags nothing at create there (`IsRestricted` in packer-plugin-amazon's
 * step_create_ami.go, step_run_source_instance.go), so tag conditions on create cannot be used.
 */
export const isRestricted = (s: PolicyScope) => s.partition !== 'aws';

const hasWildcard = (v: ConditionValue) => (Array.isArray(v) ? v : [v]).some((x) => /[*?]/.test(x));
const one = (v: string[]): string | string[] => {
  const [only, ...more] = v;
  return only !== undefined && more.length === 0 ? only : v;
};

/** StringEquals is exact: any value with * or ? needs StringLike, or it matches nothing. */
export function stringCondition(key: string, values: ConditionValue): ConditionBlock {
  const v = Array.isArray(values) ? one([...new Set(values)]) : values;
  return { [hasWildcard(v) ? 'StringLike' : 'StringEquals']: { [key]: v } };
}

/** Several conditions in one block (AND); operators of the same name are merged. */
export function allOf(...blocks: ConditionBlock[]): ConditionBlock {
  const out: ConditionBlock = {};
  for (const b of blocks) for (const [op, kv] of Object.entries(b)) out[op] = { ...out[op], ...kv };
  return out;
}

export const inRegions = (s: PolicyScope) => stringCondition('aws:RequestedRegion', s.regions);
export const each = (s: PolicyScope, f: (region: string) => string) => one(s.regions.map(f));
/** ec2 ARNs of one resource type in every region of the scope (images and snapshots have no account). */
export function ec2Arns(s: PolicyScope, type: string, id = '*'): string | string[] {
  const owned = !['image', 'snapshot'].includes(type);
  return each(s, (r) => `arn:${s.partition}:ec2:${r}:${owned ? s.account : ''}:${type}/${id}`);
}
export function asgArn(s: PolicyScope, region: string): string {
  return `arn:${s.partition}:autoscaling:${region}:${s.account}:autoScalingGroup:*:autoScalingGroupName/${s.asgName}`;
}
