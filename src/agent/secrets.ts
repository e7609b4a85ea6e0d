import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretRef } from '../definition/primitives.js';
import { UserError } from '../core/errors.js';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

// Secrets are read at boot through the real SDK v3 clients (default credential chain: the instance
// role on EC2, AWS_* variables in tests). No message built here ever contains a secret's value.

export interface SecretEndpoints {
  region: string;
  /** SIPBAKE_SSM_ENDPOINT: passed to the SSM client as `endpoint`. */
  ssm?: string;
  /** SIPBAKE_SECRETSMANAGER_ENDPOINT. */
  secretsManager?: string;
  /** Credentials; default: the SDK's chain (AWS_* variables in tests). On the instance: instanceRoleCredentials(). */
  credentials?: AwsCredentialIdentityProvider;
}

/** Errors that waiting cannot fix: the secret is missing, or its content is unusable. Others are retried at boot. */
const PERMANENT_SECRET_ERRORS = new Set([
  'ParameterNotFound',
  'ResourceNotFoundException',
  'ParameterVersionNotFound',
  'ValidationException',
  'InvalidParameterException',
  'InvalidKeyId',
]);

/** A secret failure boot should not retry. */
export class SecretUnusable extends UserError {}

export type SecretReader = (ref: SecretRef, what: string) => Promise<string>;

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : 'Error';
}

export function describe(ref: SecretRef): string {
  return ref.source === 'ssm' ? `SSM parameter ${ref.name}` : `Secrets Manager secret ${ref.name}`;
}

/** Pure: picks jsonKey out of a JSON secret string. Parse errors never echo the text. */
function pickJsonKey(secret: string, ref: SecretRef): string {
  if (ref.jsonKey === undefined) return secret;
  let doc: unknown;
  try {
    doc = JSON.parse(secret);
  } catch {
    throw new SecretUnusable(
      `${describe(ref)} is not JSON, but the definition asks for its key "${ref.jsonKey}"`,
      'store the secret as a JSON object, or remove jsonKey from the definition',
    );
  }
  const v = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>)[ref.jsonKey] : undefined;
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number') return String(v);
  throw new SecretUnusable(
    `${describe(ref)} has no non-empty string under key "${ref.jsonKey}"`,
    `add "${ref.jsonKey}" to the secret's JSON, or fix jsonKey in the definition`,
  );
}

function failure(ref: SecretRef, what: string, region: string, e: unknown): UserError {
  const name = errorName(e);
  const fix =
    name === 'ParameterNotFound' || name === 'ResourceNotFoundException'
      ? `create it in ${region} (${ref.source === 'ssm' ? 'aws ssm put-parameter --type SecureString' : 'aws secretsmanager create-secret'} --name ${ref.name} …)`
      : name === 'AccessDeniedException' || name === 'UnrecognizedClientException'
        ? `allow the instance role ${ref.source === 'ssm' ? 'ssm:GetParameter (and kms:Decrypt on its key)' : 'secretsmanager:GetSecretValue'} on ${ref.name}`
        : name === 'ProviderError' || name === 'CredentialsProviderError' || name === 'InstanceMetadataV1FallbackError'
          ? 'no instance-role credentials from instance metadata (IMDSv2 iam/security-credentials/): attach the instance profile `sipbake iam` prints to the launch template'
          : 'check the instance role, the region and network access to the endpoint';
  // Only the SDK's error name and message: they describe the request, never the value.
  const msg = e instanceof Error ? e.message : String(e);
  const Err = PERMANENT_SECRET_ERRORS.has(name) ? SecretUnusable : UserError;
  return new Err(`cannot read ${what} from ${describe(ref)} in ${region}: ${name}: ${msg}`, fix, { cause: e });
}

export function awsSecretReader(ep: SecretEndpoints): SecretReader {
  let ssm: SSMClient | undefined;
  let sm: SecretsManagerClient | undefined;
  return async (ref, what) => {
    let value: string | undefined;
    try {
      if (ref.source === 'ssm') {
        ssm ??= new SSMClient({
          region: ep.region,
          maxAttempts: 4,
          ...(ep.credentials ? { credentials: ep.credentials } : {}),
          ...(ep.ssm ? { endpoint: ep.ssm } : {}),
        });
        const out = await ssm.send(new GetParameterCommand({ Name: ref.name, WithDecryption: true }));
        value = out.Parameter?.Value;
      } else {
        sm ??= new SecretsManagerClient({
          region: ep.region,
          maxAttempts: 4,
          ...(ep.credentials ? { credentials: ep.credentials } : {}),
          ...(ep.secretsManager ? { endpoint: ep.secretsManager } : {}),
        });
        const out = await sm.send(new GetSecretValueCommand({ SecretId: ref.name }));
        value = out.SecretString;
        if (value === undefined && out.SecretBinary) value = Buffer.from(out.SecretBinary).toString('utf8');
      }
    } catch (e) {
      throw failure(ref, what, ep.region, e);
    }
    if (!value) throw new SecretUnusable(`${describe(ref)} (${what}) is empty`, `store a value in ${describe(ref)}`);
    return pickJsonKey(value, ref);
  };
}
