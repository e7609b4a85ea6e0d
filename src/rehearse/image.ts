import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { DEFAULT_LIFECYCLE_HOOK_NAME } from '../definition/deploy-schema.js';
import { loadImageOrThrow } from '../definition/load.js';
import { deepMerge, type Plain } from '../definition/merge.js';
import type { ImageDefinition } from '../definition/schema.js';
import { renderImage } from '../render/index.js';
import { ADDR } from './net-plan.js';
import type { MediaAddressMode } from './types.js';

// The image under rehearsal, pointed at the emulated world: the destination SIP domain / recorders are the SIPp
// peers on the internet side, the allowed sources the internet side, the database a file, RTPProxy (the real one, from
// the tree's unit: rtp-proxy.ts) on each instance's loopback with media on the instance's own address. Everything else (routing, drain, antiflood) stays as the definition says; sizes and
// the drain's clocks are scaled down. The patched definition is written next to the trees, so it can be read.

export interface RehearsalImage {
  name: string;
  /** The SIP port the image listens on and advertises (its instances register with it as their target port). */
  port: number;
  relay: boolean;
  rtpproxy: boolean;
  /** drain.pollSeconds after scaling (at least 1). */
  pollSeconds: number;
  healthPort: number;
  definitionFile: string;
  /** Lifecycle hook name the agent completes. */
  hookName: string;
  /** Where the boot agent takes the advertised address from (the NLB's Elastic IP either way). */
  advertise: 'elastic-ip' | 'instance-public-ipv4';
  /**
   * RTPProxy advertises each instance's own media Elastic IP (net-plan instanceEip, 1:1 NAT), read by the boot agent
   * from IMDS public-ipv4 (media.address instance-public-ipv4); false: the NLB's address, as before (the negative
   * control: --media-address signalling).
   */
  mediaOwnAddress: boolean;
  rtpPorts: { min: number; max: number };
}

export interface ImagePatchOptions {
  /** The drain's clocks are divided by this (drain.maxSeconds). */
  scale: number;
  hookTimeoutSeconds: number;
  /** Where RTPProxy's advertised address comes from: each instance's own (default) or the single signalling address
   *  (the NLB's; the negative control). */
  mediaAddress?: MediaAddressMode;
}

function rehearsalPatch(image: ImageDefinition, o: ImagePatchOptions): Plain {
  const p: Plain = {
    diagnostics: { log: 'stderr', debugLevel: 1, jsonrpc: false },
    memory: { sharedMb: 64, privateMb: 8, children: 2 },
    drain: {
      pollSeconds: 1,
      maxSeconds: Math.max(10, Math.round(image.drain.maxSeconds / o.scale)),
      heartbeatTimeoutSeconds: Math.max(30, o.hookTimeoutSeconds),
    },
    tls: { enabled: false },
    // The emulated internet is one /24: every peer would look like a flood to a per-source limit tuned for Twilio.
    antiflood: { exempt: ['198.51.100.0/24', ADDR.subnet] },
  };
  if (image.relay) {
    p.relay = {
      destination: { domain: ADDR.destination, port: 5060, transport: 'udp' },
      allowedSources: ['198.51.100.0/24', ADDR.subnet],
    };
  }
  if (image.dispatcher) {
    p.dispatcher = {
      destinations: ADDR.recorders.map((host, i) => ({
        host,
        port: 5060,
        transport: 'udp',
        attrs: { weight: i === 0 ? 75 : 25 },
        description: `recorder${i}`,
      })),
      backend: { type: 'file' },
      probing: { interval: 2 },
    };
  }
  if (image.media?.rtpproxy?.enabled)
    p.media = {
      rtpproxy: { controlSocket: 'udp:127.0.0.1:7722' },
      // Signalling through the NLB, media straight to the instance (docs/media.md), unless asked for the old way.
      address:
        (o.mediaAddress ?? 'instance') === 'instance' && image.advertise.source !== 'instance-public-ipv4'
          ? { source: 'instance-public-ipv4' }
          : { source: 'signalling' },
    };
  return p;
}

/** Loads IMAGE, writes the patched definition into dir/NAME.yaml and returns what the rehearsal needs to know. */
export async function prepareImage(root: string, nameOrPath: string, dir: string, o: ImagePatchOptions): Promise<RehearsalImage> {
  const { image, file } = await loadImageOrThrow(root, nameOrPath);
  const raw = parse(await readFile(file, 'utf8')) as Plain;
  delete raw.deploy;
  const merged = deepMerge(raw, rehearsalPatch(image, o), { replaceWhole: ['backend'] });
  // Instances sit behind the NLB: they advertise its address. elastic-ip: the emulated NLB's EIP replaces the
  // definition's; instance-public-ipv4: the per-instance IMDS answers public-ipv4 with it; private-ipv4 would
  // advertise an address no caller can reach behind the NLB, so it becomes elastic-ip too.
  if (image.advertise.source !== 'instance-public-ipv4') merged.advertise = { source: 'elastic-ip', elasticIp: ADDR.nlbEip };
  await mkdir(dir, { recursive: true });
  const definitionFile = path.join(dir, `${image.name}.yaml`);
  await writeFile(definitionFile, stringify(merged));
  const { image: patched } = await loadImageOrThrow(root, definitionFile);
  return {
    name: patched.name,
    port: patched.listen.udp ?? 5060,
    relay: Boolean(patched.relay),
    rtpproxy: Boolean(patched.media?.rtpproxy?.enabled),
    pollSeconds: patched.drain.pollSeconds,
    healthPort: patched.drain.healthCheck.port,
    definitionFile,
    hookName: patched.deploy?.lifecycleHook.name ?? DEFAULT_LIFECYCLE_HOOK_NAME,
    advertise: patched.advertise.source === 'instance-public-ipv4' ? 'instance-public-ipv4' : 'elastic-ip',
    mediaOwnAddress: patched.media.rtpproxy.enabled && patched.media.address.source !== 'signalling',
    rtpPorts: patched.media.rtpproxy.rtpPorts,
  };
}

/**
 * Renders the patched definition as the image holds it: no boot include (the boot agent writes it in the instance's
 * namespace from its IMDS), plus run/kamailio, where the include's SIPBAKE_RUN_DIR points under SIPBAKE_ROOT.
 */
export async function renderInstance(root: string, img: RehearsalImage, out: string): Promise<void> {
  await renderImage(root, img.definitionFile, { out });
  await mkdir(path.join(out, 'run/kamailio'), { recursive: true });
}
