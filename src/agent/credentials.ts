import { fromInstanceMetadata } from '@smithy/credential-provider-imds';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

// The instance role's credentials for the boot agent's secret reads. The SDK's default chain tries IMDS
// with a 1 s timeout and no retry (fromInstanceMetadata defaults), so one slow first answer left an
// instance without Kamailio for good. Here: IMDSv2 only (no v1 fallback), a timeout that survives a slow
// boot, a few immediate retries inside the provider, and boot's own backoff around each secret read.

export interface InstanceRoleOptions {
  /** IMDS base URL (SIPBAKE_IMDS_ENDPOINT); the SDK reads it from AWS_EC2_METADATA_SERVICE_ENDPOINT. */
  endpoint: string;
  timeoutMs?: number;
  maxRetries?: number;
}

export function instanceRoleCredentials(o: InstanceRoleOptions): AwsCredentialIdentityProvider {
  // The provider resolves its endpoint from this variable on every call; the agent is its own process.
  process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = o.endpoint;
  return fromInstanceMetadata({
    timeout: o.timeoutMs ?? 5000,
    maxRetries: o.maxRetries ?? 3,
    ec2MetadataV1Disabled: true,
  });
}

/** Static keys in the environment (tests, or an operator's override) win; on an instance there are none. */
export function hasEnvironmentKeys(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
}
