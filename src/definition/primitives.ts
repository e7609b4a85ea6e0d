import { z } from 'zod';
import { isIPv4, isIPv6 } from 'node:net';
import { CIDR_JSON, HOST_JSON, IPV4_JSON, SOCKET_JSON } from './address-patterns.js';

// Every string a definition carries into a rendered file is typed here, so that nothing but the
// intended shape reaches Kamailio, PostgreSQL, systemd or an env file. The escapers in
// src/contract/escape.ts stay as a second wall.

export const port = z.number().int().min(1).max(65535).describe('TCP/UDP port, 1-65535');
export const seconds = (min = 0) => z.number().int().min(min).describe('seconds');
export const ipv4 = z
  .string()
  .refine((s) => isIPv4(s), { error: 'must be an IPv4 address such as 203.0.113.10' })
  .meta(IPV4_JSON);
export const cidr = z
  .string()
  .refine(
    (s) => {
      const [ip, len, extra] = s.split('/');
      return extra === undefined && ip !== undefined && isIPv4(ip) && len !== undefined && /^\d{1,2}$/.test(len) && Number(len) <= 32;
    },
    { error: 'must be an IPv4 CIDR such as 54.172.60.0/30' },
  )
  .meta(CIDR_JSON);

/** A DNS name as RFC 1123 allows it: dot-separated labels of letters, digits and inner dashes; at most 253 characters. */
function isDnsName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = s.replace(/\.$/, '').split('.');
  if (labels.some((l) => !/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))) return false;
  // An all-numeric last label is a mistyped address, not a name.
  const last = labels.at(-1);
  return last !== undefined && !/^\d+$/.test(last);
}

/** The reason a host-like value is not a bare host, with the fix; undefined when it is one. */
function hostProblem(s: string, what: string, portField: string): { message: string; fix: string } | undefined {
  if (isIPv4(s) || isDnsName(s)) return undefined;
  const [schemeText, scheme] = /^(sips?|tel|https?|udp|tcp|tls):\/*/i.exec(s) ?? [];
  if (schemeText !== undefined && scheme !== undefined) {
    const rest = s.slice(schemeText.length).replace(/^[^@]*@/, '');
    const bare = rest.split(/[:;/]/)[0] ?? '';
    return {
      message: `must be a bare ${what}, not a URI: sipbake writes the ${scheme.toLowerCase()}: scheme, port and transport itself`,
      fix: `write ${bare || 'the host name'} here${/:\d+/.test(rest) ? `, and the port in ${portField}` : ''}`,
    };
  }
  const [, hpHost, hpPort] = /^(.+):(\d{1,5})$/.exec(s) ?? [];
  if (hpHost !== undefined && (isIPv4(hpHost) || isDnsName(hpHost)))
    return { message: `must be a ${what} without a port`, fix: `write ${hpHost} here and ${portField}: ${hpPort}` };
  if (s.includes('_') && isDnsName(s.replace(/_/g, '-')))
    return {
      message: `must be an IPv4 address or a DNS name, and DNS host names have no '_'`,
      fix: `write ${s.replace(/_/g, '-')}`,
    };
  if (isIPv6(s.replace(/^\[|\]$/g, '')))
    return {
      message: `must be an IPv4 address or a DNS name; IPv6 is not supported here`,
      fix: 'use the IPv4 address or a DNS name',
    };
  return {
    message: `must be an IPv4 address or a DNS name (letters, digits, dots and dashes)`,
    fix: `write it like 10.0.0.3 or ${what === 'SIP domain' ? 'example.sip.twilio.com' : 'recorder1.example.com'}`,
  };
}

/** An IPv4 address or a DNS name; no port, no scheme. `portField` names where a port belongs. */
export const host = (what: string, portField: string) =>
  z
    .string()
    .superRefine((s, ctx) => {
      const p = hostProblem(s, what, portField);
      if (p) ctx.addIssue({ code: 'custom', message: p.message, params: { fix: p.fix }, input: s });
    })
    .meta(HOST_JSON);

/** Control characters, DEL, Unicode line separators and lone surrogates: nothing a one-line value may hold. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point of this pattern
const CONTROL = /[\x00-\x1f\x7f\u2028\u2029]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Free text on one line (descriptions). */
export const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !CONTROL.test(s), {
      error: 'must be text on one line, without control characters (line breaks, tabs, NUL)',
      params: { fix: 'write it on one line with plain characters' },
    });

/**
 * A string from a safe alphabet. When it does not match, the fix proposes the value with the
 * offending characters dropped or replaced (`sanitize`), so the user sees exactly what would pass.
 */
function safe(pattern: RegExp, message: string, sanitize: (s: string) => string) {
  return z.string().superRefine((s, ctx) => {
    if (pattern.test(s)) return;
    const clean = sanitize(s);
    ctx.addIssue({
      code: 'custom',
      message,
      input: s,
      ...(clean && clean !== s && pattern.test(clean) ? { params: { fix: `write ${JSON.stringify(clean)} instead` } } : {}),
    });
  });
}

/** An absolute path on the instance from a safe alphabet (it is written into Kamailio strings and the boot include). */
export const absolutePath = safe(
  /^\/[A-Za-z0-9._+@,=~/-]{0,1023}$/,
  'must be an absolute path on the instance made of letters, digits and . _ - + @ , = ~ /, such as /etc/kamailio/tls/server.pem',
  (s) =>
    `/${s
      .replace(/^\/*/, '')
      .replace(/\s+/g, '-')
      .replace(/[^A-Za-z0-9._+@,=~/-]/g, '')}`,
);

