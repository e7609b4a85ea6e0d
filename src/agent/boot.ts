import path from 'node:path';
import { BOOT_INCLUDE_PATH, renderBootInclude } from '../contract/boot-include.js';
import { RTPPROXY_BOOT_ENV_PATH, renderRtpproxyBootEnv } from '../contract/rtpproxy-args.js';
import { DbUrlError, postgresDbUrl } from '../contract/db-url.js';
import { UserError } from '../core/errors.js';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { Imds, META, type ImdsOptions } from './imds.js';
import { readManifest, type AgentManifest } from '../contract/image-manifest.js';
import { awsSecretReader, describe as describeSecret, SecretUnusable, type SecretReader } from './secrets.js';
import { writeFilesAtomic, type AgentFile } from './atomic.js';
import { silentLog, type Log } from './log.js';
import { retry } from './retry.js';
import { systemLookup, unresolvedHosts, type Lookup } from './resolve.js';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mediaAddressFor } from './media-address.js';

// `agent.mjs boot`: load (manifest, IMDS, secrets, DNS), plan the files (pure), write them atomically.

export interface BootFacts {
  privateIp: string;
  publicIp: string;
  /** The VPC CIDR (IMDS network/interfaces/macs/MAC/vpc-ipv4-cidr-block). */
  peerNet?: string;
  /** What RTPProxy advertises in SDP (media.address); absent: publicIp. */
  mediaIp?: string;
}

export interface BootSecrets {
  dbPassword?: string;
  tlsCertificate?: string;
  tlsPrivateKey?: string;
}

/**
 * Pure: the db_url for the manifest's backend (src/contract/db-url.ts). A password Kamailio cannot parse
 * is refused with the secret's name (the parameter), never its value.
 */
export function bootDbUrl(pg: NonNullable<AgentManifest['postgres']>, password: string): string {
  try {
    return postgresDbUrl(pg, password);
  } catch (e) {
    if (!(e instanceof DbUrlError)) throw e;
    if (e.field === 'password') {
      throw new UserError(
        `the PostgreSQL password in ${describeSecret(pg.password)} cannot be used: ${e.problem}`,
        `set a password in PostgreSQL and in ${pg.password.name} that has no '/' before its first '@' (or no '/' at all), then restart sipbake-boot`,
      );
    }
    throw new UserError(
      `dispatcher.backend.${e.field} cannot be written into Kamailio's db_url: ${e.problem}`,
      `fix dispatcher.backend.${e.field} in the image definition, render and bake again`,
    );
  }
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
    ...(facts.peerNet ? { peerNet: facts.peerNet } : {}),
    ...(m.postgres && secrets.dbPassword !== undefined ? { dbUrl: bootDbUrl(m.postgres, secrets.dbPassword) } : {}),
    ...(m.tls ? { tls: { certificate: m.tls.certificate, privateKey: m.tls.privateKey } } : {}),
  });
  const files: AgentFile[] = [{ path: at(BOOT_INCLUDE_PATH), content: include, mode: 0o640, group: 'kamailio' }];
  const media = { privateIp: facts.privateIp, publicIp: facts.mediaIp ?? facts.publicIp };
  if (m.rtpproxy) files.push({ path: at(RTPPROXY_BOOT_ENV_PATH), content: renderRtpproxyBootEnv(media), mode: 0o644 });
  if (m.tls && secrets.tlsCertificate !== undefined) files.push({ path: at(m.tls.certificate), content: secrets.tlsCertificate, mode: 0o644 });
  if (m.tls && secrets.tlsPrivateKey !== undefined) files.push({ path: at(m.tls.privateKey), content: secrets.tlsPrivateKey, mode: 0o640, group: 'kamailio' });
  return files;
}

