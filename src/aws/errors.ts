// Known AWS failures, mapped through one table to a sentence, a fix, and whether a poll may simply try again.
// The one place AWS error names are read (the roll's rollback, watch and retries ask `awsErrorKind` / `isAwsError`).
import { UserError } from '../core/errors.js';

/**
 * What a caller may do about a failure without giving up: `throttle` (AWS's request limits), `consistency`
 * (EC2/ELB do not know a just-created resource yet: "Eventual consistency in the Amazon EC2 API"), `transient`
 * (a 5xx or a network failure: the SDK retry guide calls these retryable).
 */
export type Retryable = 'throttle' | 'consistency' | 'transient';

interface KnownAwsError {
  /** Matches the SDK v3 error name (e.g. InstanceRefreshInProgressFault) or its Code. */
  pattern: RegExp;
  /** A further test on the error (e.g. its message), when the name alone is not enough. */
  when?: (e: Error) => boolean;
  message: (e: Error, where: string) => string;
  fix: string;
  retry?: Retryable;
}

// The SDK's own advice is kept in the message: @aws-sdk/credential-provider-sso (resolveSSOCredentials) and
// @aws-sdk/token-providers (constants REFRESH_MESSAGE) say "To refresh this SSO session run aws sso login …".
const awsErrorTable: KnownAwsError[] = [
  // Answers that are not AWS's: the SDK finds no error code in them and names the error "Unknown", keeping
  // the HTTP status in $metadata (a proxy's 407, a captive portal's or firewall's HTML 403).
  {
    pattern: /^(Unknown|UnknownError)$/,
    when: (e) => httpStatusOf(e) === 407,
    message: (_e, where) => `a proxy between here and AWS asks for a login (HTTP 407 Proxy Authentication Required, ${where})`,
    fix: 'put its credentials in HTTPS_PROXY (http://USER:PASSWORD@HOST:PORT), or add .amazonaws.com to NO_PROXY when AWS is reachable directly',
  },
  {
    pattern: /^(Unknown|UnknownError)$/,
    when: (e) => httpStatusOf(e) !== undefined,
    message: (e, where) =>
      `something other than AWS answered ${where} (HTTP ${httpStatusOf(e)}${isHtml(e) ? ', an HTML page' : ''}): a proxy, a firewall or a captive portal`,
    fix: 'log in to the network (open any web page in a browser), or check HTTPS_PROXY and NO_PROXY; `curl -sI https://sts.amazonaws.com` shows who answers',
  },
  {
    pattern: /^(CredentialsProviderError|TokenProviderError)$/,
    when: (e) => /SSO session|sso login|SSO token/i.test(e.message),
    message: (e, where) => `the AWS SSO session has expired or is invalid (${where}): ${e.message}`,
    fix: 'run `aws sso login --profile NAME` with the profile you use (--profile or AWS_PROFILE), then run the command again',
  },
  {
    pattern: /^(ExpiredToken|ExpiredTokenException|RequestExpired)$/,
    message: (e, where) => `AWS credentials have expired (${where}): ${e.message}`,
    fix: 'log in again (aws sso login --profile …) or refresh the CI role session, then run the command again',
  },
  {
    pattern: /^(CredentialsProviderError|UnrecognizedClientException|InvalidClientTokenId|AuthFailure)$/,
    message: (e, where) => `no valid AWS credentials (${where}): ${e.message}`,
    fix: 'pass --profile NAME, or set AWS_PROFILE / AWS_ACCESS_KEY_ID, or configure the CI OIDC role (docs/ci.md)',
  },
  {
    pattern: /^(AccessDenied|AccessDeniedException|UnauthorizedOperation)$/,
    message: (e, where) => `AWS denied ${where}: ${e.message}`,
    fix: 'attach the policy printed by `sipbake iam roll` (or `sipbake iam build`) to the role you use',
  },
  {
    pattern: /^(Throttling|ThrottlingException|RequestLimitExceeded|TooManyRequestsException)$/,
    message: (_e, where) => `AWS kept throttling ${where} after the SDK's adaptive retries`,
    fix: 'run the same command again in a minute: a roll resumes the refresh it started',
    retry: 'throttle',
  },
  {
    // A just-launched instance: DescribeTargetHealth naming it, DescribeInstances by id (EC2 eventual consistency).
    pattern: /^(InvalidTarget|InvalidTargetException|InvalidInstanceID\.NotFound)$/,
    message: (e, where) => `AWS does not know a just-launched instance yet (${where}): ${e.message}`,
    fix: 'run the same command again in a minute: EC2 and ELB catch up within seconds',
    retry: 'consistency',
  },
  {
    pattern: /^InstanceRefreshInProgress(Fault)?$/,
    message: (_e, where) => `another instance refresh is already in progress (${where})`,
    fix: 'wait for it (sipbake status IMAGE) or cancel it with aws autoscaling cancel-instance-refresh, then roll again',
  },
  {
    pattern: /^ActiveInstanceRefreshNotFound(Fault)?$/,
    message: (_e, where) => `no active instance refresh to act on (${where})`,
    fix: 'check sipbake status IMAGE; start a roll or a rollback instead',
  },
  {
    pattern: /^IrreversibleInstanceRefresh(Fault)?$/,
    message: (_e, where) => `AWS cannot roll this instance refresh back (${where})`,
    fix: 'roll back with a new refresh: sipbake rollback IMAGE --previous',
  },
  {
    pattern: /^InvalidAMIID\./,
    message: (e, where) => `the AMI is unknown to EC2 (${where}): ${e.message}`,
    fix: 'pick an AMI from `sipbake history IMAGE`',
  },
  {
    pattern: /^(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|TimeoutError)$/,
    message: (e, where) => `could not reach AWS (${where}): ${e.message}`,
    fix: 'check the network and any proxy (HTTPS_PROXY), and that the region is right (--region, or deploy.region / bake.region)',
    retry: 'transient',
  },
  {
    pattern:
      /^(InternalFailure|InternalError|InternalServerError|ServiceUnavailable|ServiceUnavailableException|ServiceFailure|RequestTimeout|RequestTimeoutException)$/,
    message: (e, where) => `AWS failed on its side (${where}): ${e.message}`,
    fix: 'run the same command again in a few minutes; a roll resumes the refresh it started',
    retry: 'transient',
  },
  {
    pattern: /^ValidationError$/,
    message: (e, where) => `AWS rejected ${where}: ${e.message}`,
    fix: 'check the deploy: section of the image definition against the message',
  },
];

