// The four SDK v3 clients sipbake uses, built once and passed in. Adaptive retry handles throttling;
// credentials come from the default chain (env, SSO, profile, web identity for CI OIDC, instance role).
// This module loads the SDK: only the commands that talk to AWS import it (src/cli/commands/index.ts).
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ProxyAgent } from 'proxy-agent';
import type { Agent } from 'node:https';

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
  /** Whether a proxy is configured is read here (default process.env); proxy-from-env then reads process.env. */
  env?: NodeJS.ProcessEnv;
}

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'];

/** Whether the environment names a proxy. The SDK's Node handler ignores these variables by itself. */
function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return PROXY_VARS.some((k) => Boolean(env[k]));
}

/**
 * An agent that sends each request through the proxy the environment names for its URL, honouring NO_PROXY
 * (proxy-agent decides per request through proxy-from-env, which reads process.env), or undefined without one.
 */
function proxyAgentFor(env: NodeJS.ProcessEnv = process.env): Agent | undefined {
  // proxy-agent's agent extends http.Agent yet serves https requests too (agent-base picks per request).
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  return proxyConfigured(env) ? (new ProxyAgent() as unknown as Agent) : undefined;
}

export interface SdkConfig {
  region: string;
  retryMode: 'adaptive';
  maxAttempts: number;
  profile?: string;
  requestHandler?: { httpsAgent: Agent };
}

export function clientConfig(o: ClientOptions): SdkConfig {
  const agent = proxyAgentFor(o.env ?? process.env);
  return {
    region: o.region,
    retryMode: 'adaptive',
    maxAttempts: o.maxAttempts ?? 8,
    ...(o.profile ? { profile: o.profile } : {}),
    ...(agent ? { requestHandler: { httpsAgent: agent } } : {}),
  };
}

/**
 * Packer (Go's net/http) honours HTTPS_PROXY/NO_PROXY itself; both spellings are passed on so a proxy set as
 * https_proxy only reaches it too.
 */
export function packerProxyEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY']) {
    const v = env[k] ?? env[k.toLowerCase()];
    if (v) {
      out[k] = v;
      out[k.toLowerCase()] = v;
    }
  }
  return out;
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
