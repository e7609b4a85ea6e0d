import path from 'node:path';
import { BOOT_INCLUDE_PATH, RTPPROXY_BOOT_ENV_PATH, renderBootInclude, renderRtpproxyBootEnv } from '../contract/boot-include.js';
import { UserError } from '../core/errors.js';
import { Imds, META, type ImdsOptions } from './imds.js';
import { readManifest, type AgentManifest } from './manifest.js';
import { awsSecretReader, type SecretReader } from './secrets.js';
import { writeFilesAtomic, type AgentFile } from './atomic.js';
import { silentLog, type Log } from './log.js';

// `agent.mjs boot`: load (manifest, IMDS, secrets), plan the files (pure), write them atomically.

export interface BootFacts {
  privateIp: string;
  publicIp: string;
}

export interface BootSecrets {
  dbPassword?: string;
  tlsCertificate?: string;
  tlsPrivateKey?: string;
}

/**
 * Pure: postgres://user:password@host:port/db as Kamailio reads it. Kamailio's parse_db_url
 * (lib/srdb1/db_id.c) does not percent-decode: it takes the password verbatim up to the last '@',
 * so ':', '/' and '@' are fine raw and URL-encoding would change the password. What a Kamailio
 * config string cannot carry ('"', '\\', line breaks) is refused without echoing the value.
 */
export function postgresUrl(pg: NonNullable<AgentManifest['postgres']>, password: string): string {
  const bad = /["\\\r\n\0]/;
  if (bad.test(password)) {
    throw new UserError(
      'the PostgreSQL password contains a character the Kamailio config cannot carry (a double quote, backslash, line break or NUL)',
      'set a password without those characters in PostgreSQL and in the secret',
    );
  }
  for (const [what, v] of [['user', pg.user], ['host', pg.host], ['database', pg.database]] as const) {
    if (/["\\\s/?]/.test(v) || (what !== 'user' && v.includes('@'))) throw new UserError(`dispatcher.backend.${what} ${JSON.stringify(v)} cannot be written into a Kamailio db_url`, `use a plain ${what} name`);
  }
  return `postgres://${pg.user}:${password}@${pg.host}:${pg.port}/${pg.database}`;
}

/** Pure: which files boot writes, with what content and mode. */
export function planBoot(m: AgentManifest, facts: BootFacts, secrets: BootSecrets, root: string): AgentFile[] {
  const r = root.replace(/\/+$/, '');
  const at = (rel: string) => path.join(r || '/', rel);
  if (m.postgres && secrets.dbPassword === undefined) throw new Error('planBoot: the postgres backend needs the database password');
  const include = renderBootInclude({
    privateIp: facts.privateIp,
    publicIp: facts.publicIp,
    root: r,
    ...(m.postgres && secrets.dbPassword !== undefined ? { dbUrl: postgresUrl(m.postgres, secrets.dbPassword) } : {}),
    ...(m.tls ? { tls: { certificate: m.tls.certificate, privateKey: m.tls.privateKey } } : {}),
  });
  const files: AgentFile[] = [{ path: at(BOOT_INCLUDE_PATH), content: include, mode: 0o640, group: 'kamailio' }];
  if (m.rtpproxy) files.push({ path: at(RTPPROXY_BOOT_ENV_PATH), content: renderRtpproxyBootEnv(facts), mode: 0o640, group: 'kamailio' });
  if (m.tls && secrets.tlsCertificate !== undefined) files.push({ path: at(m.tls.certificate), content: secrets.tlsCertificate, mode: 0o644 });
  if (m.tls && secrets.tlsPrivateKey !== undefined) files.push({ path: at(m.tls.privateKey), content: secrets.tlsPrivateKey, mode: 0o640, group: 'kamailio' });
  return files;
}

/** Reads the private and the advertised address as the manifest says. */
export async function readAddresses(m: AgentManifest, imds: Imds): Promise<BootFacts> {
  const privateIp = await imds.get(META.localIpv4);
  switch (m.advertise.source) {
    case 'private-ipv4':
      return { privateIp, publicIp: privateIp };
    case 'elastic-ip':
      return { privateIp, publicIp: m.advertise.elasticIp! };
    case 'instance-public-ipv4': {
      const publicIp = await imds.find(META.publicIpv4);
      if (!publicIp) {
        throw new UserError(
          'advertise.source is instance-public-ipv4, but this instance has no public IPv4 (meta-data/public-ipv4 is 404)',
          'behind an NLB or NAT, set advertise.source: elastic-ip with advertise.elasticIp, or private-ipv4; or launch the instance with a public IPv4',
        );
      }
      return { privateIp, publicIp };
    }
  }
}

export interface BootOptions {
  /** Filesystem root ('' on the instance). */
  root: string;
  imds: Imds | ImdsOptions;
  /** Injected secret reader; by default the SDK clients with the endpoints below and the region from IMDS. */
  readSecret?: SecretReader;
  ssmEndpoint?: string;
  secretsManagerEndpoint?: string;
  /** Overrides the region from IMDS placement/region. */
  region?: string;
  manifest?: AgentManifest;
  log?: Log;
}

export interface BootResult extends BootFacts {
  files: string[];
}

async function readSecrets(m: AgentManifest, read: SecretReader): Promise<BootSecrets> {
  const s: BootSecrets = {};
  if (m.postgres) s.dbPassword = await read(m.postgres.password, 'the PostgreSQL password');
  if (m.tls?.certificateSecret) s.tlsCertificate = await read(m.tls.certificateSecret, 'the TLS certificate');
  if (m.tls?.privateKeySecret) s.tlsPrivateKey = await read(m.tls.privateKeySecret, 'the TLS private key');
  return s;
}

function needsSecrets(m: AgentManifest): boolean {
  return Boolean(m.postgres || m.tls?.certificateSecret || m.tls?.privateKeySecret);
}

/** In-process boot: the same code path `agent.mjs boot` runs. Writes nothing unless everything was read. */
export async function runBoot(opts: BootOptions): Promise<BootResult> {
  const log = opts.log ?? silentLog;
  const m = opts.manifest ?? (await readManifest(opts.root));
  const imds = opts.imds instanceof Imds ? opts.imds : new Imds(opts.imds);
  const facts = await readAddresses(m, imds);
  log(`addresses: private ${facts.privateIp}, advertised ${facts.publicIp} (${m.advertise.source})`);
  let secrets: BootSecrets = {};
  if (needsSecrets(m)) {
    let read = opts.readSecret;
    if (!read) {
      const region = opts.region ?? (await imds.get(META.region));
      read = awsSecretReader({
        region,
        ...(opts.ssmEndpoint ? { ssm: opts.ssmEndpoint } : {}),
        ...(opts.secretsManagerEndpoint ? { secretsManager: opts.secretsManagerEndpoint } : {}),
      });
    }
    secrets = await readSecrets(m, read);
    log(`secrets read: ${Object.keys(secrets).join(', ')}`);
  }
  const files = planBoot(m, facts, secrets, opts.root);
  await writeFilesAtomic(files);
  for (const f of files) log(`wrote ${f.path} (mode ${f.mode.toString(8)})`);
  return { ...facts, files: files.map((f) => f.path) };
}
