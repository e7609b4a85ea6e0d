import { DEFAULT_IMDS_ENDPOINT } from './imds.js';

// Pure: the agent's environment overrides (tests point these at loopback fakes).
export interface AgentEnv {
  root: string;
  imdsEndpoint: string;
  /** Total seconds boot keeps retrying one IMDS item. */
  imdsBudgetSeconds: number;
  /** First per-request IMDS timeout (doubled at each retry). */
  imdsRequestTimeoutSeconds: number;
  /** Seconds after which boot stops retrying credentials and secret reads (below the unit's TimeoutStartSec). */
  bootDeadlineSeconds: number;
  ssmEndpoint?: string;
  secretsManagerEndpoint?: string;
  autoScalingEndpoint?: string;
  /** EC2 API endpoint (DescribeInstances: the peers' private addresses for the drain's hand-off). */
  ec2Endpoint?: string;
  /** ELBv2 API endpoint (DescribeTargetHealth: a peer must be healthy in its target groups). */
  elbv2Endpoint?: string;
  /** kamcmd binary; default: the manifest's, else `kamcmd` on PATH. */
  kamcmd?: string;
}

function num(v: string | undefined, dflt: number, name: string): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${JSON.stringify(v)} is not a positive number of seconds`);
  return n;
}

export function agentEnv(env: NodeJS.ProcessEnv): AgentEnv {
  const opt = (k: string) => (env[k] ? env[k] : undefined);
  const e: AgentEnv = {
    root: (env.SIPBAKE_ROOT ?? '').replace(/\/+$/, ''),
    imdsEndpoint: opt('SIPBAKE_IMDS_ENDPOINT') ?? DEFAULT_IMDS_ENDPOINT,
    imdsBudgetSeconds: num(env.SIPBAKE_IMDS_TIMEOUT_SECONDS, 90, 'SIPBAKE_IMDS_TIMEOUT_SECONDS'),
    imdsRequestTimeoutSeconds: num(env.SIPBAKE_IMDS_REQUEST_TIMEOUT_SECONDS, 2, 'SIPBAKE_IMDS_REQUEST_TIMEOUT_SECONDS'),
    bootDeadlineSeconds: num(env.SIPBAKE_BOOT_DEADLINE_SECONDS, 150, 'SIPBAKE_BOOT_DEADLINE_SECONDS'),
  };
  const ssm = opt('SIPBAKE_SSM_ENDPOINT');
  const sm = opt('SIPBAKE_SECRETSMANAGER_ENDPOINT');
  const asg = opt('SIPBAKE_AUTOSCALING_ENDPOINT');
  const ec2 = opt('SIPBAKE_EC2_ENDPOINT');
  const elbv2 = opt('SIPBAKE_ELBV2_ENDPOINT');
  const kamcmd = opt('SIPBAKE_KAMCMD');
  if (ssm) e.ssmEndpoint = ssm;
  if (sm) e.secretsManagerEndpoint = sm;
  if (asg) e.autoScalingEndpoint = asg;
  if (ec2) e.ec2Endpoint = ec2;
  if (elbv2) e.elbv2Endpoint = elbv2;
  if (kamcmd) e.kamcmd = kamcmd;
  return e;
}
