import type { ImageDefinition } from './schema.js';
import type { RuleIssue } from './rules.js';

// Cross-field rules for media.address (docs/media.md). Pure, like rules.ts, which runs them.

export const MEDIA_RULE_SUMMARY =
  '`media.address.source` other than `signalling` needs `media.rtpproxy.enabled: true` and `advertise.source: elastic-ip` (signalling through the NLB, media straight to the instance); `elastic-ip-pool` needs `media.address.pool`, and `pool` needs that source.';

/** Why an instance's own media address needs signalling on the NLB's Elastic IP, per advertise.source. */
const BESIDE: Record<Exclude<ImageDefinition['advertise']['source'], 'elastic-ip'>, string> = {
  'instance-public-ipv4':
    "signalling already goes to the instance's own public IPv4; an Elastic IP associated with the instance would replace that address under Kamailio",
  'private-ipv4': 'advertise.source private-ipv4 means instances without a public address (private subnets): RTP from outside could not reach them',
};

export function mediaAddressRules(img: ImageDefinition): RuleIssue[] {
  const a = img.media.address;
  const out: RuleIssue[] = [];
  if (a.source === 'elastic-ip-pool' && a.pool === undefined)
    out.push({
      path: ['media', 'address', 'source'],
      message: 'elastic-ip-pool needs the pool to claim from',
      got: '"elastic-ip-pool"',
      fix: 'add media.address.pool: the value of the sipbake:media-pool tag on the Elastic IPs (sipbake infra creates them with it)',
    });
  if (a.source !== 'elastic-ip-pool' && a.pool !== undefined)
    out.push({
      path: ['media', 'address', 'pool'],
      message: `is only used with source: elastic-ip-pool, but source is ${a.source}`,
      got: JSON.stringify(a.pool),
      fix: 'set media.address.source: elastic-ip-pool, or remove pool',
    });
  if (a.source === 'signalling') return out;
  if (!img.media.rtpproxy.enabled)
    out.push({
      path: ['media', 'address', 'source'],
      message: `${a.source} puts media on the instance's own address, but media.rtpproxy.enabled is false: Kamailio anchors no media, so no SDP carries that address`,
      got: JSON.stringify(a.source),
      fix: 'set media.rtpproxy.enabled: true, or remove media.address',
    });
  if (img.advertise.source !== 'elastic-ip')
    out.push({
      path: ['media', 'address', 'source'],
      message: `${a.source} needs signalling on the NLB's Elastic IP (advertise.source: elastic-ip): ${BESIDE[img.advertise.source]}`,
      got: JSON.stringify(a.source),
      fix: "set advertise.source: elastic-ip with the NLB's address, or media.address.source: signalling",
    });
  return out;
}
