// The per-instance include kamailio.cfg imports. Pure: the same function serves `render --local`
// and the on-instance agent at boot, so the two can never disagree on its shape.
//
// Only `#!define`, never `#!substdef`: a subst rule rewrites every string Kamailio lexes after it
// (src/core/cfg.lex runs pp_subst_run on each STRING token, after escapes), so a password or a path
// that contains the text of a token would be rewritten. A define is replaced only where the whole token
// stands on its own (listen=udp:SIPBAKE_PRIVATE_IP:5060, modparam(..., SIPBAKE_DB_URL)).

import { checkAddress, kamailioString } from './escape.js';

export interface BootValues {
  privateIp: string;
  publicIp: string;
  /** Filesystem root the image lives under: '' on the instance, the render directory for --local. */
  root: string;
  /** postgres://user:password@host:port/db (src/contract/db-url.ts), postgres backend only. */
  dbUrl?: string;
  /** TLS only: certificate and key paths on the instance (root is prefixed). */
  tls?: { certificate: string; privateKey: string };
  /**
   * CIDR of the network the image's instances share (the VPC, from IMDS
   * network/interfaces/macs/MAC/vpc-ipv4-cidr-block). In-dialog requests are forwarded to the owning
   * instance only inside it. Unset: this instance alone (privateIp/32), so nothing is forwarded.
   */
  peerNet?: string;
}

export const BOOT_INCLUDE_PATH = 'etc/kamailio/sipbake-boot.cfg';

function runDir(root: string): string {
  return `${root}/run/kamailio`;
}

/** Kamailio's ctl socket under `root` (the include's SIPBAKE_CTL_SOCK): kamcmd, the drain agent and sipbake-status use it. */
export function ctlSocket(root: string): string {
  return `unix:${runDir(root.replace(/\/+$/, ''))}/kamailio_ctl`;
}

export function renderBootInclude(v: BootValues): string {
  for (const ip of [v.privateIp, v.publicIp]) checkAddress(ip, 'the boot include');
  const peerNet = v.peerNet ?? `${v.privateIp}/32`;
  if (!/^[0-9.]+\/\d{1,2}$/.test(peerNet)) throw new Error(`refusing to write ${JSON.stringify(peerNet)} as the peer network CIDR into the boot include`);
  const r = v.root.replace(/\/+$/, '');
  const str = kamailioString;
  const lines = [
    '# Written at boot by sipbake-boot (never baked into the image). Defines only, no subst rules.',
    `#!define SIPBAKE_PRIVATE_IP ${v.privateIp}`,
    `#!define SIPBAKE_PUBLIC_IP ${v.publicIp}`,
    // Quoted forms for string parameters (a bare define is not replaced inside a quoted string).
    `#!define SIPBAKE_PRIVATE_IP_STR ${str(v.privateIp)}`,
    `#!define SIPBAKE_PUBLIC_IP_STR ${str(v.publicIp)}`,
    `#!define SIPBAKE_PEER_NET ${str(peerNet)}`,
    `#!define SIPBAKE_RUN_DIR ${str(runDir(r))}`,
    `#!define SIPBAKE_CTL_SOCK ${str(ctlSocket(r))}`,
    `#!define SIPBAKE_JSONRPC_FIFO ${str(`${runDir(r)}/kamailio_rpc.fifo`)}`,
    `#!define SIPBAKE_DS_LIST ${str(`${r}/etc/kamailio/dispatcher.list`)}`,
  ];
  if (v.tls !== undefined) {
    lines.push(`#!define SIPBAKE_TLS_CERT ${str(`${r}${v.tls.certificate}`)}`, `#!define SIPBAKE_TLS_KEY ${str(`${r}${v.tls.privateKey}`)}`);
  }
  if (v.dbUrl !== undefined) lines.push(`#!define SIPBAKE_DB_URL ${str(v.dbUrl)}`);
  return `${lines.join('\n')}\n`;
}