function httpStatusOf(e: Error): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
function isHtml(e: Error): boolean {
  const headers = (e as { $response?: { headers?: Record<string, string> } }).$response?.headers ?? {};
  return /html/i.test(headers['content-type'] ?? '');
}

/** The SDK's error under any sentence aws() wrapped around it (a UserError keeps it as its cause). */
function sdkError(e: unknown): Error | undefined {
  if (!(e instanceof Error)) return undefined;
  return e instanceof UserError && e.cause instanceof Error ? sdkError(e.cause) : e;
}

function names(e: Error): string[] {
  // SDK service errors carry name/Code; network failures from Node carry code (ENOTFOUND, …).
  const code = (e as { Code?: string }).Code ?? (e as { code?: string }).code;
  return code === undefined ? [e.name] : [e.name, code];
}

function known(e: Error): KnownAwsError | undefined {
  return awsErrorTable.find((k) => names(e).some((n) => k.pattern.test(n)) && (k.when?.(e) ?? true));
}

/** The UserError for a known AWS failure, or undefined. */
export function mapAwsError(e: unknown, where: string): UserError | undefined {
  const err = sdkError(e);
  if (!err || err !== e) return undefined; // already a sentence (or not an Error)
  const k = known(err);
  return k ? new UserError(k.message(err, where), k.fix, { cause: err }) : undefined;
}

/** Whether the failure (or the SDK error under its sentence) is one a poll may try again. */
export function awsErrorKind(e: unknown): Retryable | undefined {
  const err = sdkError(e);
  if (!err) return undefined;
  const k = known(err)?.retry;
  if (k) return k;
  // Any other server-side fault (5xx) is retryable too (AWS SDK v3 retry strategy: transient and server errors).
  const fault = err as { $fault?: string; $metadata?: { httpStatusCode?: number } };
  return fault.$fault === 'server' || (fault.$metadata?.httpStatusCode ?? 0) >= 500 ? 'transient' : undefined;
}

/** Whether the failure (or the SDK error under its sentence) has this AWS error name. */
export function isAwsError(e: unknown, name: RegExp): boolean {
  const err = sdkError(e);
  return err !== undefined && names(err).some((n) => name.test(n));
}

export const isThrottle = (e: unknown): boolean => awsErrorKind(e) === 'throttle';

/** Runs an AWS call and turns a known failure into a UserError that says what was being done. */
export async function aws<T>(where: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw mapAwsError(e, where) ?? e;
  }
}
