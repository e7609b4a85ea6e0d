// The boot include used only for `kamailio -c` during the bake: the real one is written at boot.
// Rendered by the same pure function the agent uses, so the bake checks the config the way it will run.
import type { ImageDefinition } from '../definition/schema.js';
import { renderBootInclude } from '../contract/boot-include.js';

const PLACEHOLDER_PRIVATE_IP = '10.0.0.1';
const PLACEHOLDER_PUBLIC_IP = '203.0.113.1';
/** Never a real credential: the bake has none, and the scan in 90-cleanup.sh runs after this file is gone. */
const PLACEHOLDER_DB_URL = 'postgres://sipbake@127.0.0.1:5432/kamailio';

export function placeholderBootInclude(image: ImageDefinition, root = ''): string {
  const postgres = image.dispatcher?.backend.type === 'postgres';
  return renderBootInclude({
    privateIp: PLACEHOLDER_PRIVATE_IP,
    publicIp: PLACEHOLDER_PUBLIC_IP,
    root,
    peerNet: '10.0.0.0/16',
    ...(postgres ? { dbUrl: PLACEHOLDER_DB_URL } : {}),
    ...(image.tls.enabled ? { tls: { certificate: image.tls.certificate, privateKey: image.tls.privateKey } } : {}),
  });
}
