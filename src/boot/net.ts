// A network namespace for one booted image, as EC2 gives an instance: one interface (eth0) with a private address
// in a /30 whose other end is on the host (veth), a default route there, and the instance metadata service at
// 169.254.169.254:80, which a DNAT in the namespace sends to the host's end, where sipbake serves IMDS on a port
// of its own. Plan (pure) → create / destroy (effects, `ip` and `nft`).
import { execa } from 'execa';

const IMDS_ADDRESS = '169.254.169.254';
/** Every namespace and host interface this creates starts with these, so leftovers are easy to find. */
const NS_PREFIX = 'sbboot-';
const HOST_IF_PREFIX = 'sbbh';

export interface BootNet {
  ns: string;
  hostIf: string;
  hostIp: string;
  guestIp: string;
  /** The /30's network, for the image's allowed sources. */
  cidr: string;
}

/** Slot n (0-16383) → 10.213.0.0/16 cut into /30s; host .1, guest .2 of each. */
export function bootNetPlan(name: string, slot: number): BootNet {
  if (!/^[a-z0-9-]{1,8}$/.test(name)) throw new Error(`boot net name "${name}": 1-8 of a-z, 0-9, -`);
  if (!(slot >= 0 && slot < 16384)) throw new Error(`boot net slot ${slot}: 0-16383`);
  const base = slot * 4;
  const net = `10.213.${base >> 8}.${base & 255}`;
  const at = (k: number) => `10.213.${(base + k) >> 8}.${(base + k) & 255}`;
  return { ns: `${NS_PREFIX}${name}`, hostIf: `${HOST_IF_PREFIX}${name}`.slice(0, 15), hostIp: at(1), guestIp: at(2), cidr: `${net}/30` };
}

/** The namespace's nft ruleset: instance metadata at its link-local address, served on the host's end at port. */
function imdsDnatRules(n: BootNet, port: number): string {
  return [
    'table ip sipbake_imds {',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    `    ip daddr ${IMDS_ADDRESS} tcp dport 80 dnat to ${n.hostIp}:${port}`,
    '  }',
    '}',
    '',
  ].join('\n');
}

const ip = (...a: string[]) => execa('ip', a);
const inNs = (n: BootNet, ...a: string[]) => execa('ip', ['netns', 'exec', n.ns, ...a]);

export async function createBootNet(n: BootNet): Promise<void> {
  await destroyBootNet(n); // a namespace left by a killed run
  await ip('netns', 'add', n.ns);
  try {
    await ip('link', 'add', n.hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.ns);
    await ip('addr', 'add', `${n.hostIp}/30`, 'dev', n.hostIf);
    await ip('link', 'set', n.hostIf, 'up');
    await inNs(n, 'ip', 'link', 'set', 'lo', 'up');
    await inNs(n, 'ip', 'addr', 'add', `${n.guestIp}/30`, 'dev', 'eth0');
    await inNs(n, 'ip', 'link', 'set', 'eth0', 'up');
    await inNs(n, 'ip', 'route', 'add', 'default', 'via', n.hostIp);
  } catch (e) {
    await destroyBootNet(n);
    throw e;
  }
}

/** Once IMDS listens on the host's end (its port known): 169.254.169.254:80 in the namespace reaches it. */
export async function pointImdsAt(n: BootNet, port: number): Promise<void> {
  await execa('ip', ['netns', 'exec', n.ns, 'nft', '-f', '-'], { input: imdsDnatRules(n, port) });
}

/** Deleting the namespace deletes eth0, and with it its host end. */
export async function destroyBootNet(n: BootNet): Promise<void> {
  await execa('ip', ['netns', 'del', n.ns], { reject: false });
  await execa('ip', ['link', 'del', n.hostIf], { reject: false });
}
