import { readFile } from 'node:fs/promises';
import type { ImageDefinition } from '../definition/schema.js';
import { z } from 'zod';
import { DEFAULT_LIFECYCLE_HOOK_NAME } from '../definition/deploy-schema.js';
import { drainFields, type DrainConfig } from '../definition/drain-schema.js';
import { secretRef, type SecretRef } from '../definition/primitives.js';
import { UserError } from '../core/errors.js';

// The image manifest (etc/sipbake/image.json): the one writer (render) and the one reader (the agent,
// sipbake-status, render's --out check). Read defensively: unknown fields are ignored and missing
// optional ones fall back to defaults, so an agent and a manifest from neighbouring builds still agree.

export const MANIFEST_PATH = 'etc/sipbake/image.json';

const postgresBackend = z.looseObject({
  type: z.literal('postgres'),
  host: z.string().min(1),
  port: z.number().int().default(5432),
  database: z.string().min(1).default('kamailio'),
  user: z.string().min(1).default('kamailio'),
  password: secretRef,
});

const manifestSchema = z.looseObject({
  name: z.string().min(1),
  advertise: z
    .looseObject({
      source: z.enum(['instance-public-ipv4', 'elastic-ip', 'private-ipv4']).default('instance-public-ipv4'),
      elasticIp: z.string().optional(),
    })
    .prefault({}),
  dispatcher: z
    .looseObject({
      backend: z.looseObject({ type: z.string() }).optional(),
      destinations: z.array(z.looseObject({ host: z.string().min(1) })).default([]),
      allowUnresolved: z.boolean().default(false),
    })
    .nullish(),
  rtpproxy: z
    .looseObject({
      enabled: z.boolean().default(false),
      controlSocket: z.string().optional(),
      // Older manifests have none: media on the signalling address, as before.
      address: z
        .looseObject({ source: z.enum(['signalling', 'instance-public-ipv4', 'elastic-ip-pool']).default('signalling'), pool: z.string().min(1).optional() })
        .prefault({}),
    })
    .nullish(),
  tls: z
    .looseObject({
      enabled: z.boolean().default(false),
      certificate: z.string().optional(),
      privateKey: z.string().optional(),
      certificateSecret: secretRef.nullish(),
      privateKeySecret: secretRef.nullish(),
    })
    .nullish(),
  // The drain section as the definition has it, plus the one name of the hook the agent completes: render writes
  // deploy.lifecycleHook.name there (or its default without a deploy section).
  drain: z.object({ ...drainFields, lifecycleHookName: z.string().min(1).default(DEFAULT_LIFECYCLE_HOOK_NAME) }).prefault({}),
  listen: z.looseObject({ udp: z.number().int().optional() }).nullish(),
  kamailio: z.looseObject({ kamcmd: z.string().optional() }).nullish(),
});

interface PostgresRef {
  host: string;
  port: number;
  database: string;
  user: string;
  password: SecretRef;
}

interface TlsFiles {
  certificate: string;
  privateKey: string;
  certificateSecret?: SecretRef;
  privateKeySecret?: SecretRef;
}

export type MediaAddress = { source: 'signalling' } | { source: 'instance-public-ipv4' } | { source: 'elastic-ip-pool'; pool: string };

/** What the agent needs from the manifest, normalised. */
export interface AgentManifest {
  name: string;
  advertise: { source: 'instance-public-ipv4' | 'elastic-ip' | 'private-ipv4'; elasticIp?: string };
  postgres?: PostgresRef;
  rtpproxy: boolean;
  /** RTPProxy's control socket (sipbake-status asks it for its sessions). */
  rtpproxyControlSocket?: string;
  /** Where RTPProxy's advertised address comes from (src/agent/media-address.ts). */
  mediaAddress: MediaAddress;
  tls?: TlsFiles;
  /** The drain section, with the termination hook the agent completes (deploy.lifecycleHook.name). */
  drain: DrainConfig & { lifecycleHookName: string };
  kamcmd?: string;
  /** Dispatcher destination hosts (names or addresses) boot resolves, and whether one may fail to. */
  destinationHosts: string[];
  allowUnresolved: boolean;
  /** Kamailio's UDP SIP port, when it listens on UDP (the health port's SIP probe goes there). */
  sipUdpPort?: number;
}

function mediaAddressOf(a: { source: MediaAddress['source']; pool?: string } | undefined, file: string): MediaAddress {
  if (a === undefined || a.source === 'signalling') return { source: 'signalling' };
  if (a.source === 'instance-public-ipv4') return { source: a.source };
  if (a.pool === undefined)
    throw new UserError(
      `${file} rtpproxy.address.source is elastic-ip-pool but rtpproxy.address.pool is missing`,
      'set media.address.pool in the image definition, render and bake again',
    );
  return { source: a.source, pool: a.pool };
}

