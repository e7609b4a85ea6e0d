// Known AWS failures, mapped through one table to a sentence and a fix. Anything else passes through unchanged.
import { UserError } from '../core/errors.js';

interface KnownAwsError {
  /** Matches the SDK v3 error name (e.g. InstanceRefreshInProgressFault) or its Code. */
  pattern: RegExp;
  /** A further test on the error (e.g. its message), when the name alone is not enough. */
  when?: (e: Error) => boolean;
  message: (e: Error, where: string) => string;
  fix: string;
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

/** The UserError for a known AWS failure, or undefined. */
export function mapAwsError(e: unknown, where: string): UserError | undefined {
  if (!(e instanceof Error)) return undefined;
  // SDK service errors carry name/Code; network failures from Node carry code (ENOTFOUND, …).
  const code = (e as { Code?: string }).Code ?? (e as { code?: string }).code;
  const known = awsErrorTable.find((k) => (k.pattern.test(e.name) || (code !== undefined && k.pattern.test(code))) && (k.when?.(e) ?? true));
  return known ? new UserError(known.message(e, where), known.fix, { cause: e }) : undefined;
}

export function isAwsError(e: unknown, name: RegExp): boolean {
  return e instanceof Error && (name.test(e.name) || name.test((e as { Code?: string }).Code ?? ''));
}

export const isThrottle = (e: unknown): boolean => isAwsError(e, /^(Throttling|ThrottlingException|RequestLimitExceeded|TooManyRequestsException)$/);

/** Runs an AWS call and turns a known failure into a UserError that says what was being done. */
export async function aws<T>(where: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw mapAwsError(e, where) ?? e;
  }
}
