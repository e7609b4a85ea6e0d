// The roles `sipbake iam` prints, as IAM resources: the instance role (with its instance profile), and the
// roles CI assumes to bake and to roll. Their policies are policyFor()'s, word for word, with this stack's account.
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { ImageDefinition } from '../definition/schema.js';
import { policyFor, type IamRole } from '../iam/policies.js';

/** The workflow's longest job is 4 h (docs/ci.md); the role must allow sessions that long. */
const CI_SESSION_SECONDS = 4 * 3600;

export interface FleetRoles {
  instanceRoleArn: string;
  instanceProfileArn: string;
  buildRoleArn: string;
  rollRoleArn: string;
}

function assume(principal: Record<string, string>) {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }] };
}

function policyOf(role: IamRole, image: ImageDefinition) {
  const region = role === 'build' ? image.bake.region : image.deploy?.region;
  return { policyName: `sipbake-${role}`, policyDocument: policyFor(role, image, { account: Aws.ACCOUNT_ID, ...(region ? { region } : {}) }) };
}

export function fleetRoles(scope: Construct, image: ImageDefinition, ciPrincipalArn?: string): FleetRoles {
  const instance = new iam.CfnRole(scope, 'InstanceRole', {
    assumeRolePolicyDocument: assume({ Service: 'ec2.amazonaws.com' }),
    policies: [policyOf('instance', image)],
    // Session Manager instead of SSH (seed 000).
    managedPolicyArns: [`arn:${Aws.PARTITION}:iam::aws:policy/AmazonSSMManagedInstanceCore`],
  });
  const profile = new iam.CfnInstanceProfile(scope, 'InstanceProfile', { roles: [instance.ref] });
  const ci = assume({ AWS: ciPrincipalArn ?? `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:root` });
  const build = new iam.CfnRole(scope, 'BuildRole', {
    assumeRolePolicyDocument: ci,
    policies: [policyOf('build', image)],
    maxSessionDuration: CI_SESSION_SECONDS,
  });
  const roll = new iam.CfnRole(scope, 'RollRole', {
    assumeRolePolicyDocument: ci,
    policies: [policyOf('roll', image)],
    maxSessionDuration: CI_SESSION_SECONDS,
  });
  return { instanceRoleArn: instance.attrArn, instanceProfileArn: profile.attrArn, buildRoleArn: build.attrArn, rollRoleArn: roll.attrArn };
}