/** Pure: JSON text → manifest, or a UserError naming the file and the field. */
export function parseManifest(text: string, file: string): AgentManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      `${file} is not valid JSON (${e instanceof Error ? e.message : String(e)})`,
      'render the image again with `sipbake render` and bake it',
    );
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new UserError(`${file} is not a sipbake image manifest: ${issues.join('; ')}`, 'render the image again with `sipbake render` and bake it', {
      details: issues,
    });
  }
  const m = r.data;
  const backend = m.dispatcher?.backend;
  let postgres: PostgresRef | undefined;
  if (backend?.type === 'postgres') {
    const pg = postgresBackend.safeParse(backend);
    if (!pg.success)
      throw new UserError(
        `${file} dispatcher.backend: ${pg.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        'render the image again',
      );
    postgres = {
      host: pg.data.host,
      port: pg.data.port,
      database: pg.data.database,
      user: pg.data.user,
      password: pg.data.password,
    };
  }
  if (m.advertise.source === 'elastic-ip' && !m.advertise.elasticIp) {
    throw new UserError(
      `${file} advertise.source is elastic-ip but advertise.elasticIp is missing`,
      'set advertise.elasticIp in the image definition, render and bake again',
    );
  }
  let tls: TlsFiles | undefined;
  if (m.tls?.enabled) {
    tls = {
      certificate: m.tls.certificate ?? '/etc/kamailio/tls/server.pem',
      privateKey: m.tls.privateKey ?? '/etc/kamailio/tls/server.key',
      ...(m.tls.certificateSecret ? { certificateSecret: m.tls.certificateSecret } : {}),
      ...(m.tls.privateKeySecret ? { privateKeySecret: m.tls.privateKeySecret } : {}),
    };
  }
  return {
    ...(m.listen?.udp !== undefined ? { sipUdpPort: m.listen.udp } : {}),
    name: m.name,
    advertise: { source: m.advertise.source, ...(m.advertise.elasticIp ? { elasticIp: m.advertise.elasticIp } : {}) },
    ...(postgres ? { postgres } : {}),
    rtpproxy: m.rtpproxy?.enabled ?? false,
    ...(m.rtpproxy?.enabled && m.rtpproxy.controlSocket ? { rtpproxyControlSocket: m.rtpproxy.controlSocket } : {}),
    mediaAddress: mediaAddressOf(m.rtpproxy?.address, file),
    ...(tls ? { tls } : {}),
    drain: m.drain,
    ...(m.kamailio?.kamcmd ? { kamcmd: m.kamailio.kamcmd } : {}),
    destinationHosts: [...new Set((m.dispatcher?.destinations ?? []).map((d) => d.host))],
    allowUnresolved: m.dispatcher?.allowUnresolved ?? false,
  };
}

/** The one writer: what render puts in etc/sipbake/image.json (schemaVersion 1). */
export function imageManifest(image: ImageDefinition, modules: string[]): Record<string, unknown> {
  const ds = image.dispatcher;
  return {
    schemaVersion: 1,
    name: image.name,
    description: image.description,
    modules,
    listen: image.listen,
    advertise: image.advertise,
    memory: image.memory,
    // The drain agent completes the lifecycle hook the roll checks or creates.
    drain: { ...image.drain, lifecycleHookName: image.deploy?.lifecycleHook.name ?? DEFAULT_LIFECYCLE_HOOK_NAME },
    kamailio: {
      binary: '/usr/local/sbin/kamailio',
      kamcmd: '/usr/local/sbin/kamcmd',
      config: '/etc/kamailio/kamailio.cfg',
    },
    rtpproxy: {
      enabled: image.media.rtpproxy.enabled,
      controlSocket: image.media.rtpproxy.controlSocket,
      rtpPorts: image.media.rtpproxy.rtpPorts,
      logLevel: image.media.rtpproxy.logLevel,
      maxCalls: image.media.rtpproxy.maxCalls ?? null,
      address: image.media.address,
    },
    tls: image.tls.enabled
      ? {
          enabled: true,
          certificate: image.tls.certificate,
          privateKey: image.tls.privateKey,
          certificateSecret: image.tls.certificateSecret ?? null,
          privateKeySecret: image.tls.privateKeySecret ?? null,
        }
      : { enabled: false },
    dispatcher: ds
      ? {
          setId: ds.setId,
          algorithm: ds.algorithm,
          backend: ds.backend,
          // The boot agent resolves these host names before Kamailio starts (Kamailio drops one that does not resolve).
          destinations: ds.destinations.map((d) => ({ host: d.host, port: d.port, transport: d.transport })),
          allowUnresolved: ds.allowUnresolved,
        }
      : null,
    relay: image.relay ? { destination: image.relay.destination } : null,
  };
}

export async function readManifest(root: string): Promise<AgentManifest> {
  const file = `${root}/${MANIFEST_PATH}`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UserError(
      `cannot read the image manifest ${file} (${e instanceof Error ? e.message : String(e)})`,
      'this instance was not built from a sipbake image, or SIPBAKE_ROOT points at the wrong directory',
    );
  }
  return parseManifest(text, file);
}