/** The VPC CIDR of the primary interface. */
async function readPeerNet(imds: Imds): Promise<string> {
  const mac = await imds.get(META.mac);
  const cidr = await imds.find(META.vpcCidr(mac));
  if (!cidr || !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr)) {
    throw new UserError(
      `instance metadata has no usable network/interfaces/macs/${mac}/vpc-ipv4-cidr-block`,
      'check that the instance runs in a VPC with an IPv4 CIDR and that IMDSv2 is reachable',
    );
  }
  return cidr;
}

/** Reads the private and the advertised address as the manifest says. */
async function readAddresses(m: AgentManifest, imds: Imds): Promise<BootFacts> {
  const privateIp = await imds.getIpv4(META.localIpv4);
  const peerNet = await readPeerNet(imds);
  switch (m.advertise.source) {
    case 'private-ipv4':
      return { privateIp, publicIp: privateIp, peerNet };
    case 'elastic-ip': {
      // readImageManifest rejects elastic-ip without an address.
      const { elasticIp } = m.advertise;
      if (elasticIp === undefined) throw new Error('image manifest: advertise.source elastic-ip without advertise.elasticIp passed the reader');
      return { privateIp, publicIp: elasticIp, peerNet };
    }
    case 'instance-public-ipv4': {
      const publicIp = await imds.findIpv4(META.publicIpv4);
      if (!publicIp) {
        throw new UserError(
          'advertise.source is instance-public-ipv4, but this instance has no public IPv4 (meta-data/public-ipv4 is 404)',
          'behind an NLB or NAT, set advertise.source: elastic-ip with advertise.elasticIp, or private-ipv4; or launch the instance with a public IPv4',
        );
      }
      return { privateIp, publicIp, peerNet };
    }
  }
}

/** media.address: the instance's public IPv4, or an Elastic IP claimed from the pool (src/agent/media-address.ts). */
async function readMediaAddress(m: AgentManifest, facts: BootFacts, imds: Imds, o: BootOptions, log: Log): Promise<string> {
  return mediaAddressFor(m.mediaAddress, facts.publicIp, {
    publicIpv4: () => imds.findIpv4(META.publicIpv4),
    pool: async () => {
      const pool = m.mediaAddress.source === 'elastic-ip-pool' ? m.mediaAddress.pool : '';
      const instanceId = await imds.get(META.instanceId);
      const ec2 =
        o.ec2 ??
        new EC2Client({
          region: o.region ?? (await imds.get(META.region)),
          maxAttempts: 5,
          ...(o.ec2Endpoint ? { endpoint: o.ec2Endpoint } : {}),
          ...(o.credentials ? { credentials: o.credentials } : {}),
        });
      return { ec2, instanceId, pool, log };
    },
  });
}

