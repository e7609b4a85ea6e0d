// The four SDK v3 clients sipbake uses, built once and passed in. Adaptive retry handles throttling;
// credentials come from the default chain (env, SSO, profile, web identity for CI OIDC, instance role).
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';

export interface AwsClients {
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  elbv2: ElasticLoadBalancingV2Client;
  cloudwatch: CloudWatchClient;
}

export interface ClientOptions {
  region: string;
  /** A named profile from ~/.aws/config; the default chain otherwise. */
  profile?: string;
  /** Attempts per call, including the first (the SDK's adaptive mode spaces them and rate-limits the client). */
  maxAttempts?: number;
}

export function clientConfig(o: ClientOptions): { region: string; retryMode: 'adaptive'; maxAttempts: number; profile?: string } {
  return { region: o.region, retryMode: 'adaptive', maxAttempts: o.maxAttempts ?? 8, ...(o.profile ? { profile: o.profile } : {}) };
}

export function createAwsClients(o: ClientOptions): AwsClients {
  const c = clientConfig(o);
  return {
    ec2: new EC2Client(c),
    autoScaling: new AutoScalingClient(c),
    elbv2: new ElasticLoadBalancingV2Client(c),
    cloudwatch: new CloudWatchClient(c),
  };
}

export function destroyAwsClients(c: AwsClients): void {
  c.ec2.destroy();
  c.autoScaling.destroy();
  c.elbv2.destroy();
  c.cloudwatch.destroy();
}
