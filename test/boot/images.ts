// The two seed images as booted in a namespace (src/boot/net.ts): pointed at the host's end of the veth, where
// SIPp plays the far side (the destination Twilio domain, the recorders). Fixed slots, so the same definition
// (and the cached local bake) serves every run. Everything else stays as the seed says, memory flags included.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { deepMerge, type Plain } from '../../src/definition/merge.js';
import { bootNetPlan, type BootNet } from '../../src/boot/net.js';
import { repoRoot } from '../bake/helpers.js';

export const FAR_PORT = 5070;

export interface BootImage {
  seed: 'twilio-relay' | 'recorder-lb';
  net: BootNet;
  /** The image's SIP port. */
  port: number;
  healthPort: number;
  rtpproxy: boolean;
}

export const BOOT_IMAGES: Record<'twilio-relay' | 'recorder-lb', BootImage> = {
  'twilio-relay': { seed: 'twilio-relay', net: bootNetPlan('tr', 1), port: 5060, healthPort: 8090, rtpproxy: false },
  'recorder-lb': { seed: 'recorder-lb', net: bootNetPlan('rl', 2), port: 5080, healthPort: 8090, rtpproxy: true },
};

function patch(b: BootImage, raw: Plain): Plain {
  const far = b.net.hostIp;
  const p: Plain = {
    // Behind no NLB here: the guest advertises its own address, so in-dialog requests come back to it.
    advertise: { source: 'private-ipv4' },
    antiflood: { exempt: [b.net.cidr] },
    drain: { pollSeconds: 1, maxSeconds: 60 },
  };
  if (raw.relay) p.relay = { destination: { domain: far, port: FAR_PORT, transport: 'udp' }, allowedSources: [b.net.cidr] };
  if (raw.dispatcher) {
    p.dispatcher = {
      destinations: [{ host: far, port: FAR_PORT, transport: 'udp', attrs: { weight: 100 }, description: 'recorder0' }],
      backend: { type: 'file' },
      probing: { interval: 2 },
    };
  }
  return p;
}

/** Writes DIR/NAME.yaml (the seed, patched) and returns its path. */
export async function bootDefinition(b: BootImage, dir: string): Promise<string> {
  const raw = parse(await readFile(path.join(repoRoot, 'images', `${b.seed}.yaml`), 'utf8')) as Plain;
  delete raw.deploy;
  const merged = deepMerge(raw, patch(b, raw), { replaceWhole: ['backend', 'destinations', 'advertise'] });
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${b.seed}.yaml`);
  await writeFile(file, stringify(merged));
  return file;
}