export interface BootOptions {
  /** Filesystem root ('' on the instance). */
  root: string;
  imds: Imds | ImdsOptions;
  /** Injected secret reader; by default the SDK clients with the endpoints below and the region from IMDS. */
  readSecret?: SecretReader;
  ssmEndpoint?: string;
  secretsManagerEndpoint?: string;
  /** Credentials for the secret reads (the instance role on EC2); default: the SDK's chain. */
  credentials?: AwsCredentialIdentityProvider;
  /** Overrides the region from IMDS placement/region. */
  region?: string;
  manifest?: AgentManifest;
  log?: Log;
  /** Seconds from start after which boot stops retrying (secret reads, credentials). Default 150. */
  deadlineSeconds?: number;
  lookup?: Lookup;
  /** EC2 for media.address elastic-ip-pool; by default a client with the region from IMDS and `credentials`. */
  ec2?: Pick<EC2Client, 'send'>;
  ec2Endpoint?: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface BootResult extends BootFacts {
  files: string[];
  advertise: AgentManifest['advertise']['source'];
}

async function readSecrets(m: AgentManifest, read: SecretReader, deadline: number, log: Log, o: BootOptions): Promise<BootSecrets> {
  const s: BootSecrets = {};
  const one = (ref: Parameters<SecretReader>[0], what: string) =>
    retry(() => read(ref, what), {
      deadline,
      ...(o.now ? { now: o.now } : {}),
      ...(o.sleep ? { sleep: o.sleep } : {}),
      isPermanent: (e) => e instanceof SecretUnusable,
      onRetry: (n, e, wait) =>
        log(`reading ${what} failed (attempt ${n}): ${e instanceof Error ? e.message : String(e)}; retrying in ${(wait / 1000).toFixed(1)} s`),
    });
  if (m.postgres) s.dbPassword = await one(m.postgres.password, 'the PostgreSQL password');
  if (m.tls?.certificateSecret) s.tlsCertificate = await one(m.tls.certificateSecret, 'the TLS certificate');
  if (m.tls?.privateKeySecret) s.tlsPrivateKey = await one(m.tls.privateKeySecret, 'the TLS private key');
  return s;
}

function needsSecrets(m: AgentManifest): boolean {
  return Boolean(m.postgres || m.tls?.certificateSecret || m.tls?.privateKeySecret);
}

/** Fails when a destination host name does not resolve, unless the definition allows it. */
async function checkDestinations(m: AgentManifest, look: Lookup, log: Log): Promise<void> {
  if (m.destinationHosts.length === 0) return;
  const bad = await unresolvedHosts(m.destinationHosts, look);
  if (bad.length === 0) return;
  const list = bad.map((b) => `${b.host} (${b.error})`).join(', ');
  if (m.allowUnresolved) {
    log(`warning: dispatcher destination(s) do not resolve: ${list}; Kamailio will start without them (dispatcher.allowUnresolved: true)`);
    return;
  }
  throw new UserError(
    `dispatcher destination host(s) do not resolve: ${list}. Kamailio would drop them silently`,
    'fix DNS for these names (or use addresses) and restart sipbake-boot; to start without them, set dispatcher.allowUnresolved: true',
  );
}

/** In-process boot: the same code path `agent.mjs boot` runs. Writes nothing unless everything was read. */
export async function runBoot(opts: BootOptions): Promise<BootResult> {
  const log = opts.log ?? silentLog;
  const now = opts.now ?? Date.now;
  const deadline = now() + (opts.deadlineSeconds ?? 150) * 1000;
  const m = opts.manifest ?? (await readManifest(opts.root));
  const imds = opts.imds instanceof Imds ? opts.imds : new Imds(opts.imds);
  const facts = await readAddresses(m, imds);
  if (m.rtpproxy && m.mediaAddress.source !== 'signalling') facts.mediaIp = await readMediaAddress(m, facts, imds, opts, log);
  const media = facts.mediaIp ? `, media ${facts.mediaIp} (${m.mediaAddress.source})` : '';
  log(`addresses: private ${facts.privateIp}, advertised ${facts.publicIp} (${m.advertise.source})${media}, peer network ${facts.peerNet}`);
  await checkDestinations(m, opts.lookup ?? systemLookup, log);
  let secrets: BootSecrets = {};
  if (needsSecrets(m)) {
    let read = opts.readSecret;
    if (!read) {
      const region = opts.region ?? (await imds.get(META.region));
      read = awsSecretReader({
        region,
        ...(opts.ssmEndpoint ? { ssm: opts.ssmEndpoint } : {}),
        ...(opts.secretsManagerEndpoint ? { secretsManager: opts.secretsManagerEndpoint } : {}),
        ...(opts.credentials ? { credentials: opts.credentials } : {}),
      });
    }
    secrets = await readSecrets(m, read, deadline, log, opts);
    log(`secrets read: ${Object.keys(secrets).join(', ')}`);
  }
  const files = planBoot(m, facts, secrets, opts.root);
  await writeFilesAtomic(files);
  for (const f of files) log(`wrote ${f.path} (mode ${f.mode.toString(8)})`);
  return { ...facts, files: files.map((f) => f.path), advertise: m.advertise.source };
}
