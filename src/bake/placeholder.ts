// The boot include used only for the bake's config check: the real one is written at boot.
// Rendered by the same pure function the agent uses, so the bake checks the config the way it will run.
// `kamailio -c` reads it as is. The start-up check in scripts/40-config.sh boots Kamailio with a copy whose
// SIPBAKE_PRIVATE_IP(_STR) is a random 127/8 address (10.0.0.1 is not bindable on the build instance) and
// whose ctl socket and JSON-RPC FIFO sit in a temporary directory; the public address only goes into
// `advertise`/`alias` and never has to be bindable. The DB URL points at a loopback PostgreSQL that is not
// there: that check loads dispatcher from an empty list file instead (see the script).
import type { ImageDefinition } from '../definition/schema.js';
import { renderBootInclude } from '../contract/boot-include.js';

const PLACEHOLDER_PRIVATE_IP = '10.0.0.1';
const PLACEHOLDER_PUBLIC_IP = '203.0.113.1';
/** Never a real credential: the bake has none, and the scan in 90-cleanup.sh runs after this file is gone. */
const PLACEHOLDER_DB_URL = 'postgres://sipbake@127.0.0.1:5432/kamailio';

export function placeholderBootInclude(image: ImageDefinition, root = ''): string {
  const postgres = image.dispatcher?.backend.type === 'postgres';
  // The defines 40-config.sh rewrites for its start-up check (SIPBAKE_PRIVATE_IP, SIPBAKE_PRIVATE_IP_STR,
  // SIPBAKE_CTL_SOCK, SIPBAKE_JSONRPC_FIFO, SIPBAKE_TLS_*) must stay one `#!define NAME value` line each.
  return renderBootInclude({
    privateIp: PLACEHOLDER_PRIVATE_IP,
    publicIp: PLACEHOLDER_PUBLIC_IP,
    root,
    peerNet: '10.0.0.0/16',
    ...(postgres ? { dbUrl: PLACEHOLDER_DB_URL } : {}),
    ...(image.tls.enabled ? { tls: { certificate: image.tls.certificate, privateKey: image.tls.privateKey } } : {}),
  });
}
