// Credential errors name the profile in use (--profile, else AWS_PROFILE), or say that none is set: "set
// AWS_PROFILE" is no help to someone whose AWS_PROFILE names a profile that does not exist.
import { UserError } from '../core/errors.js';

export interface ProfileInUse {
  profile?: string;
  env: NodeJS.ProcessEnv;
}

function isCredentialError(e: unknown): boolean {
  const inner = e instanceof UserError ? e.cause : e;
  return inner instanceof Error && /^(CredentialsProviderError|TokenProviderError)$/.test(inner.name) && !/SSO/i.test(inner.message);
}

/** The error with the profile named, when it is a credential error; otherwise the error unchanged. */
export function nameTheProfile(e: unknown, p: ProfileInUse): unknown {
  if (!isCredentialError(e)) return e;
  const cause = e instanceof UserError ? e.cause : e;
  const profile = p.profile ?? p.env.AWS_PROFILE;
  if (profile) {
    const from = p.profile ? '--profile' : 'AWS_PROFILE';
    return new UserError(
      `no AWS credentials for profile "${profile}" (from ${from})`,
      `check that ~/.aws/config has [profile ${profile}] (aws configure list-profiles), or log in with aws sso login --profile ${profile}; unset ${from} to use the default chain`,
      { cause },
    );
  }
  return new UserError(
    'no AWS credentials: no profile is set and the default chain found none (environment keys, ~/.aws, SSO, web identity, instance role)',
    'pass --profile NAME or set AWS_PROFILE to a profile in ~/.aws/config, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; in CI see docs/ci.md',
    { cause },
  );
}
