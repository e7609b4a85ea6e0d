// The cross-account half of KMS the fake's IAM does not serve: another account (an amiUsers account) using the
// key an AMI is encrypted with. AWS allows a cross-account KMS call only when BOTH the key policy (the owner's)
// and the caller's identity policy allow it (AWS KMS "Allowing users in other accounts to use a KMS key").
// Evaluated with the same simulator as test/fakes/aws/iam.ts.
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { KeyPolicyStatement } from '../../../src/iam/kms-sharing.js';
import type { Policy } from '../../../src/iam/policies.js';
import { FAKE_ACCOUNT } from './iam.js';

export interface KeyUse {
  /** The calling principal, in its own account. */
  principal: string;
  action: string;
  /** The key ARN (in FAKE_ACCOUNT, the key owner). */
  key: string;
  context?: Record<string, string | string[]>;
}

/** The default key policy (AWS KMS "Default key policy"): the owner account's IAM policies decide for it. */
const DEFAULT_KEY_POLICY: KeyPolicyStatement = {
  Sid: 'Enable IAM User Permissions',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${FAKE_ACCOUNT}:root` },
  Action: ['kms:*'],
  Resource: '*',
};

/** True when AWS would allow the call: the key policy (default + `extra`) and the caller's policy both allow. */
export async function keyUseAllowed(use: KeyUse, callerPolicy: Policy, extra: readonly KeyPolicyStatement[]): Promise<boolean> {
  const account = use.principal.split(':')[4] ?? '';
  const res = await runSimulation(
    {
      request: {
        principal: use.principal,
        action: use.action,
        resource: { resource: use.key, accountId: FAKE_ACCOUNT },
        contextVariables: { 'aws:PrincipalAccount': account, ...use.context },
      },
      identityPolicies: [{ name: 'caller', policy: callerPolicy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: { Version: '2012-10-17', Statement: [DEFAULT_KEY_POLICY, ...extra] },
    },
    {},
  );
  if (res.resultType === 'error') throw new Error(`the evaluator rejected the request or policy: ${JSON.stringify(res.errors)}`);
  return res.overallResult === 'Allowed';
}
