import { z } from 'zod';
import { isIPv4 } from 'node:net';

export const port = z.number().int().min(1).max(65535).describe('TCP/UDP port, 1-65535');
export const seconds = (min = 0) => z.number().int().min(min).describe('seconds');
export const ipv4 = z.string().refine((s) => isIPv4(s), { message: 'must be an IPv4 address such as 203.0.113.10' });
export const cidr = z
  .string()
  .refine(
    (s) => {
      const [ip, len, extra] = s.split('/');
      return extra === undefined && ip !== undefined && isIPv4(ip) && len !== undefined && /^\d{1,2}$/.test(len) && Number(len) <= 32;
    },
    { message: 'must be an IPv4 CIDR such as 54.172.60.0/30' },
  );
export const sipUri = z.string().regex(/^sips?:[^\s]+$/, 'must be a SIP URI such as sip:pinger@example.com');
export const absolutePath = z.string().regex(/^\//, 'must be an absolute path on the instance, such as /etc/kamailio/tls/server.pem');
export const awsName = z.string().min(1);

/** Where a secret is read at boot. Never its value. */
export const secretRef = z.strictObject({
  source: z.enum(['ssm', 'secretsmanager']).describe('ssm: SSM Parameter Store (SecureString); secretsmanager: Secrets Manager'),
  name: z.string().min(1).describe('Parameter name (e.g. /sipbake/recorder-lb/db-password) or secret id/ARN'),
  jsonKey: z.string().min(1).optional().describe('For a JSON secret: the key that holds the value'),
});
export type SecretRef = z.infer<typeof secretRef>;