const URI_USER = /^[A-Za-z0-9._~+!*'()&=,-]+$/;
const URI_PARAM = /^[A-Za-z0-9._~+-]+(=[A-Za-z0-9._~+-]+)?$/;

/** The problem with a SIP URI, or undefined: sip:/sips:, optional user@, an IPv4 or DNS host, optional :port and ;params. */
function sipUriProblem(s: string): string | undefined {
  const m = /^(sips?):(?:([^@]*)@)?([^:;]*)(?::(\d{1,5}))?((?:;[^;]*)*)$/.exec(s);
  if (!m) return 'must be a SIP URI such as sip:pinger@example.com';
  const [, , user, h, p, params] = m;
  if (user !== undefined && !URI_USER.test(user))
    return 'must be a SIP URI whose user part has only letters, digits and . _ ~ + - (e.g. sip:pinger@example.com)';
  if (!h || !(isIPv4(h) || isDnsName(h))) return 'must be a SIP URI whose host is an IPv4 address or a DNS name (e.g. sip:pinger@example.com)';
  if (p !== undefined && (Number(p) < 1 || Number(p) > 65535)) return 'must be a SIP URI with a port from 1 to 65535';
  if (
    params &&
    params
      .split(';')
      .slice(1)
      .some((x) => !URI_PARAM.test(x))
  )
    return 'must be a SIP URI whose ;parameters are name or name=value in letters, digits and . _ ~ + -';
  return undefined;
}
export const sipUri = z.string().superRefine((s, ctx) => {
  if (/^sips?:[^@;]*:[^@;]*@/.test(s)) {
    // Never echo it back: the definition ends up in git and in the AMI.
    ctx.addIssue({
      code: 'custom',
      message: 'carries a password inside the URI (user:password@), and the definition ends up in the AMI and in git',
      params: {
        fix: 'remove the password from the URI; secrets are read at boot from SSM or Secrets Manager',
        got: 'a URI with a password, not shown',
      },
      input: s,
    });
    return;
  }
  const p = sipUriProblem(s);
  if (p) ctx.addIssue({ code: 'custom', message: p, input: s });
});

/** A SIP reason phrase: printable ASCII without quote, backslash or `$` (Kamailio reads `$` as a pseudo-variable). */
export const reasonPhrase = safe(
  /^[\x20-\x21\x23\x25-\x5b\x5d-\x7e]{1,128}$/,
  'must be 1-128 characters of printable ASCII without ", \\ or $ (a SIP reason phrase such as Service Unavailable - draining)',
  (s) =>
    s
      .replace(/[^\x20-\x21\x23\x25-\x5b\x5d-\x7e]/g, '')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 128),
);

/** A value in dispatcher attrs: a token from a safe alphabet (attrs are `key=value;…`, whitespace ends the field). */
export const attrToken = safe(
  /^[A-Za-z0-9._-]{1,64}$/,
  'must be 1-64 letters, digits, dots, dashes or underscores (it is written into the dispatcher attrs, e.g. rec1)',
  (s) => s.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 64),
);

/** A dispatcher send socket: proto:address:port, as Kamailio's parse_phostport() reads it. */
export const socketSpec = z
  .string()
  .superRefine((s, ctx) => {
    const [, , address, port] = /^(udp|tcp|tls|sctp):([^:]+):(\d{1,5})$/.exec(s) ?? [];
    if (address === undefined || !(isIPv4(address) || isDnsName(address)) || Number(port) < 1 || Number(port) > 65535) {
      ctx.addIssue({ code: 'custom', message: 'must look like udp:10.0.0.10:5080 (proto:IPv4-or-name:port)', input: s });
    }
  })
  .meta(SOCKET_JSON);

/** A PostgreSQL database or role name sipbake writes into SQL and the db_url without quoting surprises. */
export const pgName = safe(/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/, 'must be a PostgreSQL name: a letter or _, then up to 62 letters, digits, _ or -', (s) =>
  s
    .replace(/[^A-Za-z0-9_-]/g, '')
    .replace(/^[^A-Za-z_]+/, '')
    .slice(0, 63),
);

/** Where a secret is read at boot. Never its value. */
export const secretRef = z.strictObject({
  source: z.enum(['ssm', 'secretsmanager']).describe('ssm: SSM Parameter Store (SecureString); secretsmanager: Secrets Manager'),
  // SSM names: a-zA-Z0-9_.-/ (PutParameter); Secrets Manager ids and ARNs: A-Za-z0-9/_+=.@- and ':'.
  name: z
    .string()
    .regex(/^[A-Za-z0-9/_+=.@:-]{1,2048}$/, 'must be an SSM parameter name or a Secrets Manager id/ARN (letters, digits and / _ + = . @ : -)')
    .describe('Parameter name (e.g. /sipbake/recorder-lb/db-password) or secret id/ARN'),
  jsonKey: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,256}$/, 'must be a JSON key of letters, digits, _ . or -')
    .optional()
    .describe('For a JSON secret: the key that holds the value'),
});
export type SecretRef = z.infer<typeof secretRef>;
