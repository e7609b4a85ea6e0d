// The per-instance include kamailio.cfg imports. Pure: the same function serves `render --local`
// and the on-instance agent at boot, so the two can never disagree on its shape.

export interface BootValues {
  privateIp: string;
  publicIp: string;
  /** Filesystem root the image lives under: '' on the instance, the render directory for --local. */
  root: string;
  /** postgres://user:password@host:port/db, postgres backend only. */
  dbUrl?: string;
  /**
   * CIDR of the network the image's instances share (the VPC, from IMDS
   * network/interfaces/macs/MAC/vpc-ipv4-cidr-block). In-dialog requests are forwarded to the owning
   * instance only inside it. Unset: this instance alone (privateIp/32), so nothing is forwarded.
   */
  peerNet?: string;
  /** TLS only: certificate and key paths on the instance (root is prefixed). */
  tls?: { certificate: string; privateKey: string };
}

export const BOOT_INCLUDE_PATH = 'etc/kamailio/sipbake-boot.cfg';
export const RTPPROXY_BOOT_ENV_PATH = 'etc/sipbake/rtpproxy-boot.env';

function str(s: string): string {
  if (/["\n\r]/.test(s)) throw new Error(`value ${JSON.stringify(s)} cannot be written into a Kamailio #!define string`);
  return `"${s}"`;
}

export function runDir(root: string): string {
  return `${root}/run/kamailio`;
}

export function renderBootInclude(v: BootValues): string {
  for (const ip of [v.privateIp, v.publicIp]) {
    if (!/^[0-9a-fA-F.:]+$/.test(ip)) throw new Error(`refusing to write ${JSON.stringify(ip)} as an address into the boot include`);
  }
  const peerNet = v.peerNet ?? `${v.privateIp}/32`;
  if (!/^[0-9.]+\/\d{1,2}$/.test(peerNet)) throw new Error(`refusing to write ${JSON.stringify(peerNet)} as the peer network CIDR into the boot include`);
  const r = v.root.replace(/\/+$/, '');
  const lines = [
    '# Written at boot by sipbake-boot (never baked into the image).',
    `#!substdef "!SIPBAKE_PRIVATE_IP!${v.privateIp}!g"`,
    `#!substdef "!SIPBAKE_PUBLIC_IP!${v.publicIp}!g"`,
    `#!define SIPBAKE_PEER_NET ${str(peerNet)}`,
    `#!define SIPBAKE_RUN_DIR ${str(runDir(r))}`,
    `#!define SIPBAKE_CTL_SOCK ${str(`unix:${runDir(r)}/kamailio_ctl`)}`,
    `#!define SIPBAKE_JSONRPC_FIFO ${str(`${runDir(r)}/kamailio_rpc.fifo`)}`,
    `#!define SIPBAKE_DS_LIST ${str(`${r}/etc/kamailio/dispatcher.list`)}`,
  ];
  if (v.tls !== undefined) {
    lines.push(`#!define SIPBAKE_TLS_CERT ${str(`${r}${v.tls.certificate}`)}`, `#!define SIPBAKE_TLS_KEY ${str(`${r}${v.tls.privateKey}`)}`);
  }
  if (v.dbUrl !== undefined) lines.push(`#!define SIPBAKE_DB_URL ${str(v.dbUrl)}`);
  return `${lines.join('\n')}\n`;
}

export function renderRtpproxyBootEnv(v: Pick<BootValues, 'privateIp' | 'publicIp'>): string {
  // -l binds the private address; -A advertises the public one in rewritten SDP.
  const adv = v.publicIp === v.privateIp ? '' : ` -A ${v.publicIp}`;
  return `RTPPROXY_ADDR_OPTS="-l ${v.privateIp}${adv}"\n`;
}
